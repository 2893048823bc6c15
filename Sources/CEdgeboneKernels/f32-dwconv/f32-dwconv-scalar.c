// Float depthwise convolution and bias+activation, portable reference build.
#include <CEdgeboneKernels.h>
#define EB_NAME(name) name##__scalar
#include "f32-dwconv-body.h"
