// Packs depthwise weights per channel tile: int32 bias (zero-point correction folded), the taps in
// the element width the kernel multiplies with, fp32 scales.
#include <CEdgeboneKernels.h>
#include <string.h>

size_t eb_qs8_dwconv_packed_size(const eb_dwconv_packing* pk, size_t c, size_t taps) {
  const size_t tiles = (c + pk->ct - 1) / pk->ct;
  return tiles * pk->ct * (sizeof(int32_t) + taps * pk->welem + sizeof(float));
}

void eb_qs8_dwconv_pack(const eb_dwconv_packing* pk, size_t c, size_t taps, const int8_t* w,
                        const int32_t* bias, const float* scale, int32_t x_zero_point, void* out) {
  uint8_t* p = (uint8_t*)out;
  for (size_t c0 = 0; c0 < c; c0 += pk->ct) {
    for (size_t j = 0; j < pk->ct; j++) {
      int32_t v = 0;
      if (c0 + j < c) {
        int32_t sum = 0;
        for (size_t t = 0; t < taps; t++) sum += w[t * c + c0 + j];
        v = (bias != NULL ? bias[c0 + j] : 0) - x_zero_point * sum;
      }
      memcpy(p, &v, 4);
      p += 4;
    }
    for (size_t t = 0; t < taps; t++) {
      for (size_t j = 0; j < pk->ct; j++) {
        const int8_t v = c0 + j < c ? w[t * c + c0 + j] : 0;
        if (pk->welem == 1) {
          *p = (uint8_t)v;
        } else if (pk->welem == 2) {
          const int16_t v16 = v;
          memcpy(p, &v16, 2);
        } else {
          const uint32_t v32 = (uint16_t)(int16_t)v;
          memcpy(p, &v32, 4);
        }
        p += pk->welem;
      }
    }
    for (size_t j = 0; j < pk->ct; j++) {
      const float s = c0 + j < c ? scale[c0 + j] : 0.0f;
      memcpy(p, &s, 4);
      p += 4;
    }
  }
}
