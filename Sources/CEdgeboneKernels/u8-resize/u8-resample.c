// Separable uint8 RGB resampling with fixed-point coefficients. Coefficients and rounding follow
// Pillow's 8-bit resampler (support scaled on downscale, 22-bit precision, clip), so an image
// resized here equals Image.resize(..., BICUBIC/BILINEAR) pixel for pixel.
#include <CEdgeboneKernels.h>
#include <math.h>
#include <string.h>

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

// Scalar passes: the reference for the SIMD ones below (integer arithmetic, so any summation order
// gives the same sums; clip8(v) == clamp(v >> 22, 0, 255)).
static void eb_resample_h_scalar(const uint8_t* row, uint8_t* dst, size_t x0, size_t x1,
                                 const int32_t* bounds, const int32_t* coeffs, size_t ksize) {
  for (size_t xx = x0; xx < x1; xx++) {
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

static void eb_resample_v_scalar(const uint8_t* in, size_t stride, uint8_t* dst, size_t i0, size_t i1,
                                 int32_t ymin, int32_t ymax, const int32_t* k) {
  for (size_t i = i0; i < i1; i++) {
    int32_t s = 1 << (EB_RESAMPLE_PRECISION - 1);
    for (int32_t y = 0; y < ymax; y++) s += in[(size_t)(y + ymin) * stride + i] * k[y];
    dst[i] = eb_clip8(s);
  }
}

// SIMD horizontal passes load 4 bytes per tap (a pixel and the next one's first byte) and store 4
// bytes per output pixel (the fourth lands where the next output pixel goes), so they take the
// leading output pixels whose windows end before the row's last pixel, never the row's last output
// pixel; the scalar pass does the rest. Windows only move right, so that is all but the last few.
static size_t eb_resample_h_simd_end(const int32_t* bounds, size_t in_w, size_t out_w) {
  size_t end = 0;
  while (end + 1 < out_w && (size_t)(bounds[end * 2] + bounds[end * 2 + 1]) < in_w) end++;
  return end;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define EB_RS_TARGET __attribute__((target("avx2")))

// One output pixel's three channels in the low lanes of a 128-bit vector: each tap's 4 bytes are
// widened and multiplied by the tap's coefficient (the fourth lane is never stored).
EB_RS_TARGET static void eb_resample_h_avx2(const uint8_t* row, uint8_t* dst, size_t x1, const int32_t* bounds,
                                            const int32_t* coeffs, size_t ksize) {
  const __m128i half = _mm_set1_epi32(1 << (EB_RESAMPLE_PRECISION - 1));
  for (size_t xx = 0; xx < x1; xx++) {
    const int32_t xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1];
    const int32_t* k = coeffs + xx * ksize;
    const uint8_t* p = row + (size_t)xmin * 3;
    __m128i acc = half;
    for (int32_t x = 0; x < xmax; x++) {
      int32_t v;
      memcpy(&v, p + (size_t)x * 3, 4);
      acc = _mm_add_epi32(acc, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v)), _mm_set1_epi32(k[x])));
    }
    const __m128i b = _mm_packus_epi16(_mm_packs_epi32(_mm_srai_epi32(acc, EB_RESAMPLE_PRECISION), acc), acc);
    const int32_t out4 = _mm_cvtsi128_si32(b);
    memcpy(dst + xx * 3, &out4, 4);
  }
}

// 16 bytes of a row at a time: widened to 16 int32 lanes (two ymm), one multiply-add per tap.
EB_RS_TARGET static void eb_resample_v_avx2(const uint8_t* in, size_t stride, uint8_t* dst, int32_t ymin,
                                            int32_t ymax, const int32_t* k) {
  const __m256i half = _mm256_set1_epi32(1 << (EB_RESAMPLE_PRECISION - 1));
  size_t i = 0;
  for (; i + 16 <= stride; i += 16) {
    __m256i a0 = half, a1 = half;
    for (int32_t y = 0; y < ymax; y++) {
      const __m128i v = _mm_loadu_si128((const __m128i*)(in + (size_t)(y + ymin) * stride + i));
      const __m256i ky = _mm256_set1_epi32(k[y]);
      a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(v), ky));
      a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)), ky));
    }
    a0 = _mm256_srai_epi32(a0, EB_RESAMPLE_PRECISION);
    a1 = _mm256_srai_epi32(a1, EB_RESAMPLE_PRECISION);
    // packs work per 128-bit lane: [a0 lo, a1 lo | a0 hi, a1 hi] -> reorder the quarters.
    const __m256i w = _mm256_packs_epi32(a0, a1);
    const __m256i b = _mm256_packus_epi16(w, w);
    const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm_storeu_si128((__m128i*)(dst + i), _mm256_castsi256_si128(ordered));
  }
  eb_resample_v_scalar(in, stride, dst, i, stride, ymin, ymax, k);
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

static void eb_resample_h_neon(const uint8_t* row, uint8_t* dst, size_t x1, const int32_t* bounds,
                               const int32_t* coeffs, size_t ksize) {
  for (size_t xx = 0; xx < x1; xx++) {
    const int32_t xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1];
    const int32_t* k = coeffs + xx * ksize;
    const uint8_t* p = row + (size_t)xmin * 3;
    int32x4_t acc = vdupq_n_s32(1 << (EB_RESAMPLE_PRECISION - 1));
    for (int32_t x = 0; x < xmax; x++) {
      uint32_t v;
      memcpy(&v, p + (size_t)x * 3, 4);
      const int32x4_t px = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vcreate_u8(v)))));
      acc = vmlaq_n_s32(acc, px, k[x]);
    }
    const int16x4_t n16 = vqmovn_s32(vshrq_n_s32(acc, EB_RESAMPLE_PRECISION));
    const uint8x8_t b = vqmovun_s16(vcombine_s16(n16, n16));
    uint32_t out4 = vget_lane_u32(vreinterpret_u32_u8(b), 0);
    memcpy(dst + xx * 3, &out4, 4);
  }
}

static void eb_resample_v_neon(const uint8_t* in, size_t stride, uint8_t* dst, int32_t ymin, int32_t ymax,
                               const int32_t* k) {
  size_t i = 0;
  for (; i + 8 <= stride; i += 8) {
    int32x4_t a0 = vdupq_n_s32(1 << (EB_RESAMPLE_PRECISION - 1)), a1 = a0;
    for (int32_t y = 0; y < ymax; y++) {
      const uint16x8_t v = vmovl_u8(vld1_u8(in + (size_t)(y + ymin) * stride + i));
      a0 = vmlaq_n_s32(a0, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(v))), k[y]);
      a1 = vmlaq_n_s32(a1, vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(v))), k[y]);
    }
    const int16x8_t n16 = vcombine_s16(vqmovn_s32(vshrq_n_s32(a0, EB_RESAMPLE_PRECISION)),
                                       vqmovn_s32(vshrq_n_s32(a1, EB_RESAMPLE_PRECISION)));
    vst1_u8(dst + i, vqmovun_s16(n16));
  }
  eb_resample_v_scalar(in, stride, dst, i, stride, ymin, ymax, k);
}
#endif

void eb_u8_resample_horizontal(const uint8_t* in, size_t rows, size_t in_w, uint8_t* out,
                               size_t out_w, const int32_t* bounds, const int32_t* coeffs,
                               size_t ksize, int isa) {
  size_t simd_end = 0;  // output pixels [0, simd_end) go through the SIMD pass, if any
#if defined(__x86_64__)
  if (isa >= EB_ISA_AVX2) simd_end = eb_resample_h_simd_end(bounds, in_w, out_w);
#elif defined(__aarch64__)
  if (isa >= EB_ISA_NEON) simd_end = eb_resample_h_simd_end(bounds, in_w, out_w);
#else
  (void)isa;
#endif
  for (size_t y = 0; y < rows; y++) {
    const uint8_t* row = in + y * in_w * 3;
    uint8_t* dst = out + y * out_w * 3;
#if defined(__x86_64__)
    if (simd_end > 0) eb_resample_h_avx2(row, dst, simd_end, bounds, coeffs, ksize);
#elif defined(__aarch64__)
    if (simd_end > 0) eb_resample_h_neon(row, dst, simd_end, bounds, coeffs, ksize);
#endif
    eb_resample_h_scalar(row, dst, simd_end, out_w, bounds, coeffs, ksize);
  }
}

void eb_u8_resample_vertical(const uint8_t* in, size_t w, uint8_t* out, size_t out_h,
                             const int32_t* bounds, const int32_t* coeffs, size_t ksize, int isa) {
  const size_t stride = w * 3;
  for (size_t yy = 0; yy < out_h; yy++) {
    const int32_t ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1];
    const int32_t* k = coeffs + yy * ksize;
    uint8_t* dst = out + yy * stride;
#if defined(__x86_64__)
    if (isa >= EB_ISA_AVX2) { eb_resample_v_avx2(in, stride, dst, ymin, ymax, k); continue; }
#elif defined(__aarch64__)
    if (isa >= EB_ISA_NEON) { eb_resample_v_neon(in, stride, dst, ymin, ymax, k); continue; }
#endif
    eb_resample_v_scalar(in, stride, dst, 0, stride, ymin, ymax, k);
  }
}
