// Float transformer kernels, avx2 build of the same body.
#include <CEdgeboneKernels.h>
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx2
#include "f32-transformer-body.h"
#pragma clang attribute pop
#endif
