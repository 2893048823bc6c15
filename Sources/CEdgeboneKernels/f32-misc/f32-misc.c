// Small float helpers of the float path: add, pooling, im2col.
#include <CEdgeboneKernels.h>

void eb_f32_vadd(const float* a, const float* b, float* y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void eb_f32_mul_channels(const float* x, const float* gate, float* y, size_t rows, size_t c) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (size_t j = 0; j < c; j++) yr[j] = xr[j] * gate[j];
  }
}

void eb_u8_f32_normalize_rgb(const uint8_t* p, float* y, size_t n, const float* scale, const float* offset) {
  const float s0 = scale[0], s1 = scale[1], s2 = scale[2], o0 = offset[0], o1 = offset[1], o2 = offset[2];
  for (size_t i = 0; i < n; i++) {
    y[3 * i] = (float)p[3 * i] * s0 + o0;
    y[3 * i + 1] = (float)p[3 * i + 1] * s1 + o1;
    y[3 * i + 2] = (float)p[3 * i + 2] * s2 + o2;
  }
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
