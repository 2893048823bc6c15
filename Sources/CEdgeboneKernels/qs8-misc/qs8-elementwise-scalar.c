// Elementwise int8 kernels (add, channel scale, global average pool, LUT): scalar build of the shared body.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#define EB_NAME(name) name##__scalar
#include "qs8-elementwise-body.h"

void eb_qs8_gavgpool_finish(size_t c, size_t parts, int32_t* acc, int8_t* y, const eb_qs8_gavgpool_params* p) {
  for (size_t t = 1; t < parts; t++) {
    const int32_t* part = acc + t * c;
    for (size_t j = 0; j < c; j++) acc[j] += part[j];
  }
  eb_gavgpool_requant__scalar(c, acc, y, p);
}
