// Float transformer kernels (LayerNorm, GELU, window attention), NEON build of the same body (AArch64: AdvSIMD is baseline, 4 floats a vector, fused
// multiply-add).
#include <CEdgeboneKernels.h>
#if defined(__aarch64__)
#define EB_NAME(name) name##__neon
#define EB_NEON 1
#include "f32-transformer-body.h"
#endif
