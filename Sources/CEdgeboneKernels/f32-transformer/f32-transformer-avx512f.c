// Float transformer kernels, avx512f build of the same body.
#include <CEdgeboneKernels.h>
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx512f
#define EB_ATT_LANES 32  // attention blocks of 4 rows × 2 zmm: eight independent accumulators
#include "f32-transformer-body.h"
#pragma clang attribute pop
#endif
