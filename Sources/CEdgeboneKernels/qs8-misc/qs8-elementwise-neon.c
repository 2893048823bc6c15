// Elementwise int8 kernels (add, channel scale, global average pool, LUT): neon build of the shared body.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__aarch64__)
#define EB_NAME(name) name##__neon
#include "qs8-elementwise-body.h"
#endif
