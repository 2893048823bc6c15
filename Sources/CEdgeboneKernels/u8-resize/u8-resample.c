// Separable uint8 RGB resampling with fixed-point coefficients. Coefficients and rounding follow
// Pillow's 8-bit resampler (support scaled on downscale, 22-bit precision, clip), so an image
// resized here equals Image.resize(..., BICUBIC/BILINEAR) pixel for pixel.
#include <CEdgeboneKernels.h>
#include <math.h>

#define EB_RESAMPLE_PRECISION 22

static double eb_filter(int filter, double x) {
  if (x < 0.0) x = -x;
  if (filter == EB_FILTER_BICUBIC) {
    const double a = -0.5;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
  }
  return x < 1.0 ? 1.0 - x : 0.0;
}

static double eb_filter_support(int filter) { return filter == EB_FILTER_BICUBIC ? 2.0 : 1.0; }

size_t eb_resample_ksize_max(size_t in_size, double box0, double box1, size_t out_size,
                             int filter) {
  (void)in_size;
  double filterscale = (box1 - box0) / (double)out_size;
  if (filterscale < 1.0) filterscale = 1.0;
  const double support = eb_filter_support(filter) * filterscale;
  return (size_t)ceil(support) * 2 + 1;
}

size_t eb_resample_coeffs(size_t in_size, double box0, double box1, size_t out_size, int filter,
                          int32_t* bounds, int32_t* coeffs, size_t capacity) {
  // Pillow keeps the box in single precision; do the same so centers round identically.
  const float in0 = (float)box0, in1 = (float)box1;
  const double scale = (double)(in1 - in0) / (double)out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = eb_filter_support(filter) * filterscale;
  const size_t ksize = (size_t)ceil(support) * 2 + 1;
  if (ksize * out_size > capacity) return 0;
  const double ss = 1.0 / filterscale;
  for (size_t xx = 0; xx < out_size; xx++) {
    const double center = in0 + ((double)xx + 0.5) * scale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > (int)in_size) xmax = (int)in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) ww += eb_filter(filter, ((double)(x + xmin) - center + 0.5) * ss);
    int32_t* k = coeffs + xx * ksize;
    for (int x = 0; x < (int)ksize; x++) {
      double v = 0.0;
      if (x < xmax) {
        v = eb_filter(filter, ((double)(x + xmin) - center + 0.5) * ss);
        if (ww != 0.0) v /= ww;
      }
      const double fixed = v * (double)(1 << EB_RESAMPLE_PRECISION);
      k[x] = (int32_t)(v < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    bounds[xx * 2 + 0] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return ksize;
}

static inline uint8_t eb_clip8(int32_t v) {
  if (v >= (1 << EB_RESAMPLE_PRECISION << 8)) return 255;
  if (v <= 0) return 0;
  return (uint8_t)(v >> EB_RESAMPLE_PRECISION);
}

void eb_u8_resample_horizontal(const uint8_t* in, size_t rows, size_t in_w, uint8_t* out,
                               size_t out_w, const int32_t* bounds, const int32_t* coeffs,
                               size_t ksize) {
  for (size_t y = 0; y < rows; y++) {
    const uint8_t* row = in + y * in_w * 3;
    uint8_t* dst = out + y * out_w * 3;
    for (size_t xx = 0; xx < out_w; xx++) {
      const int32_t xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1];
      const int32_t* k = coeffs + xx * ksize;
      int32_t s0 = 1 << (EB_RESAMPLE_PRECISION - 1), s1 = s0, s2 = s0;
      for (int32_t x = 0; x < xmax; x++) {
        const uint8_t* p = row + (size_t)(x + xmin) * 3;
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[xx * 3 + 0] = eb_clip8(s0);
      dst[xx * 3 + 1] = eb_clip8(s1);
      dst[xx * 3 + 2] = eb_clip8(s2);
    }
  }
}

void eb_u8_resample_vertical(const uint8_t* in, size_t w, uint8_t* out, size_t out_h,
                             const int32_t* bounds, const int32_t* coeffs, size_t ksize) {
  const size_t stride = w * 3;
  for (size_t yy = 0; yy < out_h; yy++) {
    const int32_t ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1];
    const int32_t* k = coeffs + yy * ksize;
    uint8_t* dst = out + yy * stride;
    for (size_t i = 0; i < stride; i++) {
      int32_t s = 1 << (EB_RESAMPLE_PRECISION - 1);
      for (int32_t y = 0; y < ymax; y++) s += in[(size_t)(y + ymin) * stride + i] * k[y];
      dst[i] = eb_clip8(s);
    }
  }
}
