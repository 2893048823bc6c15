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

// Accumulates one output pixel over channels [c0, c0 + n) in a fixed-size block so that the
// accumulators stay in registers across all taps (n == EB_DW_BLOCK on the fast path).
#define EB_DW_BLOCK 16
static inline __attribute__((always_inline)) void EB_NAME(dwconv_pixel_block)(const float* restrict x, size_t w, size_t c, size_t c0,
                                               size_t n, const float* restrict weights,
                                               const float* restrict bias, size_t k, ptrdiff_t iy0,
                                               ptrdiff_t ix0, size_t ky0, size_t ky1, size_t kx0,
                                               size_t kx1, float* restrict out, int act) {
  float acc[EB_DW_BLOCK];
  if (n == EB_DW_BLOCK) {
    for (size_t j = 0; j < EB_DW_BLOCK; j++) acc[j] = bias[c0 + j];
    for (size_t ky = ky0; ky < ky1; ky++) {
      for (size_t kx = kx0; kx < kx1; kx++) {
        const float* restrict in = x + ((size_t)(iy0 + (ptrdiff_t)ky) * w + (size_t)(ix0 + (ptrdiff_t)kx)) * c + c0;
        const float* restrict wt = weights + (ky * k + kx) * c + c0;
        for (size_t j = 0; j < EB_DW_BLOCK; j++) acc[j] += in[j] * wt[j];
      }
    }
    for (size_t j = 0; j < EB_DW_BLOCK; j++) out[c0 + j] = eb_act_inline(acc[j], act);
    return;
  }
  for (size_t j = 0; j < n; j++) acc[j] = bias[c0 + j];
  for (size_t ky = ky0; ky < ky1; ky++) {
    for (size_t kx = kx0; kx < kx1; kx++) {
      const float* restrict in = x + ((size_t)(iy0 + (ptrdiff_t)ky) * w + (size_t)(ix0 + (ptrdiff_t)kx)) * c + c0;
      const float* restrict wt = weights + (ky * k + kx) * c + c0;
      for (size_t j = 0; j < n; j++) acc[j] += in[j] * wt[j];
    }
  }
  for (size_t j = 0; j < n; j++) out[c0 + j] = eb_act_inline(acc[j], act);
}

#define EB_DW_DISPATCH_ACT(ACT)                                                                   \
  if (c % EB_DW_BLOCK == 0) {                                                                     \
    for (size_t c0 = 0; c0 < c; c0 += EB_DW_BLOCK)                                                \
      EB_NAME(dwconv_pixel_block)(x, w, c, c0, EB_DW_BLOCK, weights, bias, k, iy0, ix0, ky0, ky1, \
                                  kx0, kx1, out, ACT);                                            \
  } else {                                                                                        \
    for (size_t c0 = 0; c0 < c; c0 += EB_DW_BLOCK) {                                              \
      const size_t n = c - c0 < EB_DW_BLOCK ? c - c0 : EB_DW_BLOCK;                               \
      EB_NAME(dwconv_pixel_block)(x, w, c, c0, n, weights, bias, k, iy0, ix0, ky0, ky1, kx0, kx1, \
                                  out, ACT);                                                      \
    }                                                                                             \
  }

// Interior pixels (every tap inside the image) with the kernel size K known at compile time: taps
// fully unrolled, no bounds, NP output pixels x NB channels per pass (up to 2 x 64: eight
// independent accumulator chains, enough to hide the multiply-add latency). Same summation order
// as the general path: bias, then the taps row by row.
#define EB_DW_TILE(K, NB, NP)                                                                      \
  static inline __attribute__((always_inline)) void EB_NAME(dw_tile_##K##_##NB##_##NP)(            \
      const float* restrict in, size_t c, size_t pix, size_t row, const float* restrict wt,       \
      const float* restrict bias, float* restrict out, int act) {                                \
    float acc[NP][NB];                                                                            \
    for (size_t p = 0; p < NP; p++)                                                               \
      for (size_t j = 0; j < NB; j++) acc[p][j] = bias[j];                                        \
    for (size_t ky = 0; ky < K; ky++) {                                                           \
      for (size_t kx = 0; kx < K; kx++) {                                                         \
        const float* restrict wk = wt + (ky * K + kx) * c;                                        \
        for (size_t p = 0; p < NP; p++) {                                                         \
          const float* restrict ip = in + p * pix + ky * row + kx * c;                            \
          for (size_t j = 0; j < NB; j++) acc[p][j] += ip[j] * wk[j];                             \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    for (size_t p = 0; p < NP; p++)                                                               \
      for (size_t j = 0; j < NB; j++) out[p * c + j] = eb_act_inline(acc[p][j], act);            \
  }
EB_DW_TILE(3, 64, 2) EB_DW_TILE(3, 64, 1) EB_DW_TILE(3, 16, 2) EB_DW_TILE(3, 16, 1)
EB_DW_TILE(5, 64, 2) EB_DW_TILE(5, 64, 1) EB_DW_TILE(5, 16, 2) EB_DW_TILE(5, 16, 1)

// NP interior pixels starting at input (iy0, ix0), all channels: 64- then 16-channel tiles, and the
// general block for a last partial one.
#define EB_DW_INTERIOR(K, NP)                                                                      \
  static inline __attribute__((always_inline)) void EB_NAME(dw_interior_##K##_##NP)(              \
      const float* x, size_t w, size_t c, size_t stride, const float* weights, const float* bias, \
      ptrdiff_t iy0, ptrdiff_t ix0, float* out, int act) {                                       \
    const float* in = x + ((size_t)iy0 * w + (size_t)ix0) * c;                                    \
    size_t c0 = 0;                                                                                \
    for (; c0 + 64 <= c; c0 += 64)                                                                \
      EB_NAME(dw_tile_##K##_64_##NP)(in + c0, c, stride * c, w * c, weights + c0, bias + c0, out + c0, act); \
    for (; c0 + 16 <= c; c0 += 16)                                                                \
      EB_NAME(dw_tile_##K##_16_##NP)(in + c0, c, stride * c, w * c, weights + c0, bias + c0, out + c0, act); \
    if (c0 < c) {                                                                                 \
      for (size_t p = 0; p < NP; p++)                                                             \
        EB_NAME(dwconv_pixel_block)(x, w, c, c0, c - c0, weights, bias, K, iy0,                  \
                                    ix0 + (ptrdiff_t)(p * stride), 0, K, 0, K, out + p * c, act); \
    }                                                                                             \
  }
EB_DW_INTERIOR(3, 2) EB_DW_INTERIOR(3, 1) EB_DW_INTERIOR(5, 2) EB_DW_INTERIOR(5, 1)

// One output row [ox_lo, ox_hi) whose pixels are all interior, for kernel K and activation act.
#define EB_DW_INTERIOR_ROW(K)                                                                      \
  static inline __attribute__((always_inline)) void EB_NAME(dw_row_##K)(                          \
      const float* x, size_t w, size_t c, size_t stride, const float* weights, const float* bias, \
      ptrdiff_t iy0, size_t pad_left, size_t ox_lo, size_t ox_hi, float* yrow, int act) {        \
    size_t ox = ox_lo;                                                                            \
    for (; ox + 2 <= ox_hi; ox += 2)                                                              \
      EB_NAME(dw_interior_##K##_2)(x, w, c, stride, weights, bias, iy0,                          \
                                   (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left, yrow + ox * c, act); \
    if (ox < ox_hi)                                                                               \
      EB_NAME(dw_interior_##K##_1)(x, w, c, stride, weights, bias, iy0,                          \
                                   (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left, yrow + ox * c, act); \
  }
EB_DW_INTERIOR_ROW(3) EB_DW_INTERIOR_ROW(5)

// The interior of output row oy for k = 3 or 5 with a constant activation (so each epilogue
// vectorizes); returns 0 for other kernel sizes.
static int EB_NAME(dw_interior_row)(const float* x, size_t w, size_t c, size_t k, size_t stride,
                                    const float* weights, const float* bias, ptrdiff_t iy0,
                                    size_t pad_left, size_t ox_lo, size_t ox_hi, float* yrow, int act) {
#define EB_DW_ROW_ACT(K, A) EB_NAME(dw_row_##K)(x, w, c, stride, weights, bias, iy0, pad_left, ox_lo, ox_hi, yrow, A)
#define EB_DW_ROW_K(K)                      \
  switch (act) {                            \
    case 1: EB_DW_ROW_ACT(K, 1); break;     \
    case 2: EB_DW_ROW_ACT(K, 2); break;     \
    case 3: EB_DW_ROW_ACT(K, 3); break;     \
    case 4: EB_DW_ROW_ACT(K, 4); break;     \
    default: EB_DW_ROW_ACT(K, 0); break;    \
  }
  if (k == 3) {
    EB_DW_ROW_K(3)
    return 1;
  }
  if (k == 5) {
    EB_DW_ROW_K(5)
    return 1;
  }
  return 0;
#undef EB_DW_ROW_K
#undef EB_DW_ROW_ACT
}

void EB_NAME(eb_f32_dwconv_ukernel)(const float* x, size_t h, size_t w, size_t c,
                                    const float* weights, const float* bias, size_t k,
                                    size_t stride, size_t pad_top, size_t pad_left, float* y,
                                    size_t oh, size_t ow, int act) {
  // Output columns whose taps all lie inside the row: ox * stride - pad_left >= 0 and
  // ox * stride - pad_left + k <= w.
  const size_t ox_lo = (pad_left + stride - 1) / stride;
  const size_t ox_hi_raw = w + pad_left >= k ? (w + pad_left - k) / stride + 1 : 0;
  const size_t ox_hi = ox_hi_raw < ow ? ox_hi_raw : ow;
  for (size_t oy = 0; oy < oh; oy++) {
    // Valid kernel rows for this output row.
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    const size_t ky0 = iy0 < 0 ? (size_t)(-iy0) : 0;
    size_t ky1 = k;
    if (iy0 + (ptrdiff_t)k > (ptrdiff_t)h) ky1 = (size_t)((ptrdiff_t)h - iy0);
    const int row_inside = ky0 == 0 && ky1 == k && ox_lo < ox_hi;
    for (size_t ox = 0; ox < ow; ox++) {
      if (row_inside && ox == ox_lo &&
          EB_NAME(dw_interior_row)(x, w, c, k, stride, weights, bias, iy0, pad_left, ox_lo, ox_hi,
                                   y + oy * ow * c, act)) {
        ox = ox_hi - 1;
        continue;
      }
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      const size_t kx0 = ix0 < 0 ? (size_t)(-ix0) : 0;
      size_t kx1 = k;
      if (ix0 + (ptrdiff_t)k > (ptrdiff_t)w) kx1 = (size_t)((ptrdiff_t)w - ix0);
      float* restrict out = y + (oy * ow + ox) * c;
      // Constant activation per call site so each epilogue vectorizes.
      switch (act) {
        case 1: EB_DW_DISPATCH_ACT(1) break;
        case 2: EB_DW_DISPATCH_ACT(2) break;
        case 3: EB_DW_DISPATCH_ACT(3) break;
        case 4: EB_DW_DISPATCH_ACT(4) break;
        default: EB_DW_DISPATCH_ACT(0) break;
      }
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

void EB_NAME(eb_f32_squeeze_excite_ukernel)(float* x, size_t rows, size_t c, const float* w_reduce,
                                            const float* b_reduce, size_t rd,
                                            const float* w_expand, const float* b_expand, int act,
                                            float* scratch) {
  float* restrict pooled = scratch;
  float* restrict reduced = scratch + c;
  float* restrict gate = reduced + rd;
  for (size_t j = 0; j < c; j++) pooled[j] = 0.0f;
  for (size_t r = 0; r < rows; r++) {
    const float* restrict row = x + r * c;
    for (size_t j = 0; j < c; j++) pooled[j] += row[j];
  }
  const float inv = 1.0f / (float)rows;
  for (size_t j = 0; j < c; j++) pooled[j] *= inv;
  for (size_t i = 0; i < rd; i++) {
    const float* restrict wr = w_reduce + i * c;
    float acc = 0.0f;
    for (size_t j = 0; j < c; j++) acc += pooled[j] * wr[j];
    reduced[i] = b_reduce[i] + acc;
  }
  EB_NAME(dwconv_act_row)(reduced, rd, act);
  for (size_t j = 0; j < c; j++) {
    const float* restrict we = w_expand + j * rd;
    float acc = 0.0f;
    for (size_t i = 0; i < rd; i++) acc += reduced[i] * we[i];
    gate[j] = b_expand[j] + acc;
  }
  EB_NAME(dwconv_act_row)(gate, c, 4);
  for (size_t r = 0; r < rows; r++) {
    float* restrict row = x + r * c;
    for (size_t j = 0; j < c; j++) row[j] *= gate[j];
  }
}

void EB_NAME(eb_f32_conv_hwio_ukernel)(const float* x, size_t h, size_t w, size_t cin,
                                       const float* weights, const float* bias, size_t cout,
                                       size_t k, size_t stride, size_t pad_top, size_t pad_left,
                                       float* y, size_t oh, size_t ow, int act) {
  typedef float v16 __attribute__((vector_size(64), aligned(4)));
  for (size_t oy = 0; oy < oh; oy++) {
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    for (size_t ox = 0; ox < ow; ox++) {
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      float* restrict out = y + (oy * ow + ox) * cout;
      const int inside = iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h && ix0 >= 0 && ix0 + (ptrdiff_t)k <= (ptrdiff_t)w;
      for (size_t o0 = 0; o0 < cout; o0 += 16) {
        const size_t n = cout - o0 < 16 ? cout - o0 : 16;
        v16 acc;
        if (n == 16 && inside) {
          // Whole window inside, 16 full output channels: no bounds, no staging copies.
          memcpy(&acc, bias + o0, sizeof acc);
          for (size_t ky = 0; ky < k; ky++) {
            const float* restrict in = x + ((size_t)(iy0 + (ptrdiff_t)ky) * w + (size_t)ix0) * cin;
            const float* restrict wt = weights + ky * k * cin * cout + o0;
            for (size_t i = 0; i < k * cin; i++) {
              v16 wvec;
              memcpy(&wvec, wt + i * cout, sizeof wvec);
              acc += in[i] * wvec;
            }
          }
          memcpy(out + o0, &acc, sizeof acc);
          continue;
        }
        float init[16] = {0};
        memcpy(init, bias + o0, n * sizeof(float));
        memcpy(&acc, init, sizeof acc);
        for (size_t ky = 0; ky < k; ky++) {
          const ptrdiff_t iy = iy0 + (ptrdiff_t)ky;
          if (iy < 0 || iy >= (ptrdiff_t)h) continue;
          for (size_t kx = 0; kx < k; kx++) {
            const ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
            if (ix < 0 || ix >= (ptrdiff_t)w) continue;
            const float* restrict in = x + ((size_t)iy * w + (size_t)ix) * cin;
            const float* restrict wt = weights + (ky * k + kx) * cin * cout + o0;
            for (size_t i = 0; i < cin; i++) {
              float wv[16] = {0};
              memcpy(wv, wt + i * cout, n * sizeof(float));
              v16 wvec;
              memcpy(&wvec, wv, sizeof wvec);
              acc += in[i] * wvec;
            }
          }
        }
        float res[16];
        memcpy(res, &acc, sizeof res);
        memcpy(out + o0, res, n * sizeof(float));
      }
      EB_NAME(dwconv_act_row)(out, cout, act);
    }
  }
}
