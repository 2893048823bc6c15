// Body of the float depthwise convolution, compiled once per ISA by the including file, which
// defines EB_NAME(name) to append its ISA suffix. Channels are the inner, contiguous loop.
#include "../f32-misc/f32-math.h"

static void EB_NAME(dwconv_act_row)(float* y, size_t c, int act) {
  switch (act) {
    case 1: for (size_t j = 0; j < c; j++) y[j] = eb_act_inline(y[j], 1); break;
    case 2: for (size_t j = 0; j < c; j++) y[j] = eb_act_inline(y[j], 2); break;
    case 3: for (size_t j = 0; j < c; j++) y[j] = eb_act_inline(y[j], 3); break;
    case 4: for (size_t j = 0; j < c; j++) y[j] = eb_act_inline(y[j], 4); break;
    default: break;
  }
}

void EB_NAME(eb_f32_dwconv_ukernel)(const float* x, size_t h, size_t w, size_t c,
                                    const float* weights, const float* bias, size_t k,
                                    size_t stride, size_t pad_top, size_t pad_left, float* y,
                                    size_t oh, size_t ow, int act) {
  for (size_t oy = 0; oy < oh; oy++) {
    // Valid kernel rows for this output row.
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    const size_t ky0 = iy0 < 0 ? (size_t)(-iy0) : 0;
    size_t ky1 = k;
    if (iy0 + (ptrdiff_t)k > (ptrdiff_t)h) ky1 = (size_t)((ptrdiff_t)h - iy0);
    for (size_t ox = 0; ox < ow; ox++) {
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      const size_t kx0 = ix0 < 0 ? (size_t)(-ix0) : 0;
      size_t kx1 = k;
      if (ix0 + (ptrdiff_t)k > (ptrdiff_t)w) kx1 = (size_t)((ptrdiff_t)w - ix0);
      float* restrict out = y + (oy * ow + ox) * c;
      for (size_t j = 0; j < c; j++) out[j] = bias[j];
      for (size_t ky = ky0; ky < ky1; ky++) {
        const float* restrict in_row = x + ((size_t)(iy0 + (ptrdiff_t)ky) * w) * c;
        for (size_t kx = kx0; kx < kx1; kx++) {
          const float* restrict in = in_row + (size_t)(ix0 + (ptrdiff_t)kx) * c;
          const float* restrict wt = weights + (ky * k + kx) * c;
          for (size_t j = 0; j < c; j++) out[j] += in[j] * wt[j];
        }
      }
      EB_NAME(dwconv_act_row)(out, c, act);
    }
  }
}

void EB_NAME(eb_f32_bias_act_ukernel)(float* y, size_t rows, size_t channels, const float* bias,
                                      int act) {
  for (size_t r = 0; r < rows; r++) {
    float* restrict row = y + r * channels;
    if (bias != NULL) {
      for (size_t j = 0; j < channels; j++) row[j] += bias[j];
    }
    EB_NAME(dwconv_act_row)(row, channels, act);
  }
}
