// Reference int8 depthwise convolution, plain C, 4-channel tiles of int8 weights.
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

void eb_qs8_qc8w_dwconv_fp32_ukernel_4c__scalar(const int8_t* x, size_t h, size_t w, size_t c,
                                               const void* packed, size_t k, size_t stride,
                                               size_t pad_top, size_t pad_left, int8_t* y,
                                               size_t oh, size_t ow, size_t oy0, size_t oy1,
                                               const int8_t* zero_row,
                                               const eb_qs8_requant_params* params) {
  (void)oh;
  const int8_t* taps[25];
  const size_t kk = k * k, tile = 4 * 4 + kk * 4 + 4 * 4;
  for (size_t oy = oy0; oy < oy1; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
      int8_t* out = y + (oy * ow + ox) * c;
      const uint8_t* p = (const uint8_t*)packed;
      for (size_t c0 = 0; c0 < c; c0 += 4, p += tile) {
        int32_t acc[4];
        float scale[4];
        memcpy(acc, p, sizeof acc);
        memcpy(scale, p + 16 + kk * 4, sizeof scale);
        const int8_t* wt = (const int8_t*)(p + 16);
        for (size_t t = 0; t < kk; t++)
          for (size_t j = 0; j < 4; j++) acc[j] += (int32_t)taps[t][c0 + j] * wt[t * 4 + j];
        const size_t n = c - c0 < 4 ? c - c0 : 4;
        for (size_t j = 0; j < n; j++) out[c0 + j] = eb_qs8_requantize(acc[j], scale[j], params);
      }
    }
  }
}
