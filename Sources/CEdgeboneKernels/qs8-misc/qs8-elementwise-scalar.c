// Elementwise int8 kernels (add, channel scale, global average pool, LUT): scalar build of the shared body.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#define EB_NAME(name) name##__scalar
#include "qs8-elementwise-body.h"
