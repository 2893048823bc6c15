// Float transformer kernels, avx512f build of the same body. Selected only at the avx512vnni level
// and above (ISA.swift), so it may also use VNNI: the attention's int8 dot products (EB_VNNI).
#include <CEdgeboneKernels.h>
#if defined(__x86_64__)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx512f
#define EB_ATT_LANES 32  // attention blocks of 4 rows × 2 zmm: eight independent accumulators
#define EB_VNNI 1
#include "f32-transformer-body.h"
#pragma clang attribute pop
#endif
