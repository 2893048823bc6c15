// Float depthwise convolution, dense stem convolution, bias+activation and squeeze-excite, NEON build of the same body (AArch64: AdvSIMD is baseline, 4 floats a vector, fused
// multiply-add).
#include <CEdgeboneKernels.h>
#if defined(__aarch64__)
#define EB_NAME(name) name##__neon
#include "f32-dwconv-body.h"
#endif
