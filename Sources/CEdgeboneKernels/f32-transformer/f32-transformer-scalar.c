// Float transformer kernels, portable reference build (NEON and FMA on AArch64 by default).
#include <CEdgeboneKernels.h>
#define EB_NAME(name) name##__scalar
#include "f32-transformer-body.h"
