// Float transformer kernels (LayerNorm, GELU, window attention), portable reference build.
// On AArch64 AdvSIMD is switched off here (the compiler would otherwise vectorize this build with
// NEON, as it is baseline there): this is the scalar reference the NEON build is tested against.
#include <CEdgeboneKernels.h>
#if defined(__aarch64__)
#pragma clang attribute push(__attribute__((target("+nosimd"))), apply_to = function)
#endif
#define EB_NAME(name) name##__scalar
#include "f32-transformer-body.h"
#if defined(__aarch64__)
#pragma clang attribute pop
#endif
