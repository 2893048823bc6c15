// Elementwise int8 kernels (add, channel scale, global average pool, LUT): avx512skx build of the shared body.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx512skx
#include "qs8-elementwise-body.h"
#pragma clang attribute pop
#endif
