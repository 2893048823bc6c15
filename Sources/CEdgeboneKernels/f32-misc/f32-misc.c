// Small float helpers of the float path: add, pooling, squeeze-and-excite, im2col, linear row.
#include <CEdgeboneKernels.h>
#include "f32-math.h"

void eb_f32_vadd(const float* a, const float* b, float* y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void eb_f32_global_avgpool(const float* x, size_t rows, size_t channels, float* y) {
  for (size_t j = 0; j < channels; j++) y[j] = 0.0f;
  for (size_t r = 0; r < rows; r++) {
    const float* restrict row = x + r * channels;
    for (size_t j = 0; j < channels; j++) y[j] += row[j];
  }
  const float inv = 1.0f / (float)rows;
  for (size_t j = 0; j < channels; j++) y[j] *= inv;
}

void eb_f32_linear_row(const float* x, const float* w, const float* bias, size_t k, size_t n,
                       float* y) {
  for (size_t j = 0; j < n; j++) {
    const float* restrict wr = w + j * k;
    float acc = 0.0f;
    for (size_t i = 0; i < k; i++) acc += x[i] * wr[i];
    y[j] = (bias != NULL ? bias[j] : 0.0f) + acc;
  }
}

void eb_f32_squeeze_excite(float* x, size_t rows, size_t c, const float* w_reduce,
                           const float* b_reduce, size_t rd, const float* w_expand,
                           const float* b_expand, int act, float* scratch) {
  float* pooled = scratch;
  float* reduced = scratch + c;
  float* gate = reduced + rd;
  eb_f32_global_avgpool(x, rows, c, pooled);
  eb_f32_linear_row(pooled, w_reduce, b_reduce, c, rd, reduced);
  for (size_t j = 0; j < rd; j++) reduced[j] = eb_act_inline(reduced[j], act);
  eb_f32_linear_row(reduced, w_expand, b_expand, rd, c, gate);
  for (size_t j = 0; j < c; j++) gate[j] = eb_act_inline(gate[j], EB_ACT_SIGMOID);
  for (size_t r = 0; r < rows; r++) {
    float* restrict row = x + r * c;
    for (size_t j = 0; j < c; j++) row[j] *= gate[j];
  }
}

void eb_f32_im2col(const float* x, size_t h, size_t w, size_t c, size_t k, size_t stride,
                   size_t pad_top, size_t pad_left, float* out, size_t oh, size_t ow) {
  const size_t kc = k * k * c;
  for (size_t oy = 0; oy < oh; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      float* restrict col = out + (oy * ow + ox) * kc;
      for (size_t ky = 0; ky < k; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * stride + ky) - (ptrdiff_t)pad_top;
        for (size_t kx = 0; kx < k; kx++) {
          const ptrdiff_t ix = (ptrdiff_t)(ox * stride + kx) - (ptrdiff_t)pad_left;
          float* restrict dst = col + (ky * k + kx) * c;
          if (iy < 0 || iy >= (ptrdiff_t)h || ix < 0 || ix >= (ptrdiff_t)w) {
            for (size_t j = 0; j < c; j++) dst[j] = 0.0f;
          } else {
            const float* restrict src = x + ((size_t)iy * w + (size_t)ix) * c;
            for (size_t j = 0; j < c; j++) dst[j] = src[j];
          }
        }
      }
    }
  }
}
