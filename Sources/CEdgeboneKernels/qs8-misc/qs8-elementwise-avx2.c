// Elementwise int8 kernels (add, channel scale, global average pool, LUT): avx2 build of the shared body.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx2
#include "qs8-elementwise-body.h"
#pragma clang attribute pop
#endif
