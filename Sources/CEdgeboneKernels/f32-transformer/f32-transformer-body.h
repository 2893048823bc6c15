// Body of the float transformer kernels (LayerNorm, GELU, windowed cosine attention) and of the
// precision-boundary conversions (quantize, dequantize), compiled once per ISA by the including file,
// which defines EB_NAME(name) to append its ISA suffix. Loops keep each sum in one order; the SIMD
// builds may fuse multiply-adds, so they agree with the scalar build to a few ulp (tested), not bit for
// bit. The conversions are exact in every build.
#include <math.h>
#include "../f32-misc/f32-math.h"

// What the including build may use for int8 sums: EB_VNNI (the avx512f build, selected only on AVX-512
// VNNI cores: vpdpbusd) or EB_SDOT (the neondot build: sdot). The sums are exact integers, so these
// forms give the same results as the plain loops.
#ifndef EB_VNNI
#define EB_VNNI 0
#endif
#ifndef EB_SDOT
#define EB_SDOT 0
#endif

// Sums in a fixed order that vectorizes without reassociation: element j goes to lane j % 16 (in
// ascending j) of a 16-float vector (clang's generic vectors: one zmm, two ymm, four NEON registers, or
// scalar code in the reference build), then the lanes are added as a tree (l + 8, l + 4, l + 2, l + 1).
// Every ISA build adds in this same order.
typedef float eb_f32x16 __attribute__((vector_size(64)));
// The helpers below take and return such vectors but are always inlined: no call, so no ABI to change.
#pragma clang diagnostic ignored "-Wpsabi"

static inline __attribute__((always_inline)) eb_f32x16 EB_NAME(eb_load16)(const float* p) {
  eb_f32x16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) float EB_NAME(eb_lane_total)(eb_f32x16 v) {
  float acc[16];
  memcpy(acc, &v, sizeof acc);
  for (size_t w = 8; w > 0; w /= 2) {
    for (size_t l = 0; l < w; l++) acc[l] += acc[l + w];
  }
  return acc[0];
}

static inline __attribute__((always_inline)) float EB_NAME(eb_sum16)(const float* x, size_t n) {
  eb_f32x16 acc = {0};
  size_t j = 0;
  for (; j + 16 <= n; j += 16) acc += EB_NAME(eb_load16)(x + j);
  for (size_t l = 0; j + l < n; l++) acc[l] += x[j + l];
  return EB_NAME(eb_lane_total)(acc);
}

/// Σ (x − m)² in the same lane order.
static inline __attribute__((always_inline)) float EB_NAME(eb_sum_sq16)(const float* x, size_t n, float m) {
  eb_f32x16 acc = {0};
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const eb_f32x16 d = EB_NAME(eb_load16)(x + j) - m;
    acc += d * d;
  }
  for (size_t l = 0; j + l < n; l++) {
    const float d = x[j + l] - m;
    acc[l] += d * d;
  }
  return EB_NAME(eb_lane_total)(acc);
}

// Mean and variance in two passes over the row (float, 16 lanes each: enough for the widths
// transformers use, and what lets the loop vectorize), then one pass that scales and shifts.
void EB_NAME(eb_f32_layernorm_ukernel)(const float* x, float* y, size_t rows, size_t c, const float* gamma, const float* beta, float eps) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    const float m = EB_NAME(eb_sum16)(xr, c) / (float)c;
    const float var = EB_NAME(eb_sum_sq16)(xr, c, m) / (float)c;
    const float inv = 1.0f / sqrtf(var + eps);
    if (xr == yr) {
      for (size_t j = 0; j < c; j++) yr[j] = (yr[j] - m) * inv * gamma[j] + beta[j];
    } else {
      for (size_t j = 0; j < c; j++) yr[j] = (xr[j] - m) * inv * gamma[j] + beta[j];
    }
  }
}

// Σa and Σa² (a = x − zero) of a row of c ≤ 33025 int8 values: exact integers (Σa² ≤ c · 255² < 2^31).
// With VNNI, 64 bytes a step: Σ(x + 128) and Σ(x + 128)·x by vpdpbusd, then Σx = Σ(x + 128) − 128c and
// Σx² = Σ(x + 128)·x − 128Σx; with sdot, Σx and Σx² directly, 16 bytes a step.
static inline __attribute__((always_inline)) void EB_NAME(eb_row_sums8)(const int8_t* x, size_t c, int32_t zero, int32_t* s1,
                                                                        int32_t* s2) {
#if EB_VNNI
  const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
  __m512i su = _mm512_setzero_si512(), sq = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 64 <= c; j += 64) {
    const __m512i v = _mm512_loadu_si512(x + j), u = _mm512_xor_si512(v, flip);
    su = _mm512_dpbusd_epi32(su, u, ones);
    sq = _mm512_dpbusd_epi32(sq, u, v);
  }
  if (j < c) {
    const __mmask64 live = ((__mmask64)1 << (c - j)) - 1;  // c − j < 64
    const __m512i v = _mm512_maskz_loadu_epi8(live, x + j), u = _mm512_maskz_mov_epi8(live, _mm512_xor_si512(v, flip));
    su = _mm512_dpbusd_epi32(su, u, ones);
    sq = _mm512_dpbusd_epi32(sq, u, v);
  }
  const int64_t sx = (int64_t)_mm512_reduce_add_epi32(su) - 128 * (int64_t)c;
  const int64_t sxx = (int64_t)_mm512_reduce_add_epi32(sq) - 128 * sx;
#elif EB_SDOT
  const int8x16_t ones = vdupq_n_s8(1);
  int32x4_t a1 = vdupq_n_s32(0), a2 = a1;
  size_t j = 0;
  for (; j + 16 <= c; j += 16) {
    const int8x16_t v = vld1q_s8(x + j);
    a1 = vdotq_s32(a1, v, ones);
    a2 = vdotq_s32(a2, v, v);
  }
  int64_t sx = vaddvq_s32(a1), sxx = vaddvq_s32(a2);
  for (; j < c; j++) {
    sx += x[j];
    sxx += (int32_t)x[j] * x[j];
  }
#else
  int64_t sx = 0, sxx = 0;
  for (size_t j = 0; j < c; j++) {
    sx += x[j];
    sxx += (int32_t)x[j] * x[j];
  }
#endif
  *s1 = (int32_t)(sx - (int64_t)c * zero);
  *s2 = (int32_t)(sxx - 2 * (int64_t)zero * sx + (int64_t)c * zero * zero);
}

// LayerNorm from int8 to int8 (both boundaries folded in): a = x − in_zero; the row's Σa and Σa² are
// exact integers, its mean and variance come from them (scaled by in_scale), and each output
// is rint(((a − mean_a) · k) · g[j] + b[j]) + out_zero, clamped, with k = in_scale / sqrt(var + eps) and
// g, b the gain and bias divided by the output scale (the caller's). Every step rounded on its own (never
// fused), so every build gives the same bytes; one pass to sum and one to write, no float copies. y may
// be x (each byte is read before it is written).
void EB_NAME(eb_qs8_layernorm_ukernel)(const int8_t* x, int8_t* y, size_t rows, size_t c, int32_t in_zero,
                                       float in_scale, const float* restrict g, const float* restrict b, float eps,
                                       int32_t out_zero) {
#pragma clang fp contract(off)
  const float lo = (float)(-128 - out_zero), hi = (float)(127 - out_zero);
  const float inv_c = 1.0f / (float)c, var_scale = inv_c * inv_c * (in_scale * in_scale);
  for (size_t r = 0; r < rows; r++) {
    const int8_t* xr = x + r * c;
    int8_t* yr = y + r * c;
    int32_t s1, s2;
    EB_NAME(eb_row_sums8)(xr, c, in_zero, &s1, &s2);
    // c² var / in_scale² is the exact integer c Σa² − (Σa)²; reciprocals hoisted out of the row loop.
    const float m = (float)s1 * inv_c;
    const float var = (float)((int64_t)c * s2 - (int64_t)s1 * s1) * var_scale;
    const float k = in_scale / sqrtf(var + eps);
#define EB_LN8_WRITE(src)                                  \
  for (size_t j = 0; j < c; j++) {                         \
    float t = (float)((int32_t)(src)[j] - in_zero) - m;    \
    t = t * k;                                             \
    t = t * g[j];                                          \
    t = t + b[j];                                          \
    t = t < lo ? lo : t;                                   \
    t = t > hi ? hi : t;                                   \
    yr[j] = (int8_t)((int32_t)__builtin_rintf(t) + out_zero); \
  }
    // In place through one pointer: the vectorizer's overlap check would otherwise send it to scalar code.
    if ((const int8_t*)yr == xr) {
      EB_LN8_WRITE(yr)
    } else {
      EB_LN8_WRITE(xr)
    }
#undef EB_LN8_WRITE
  }
}

// Precision boundaries of mixed graphs (SwinV2 crosses one around every LayerNorm and attention).
// Exact in every build: a division, a clamp and round-half-even; an integer subtraction and a product.
void EB_NAME(eb_f32_qs8_quantize_ukernel)(const float* restrict x, int8_t* restrict y, size_t n, float scale, int32_t zero_point) {
  const float lo = (float)(-128 - zero_point), hi = (float)(127 - zero_point);
  for (size_t i = 0; i < n; i++) {
    float v = x[i] / scale;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    y[i] = (int8_t)((int32_t)__builtin_rintf(v) + zero_point);
  }
}

void EB_NAME(eb_qs8_f32_dequantize_ukernel)(const int8_t* restrict x, float* restrict y, size_t n, float scale, int32_t zero_point) {
  for (size_t i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - zero_point) * scale;
}

// erf(z) = 1 − erfc(|z|) (sign restored), erfc by the Chebyshev-fitted form in Numerical Recipes
// (fractional error below 1.2e-7): branch-free over eb_expf_inline, so the loop vectorizes.
static inline __attribute__((always_inline)) float EB_NAME(eb_erf_inline)(float z) {
  const float a = fabsf(z), t = 1.0f / (1.0f + 0.5f * a);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float erfc = t * eb_expf_inline(-a * a + p);
  const float e = 1.0f - erfc;
  return z < 0.0f ? -e : e;
}

void EB_NAME(eb_f32_gelu_ukernel)(const float* x, float* y, size_t n) {
  // In place, one pointer: the vectorizer's overlap check would otherwise send the loop to scalar code.
  if (x == y) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * y[i] * (1.0f + EB_NAME(eb_erf_inline)(y[i] * 0.70710678118654752f));
    return;
  }
  for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + EB_NAME(eb_erf_inline)(x[i] * 0.70710678118654752f));
}

// Window attention, per window and head, blocked so that the compiler keeps the accumulators of
// EB_ATT_ROWS query rows × EB_ATT_LANES keys (or features) in registers. Blocking never changes the
// order of a sum: each logit adds its d products in feature order, each output its n terms in token
// order, and norms and softmax totals use the fixed 16-lane order above, so every ISA build computes
// the same sums, up to fused multiply-adds. Cosine similarity as (q · k) · (scale / |q|) · (1 / |k|),
// both factors applied after the dot product (in separate statements: never fused). With int8 input
// (qkv8 set) the caller passes q, k and v as integers, x − zero point (exact in float), so every dot
// product and squared norm is an exact integer in float (d · 255² < 2^24 for head_dim ≤ 256) and the
// logits are the same in every build; the softmax weights are integers too (eb_att_weights), so the
// outputs are exact integer sums times one scale per row: the same bits in every build. The build with
// EB_VNNI (avx512f, selected only on AVX-512 VNNI cores) computes those sums from the int8 values,
// 64 products per vpdpbusd: the logits' dot products where head_dim is a multiple of 4, the outputs
// where it is a multiple of 32.
#ifndef EB_ATT_LANES
#define EB_ATT_LANES 16
#endif
#define EB_ATT_ROWS 4

/// Largest of n floats (exact in any order).
static inline __attribute__((always_inline)) float EB_NAME(eb_max16)(const float* x, size_t n) {
  float m = x[0];
  size_t j = 0;
  if (n >= 16) {
    eb_f32x16 acc = EB_NAME(eb_load16)(x);
    for (j = 16; j + 16 <= n; j += 16) acc = __builtin_elementwise_max(acc, EB_NAME(eb_load16)(x + j));
    float lanes[16];
    memcpy(lanes, &acc, sizeof lanes);
    for (size_t w = 8; w > 0; w /= 2) {
      for (size_t l = 0; l < w; l++) lanes[l] = lanes[l + w] > lanes[l] ? lanes[l + w] : lanes[l];
    }
    m = lanes[0];
  }
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

/// 1 / max(|x|, 1e-12) for a row of d floats: F.normalize's divisor.
static inline __attribute__((always_inline)) float EB_NAME(eb_inverse_norm)(const float* x, size_t d) {
  eb_f32x16 acc = {0};
  size_t e = 0;
  for (; e + 16 <= d; e += 16) {
    const eb_f32x16 v = EB_NAME(eb_load16)(x + e);
    acc += v * v;
  }
  for (size_t l = 0; e + l < d; l++) acc[l] += x[e + l] * x[e + l];
  return 1.0f / fmaxf(sqrtf(EB_NAME(eb_lane_total)(acc)), 1e-12f);
}

// Logits of query rows r0 … r0 + rows − 1 (EB_ATT_ROWS computed; past `rows` they repeat the last)
// against keys j0 … j0 + m − 1: (q · k) · ki[j] · qs[i] + bias (+ mask), into p[r][j]. kt: keys
// transposed; qs[i] = scale / |q_i|, ki[j] = 1 / |k_j|.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_logits)(const float* q, size_t stride, const float* restrict kt, size_t n,
                                                                         size_t d, size_t r0, size_t rows, size_t j0, size_t m,
                                                                         const float* restrict qs, const float* restrict ki,
                                                                         const float* restrict bh, const float* restrict mw,
                                                                         float* restrict p) {
  float acc[EB_ATT_ROWS][EB_ATT_LANES] = {{0}};
  const float* qr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) qr[r] = q + (r0 + (r < rows ? r : rows - 1)) * stride;
  for (size_t e = 0; e < d; e++) {
    const float* ke = kt + e * n + j0;
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      const float qe = qr[r][e];
      for (size_t l = 0; l < m; l++) acc[r][l] += qe * ke[l];
    }
  }
  for (size_t r = 0; r < rows; r++) {
    const float f = qs[r0 + r];
    const float* bi = bh + (r0 + r) * n + j0;
    float* pr = p + r * n + j0;
    for (size_t l = 0; l < m; l++) {
      float t = acc[r][l] * ki[j0 + l];
      t = t * f;
      pr[l] = t + bi[l];
    }
    if (mw != NULL) {
      const float* mi = mw + (r0 + r) * n + j0;
      for (size_t l = 0; l < m; l++) pr[l] += mi[l];
    }
  }
}

#if EB_VNNI
// The same logits for 64 keys j0 … j0 + 63 (those below n stored) from int8 values: kt4 holds the keys
// flipped to unsigned (k + 128), four features per dword, [d / 4][n64][4]; each query row's four int8
// features are broadcast as they lie. A dot product Σ (k + 128) q becomes Σ (q − z)(k − z) by
// subtracting crow[i] = (128 + z) Σ q_i − d z² and ccol[j] = z Σ k_j.
// The dot products of a block of rows with keys j0 … j0 + 63 (eb_att_logits8), into acc.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_dots8)(const int8_t* q8, size_t stride8, const uint8_t* restrict kt4, size_t n64,
                                                                        size_t d, size_t r0, size_t rows, size_t j0,
                                                                        __m512i acc[EB_ATT_ROWS][4]) {
  const int8_t* qr[EB_ATT_ROWS];
  _Pragma("clang loop unroll(full)")
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    qr[r] = q8 + (r0 + (r < rows ? r : rows - 1)) * stride8;
    for (size_t v = 0; v < 4; v++) acc[r][v] = _mm512_setzero_si512();
  }
  for (size_t g = 0; g < d / 4; g++) {
    const uint8_t* kg = kt4 + (g * n64 + j0) * 4;
    const __m512i k0 = _mm512_loadu_si512(kg), k1 = _mm512_loadu_si512(kg + 64);
    const __m512i k2 = _mm512_loadu_si512(kg + 128), k3 = _mm512_loadu_si512(kg + 192);
    _Pragma("clang loop unroll(full)")
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      int32_t word;
      memcpy(&word, qr[r] + 4 * g, 4);
      const __m512i qb = _mm512_set1_epi32(word);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], k0, qb);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], k1, qb);
      acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], k2, qb);
      acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], k3, qb);
    }
  }
}

static inline __attribute__((always_inline)) void EB_NAME(eb_att_logits8)(const int8_t* q8, size_t stride8, const uint8_t* restrict kt4, size_t n,
                                                                          size_t n64, size_t d, size_t r0, size_t rows, size_t j0,
                                                                          const int32_t* restrict crow, const int32_t* restrict ccol,
                                                                          const float* restrict qs, const float* restrict ki,
                                                                          const float* restrict bh, const float* restrict mw,
                                                                          float* restrict p) {
  __m512i acc[EB_ATT_ROWS][4];
  EB_NAME(eb_att_dots8)(q8, stride8, kt4, n64, d, r0, rows, j0, acc);
  for (size_t r = 0; r < rows; r++) {
    const size_t i = r0 + r;
    const __m512 f = _mm512_set1_ps(qs[i]);
    const __m512i ci = _mm512_set1_epi32(crow[i]);
    for (size_t v = 0; v < 4 && j0 + 16 * v < n; v++) {
      const size_t j = j0 + 16 * v, left = n - j;
      const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
      const __m512i dot = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][v], _mm512_loadu_si512(ccol + j)), ci);
      __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_loadu_ps(ki + j));
      t = _mm512_mul_ps(t, f);
      t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(live, bh + i * n + j));
      if (mw != NULL) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(live, mw + i * n + j));
      _mm512_mask_storeu_ps(p + r * n + j, live, t);
    }
  }
}

// eb_exp255 on 16 lanes: the same operations in the same order, none fused, so the same bits.
static inline __attribute__((always_inline)) __m512 EB_NAME(eb_exp255x16)(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-20.0f));
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(2.4526229f);
  p = _mm512_add_ps(_mm512_mul_ps(p, f), _mm512_set1_ps(14.153547f));
  p = _mm512_add_ps(_mm512_mul_ps(p, f), _mm512_set1_ps(61.257759f));
  p = _mm512_add_ps(_mm512_mul_ps(p, f), _mm512_set1_ps(176.75253f));
  p = _mm512_add_ps(_mm512_mul_ps(p, f), _mm512_set1_ps(255.0f));
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

// Four rows' horizontal maxima (add = 0) or sums (add = 1) of v[0..3] at once: lanes 4r … 4r + 3 of the
// result hold row r's. Only where the order cannot matter: maxima, and sums of integers below 2^24.
static inline __attribute__((always_inline)) __m512 EB_NAME(eb_reduce4)(const __m512 v[4], const int add) {
#define EB_R4(a, b) (add ? _mm512_add_ps(a, b) : _mm512_max_ps(a, b))
  const __m512 x01 = EB_R4(_mm512_shuffle_f32x4(v[0], v[1], 0x44), _mm512_shuffle_f32x4(v[0], v[1], 0xEE));
  const __m512 x23 = EB_R4(_mm512_shuffle_f32x4(v[2], v[3], 0x44), _mm512_shuffle_f32x4(v[2], v[3], 0xEE));
  __m512 y = EB_R4(_mm512_shuffle_f32x4(x01, x23, 0x88), _mm512_shuffle_f32x4(x01, x23, 0xDD));
  y = EB_R4(y, _mm512_permute_ps(y, 0x4E));
  return EB_R4(y, _mm512_permute_ps(y, 0xB1));
#undef EB_R4
}

// At most 64 keys (window 8): a block of rows' logits (eb_att_dots8's four accumulators per row) go
// through the softmax in registers, no pass over memory, the four rows side by side (their exps are
// sixteen independent chains): the integer weights u = rint(eb_exp255(l − max)) as bytes into ub (row r
// at r · n4; bytes past n stay zero), and as eb_att_values8 takes them z Σ u into zu4 and vs / Σ u into
// rs4 (Σ u exact: integers below 2^24, so in any order) — what eb_att_weights and the byte conversion
// give from p. Rows past `rows` repeat the last (as the accumulators do) and are not stored.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_softmax8)(__m512i acc[EB_ATT_ROWS][4], size_t n, size_t r0, size_t rows,
                                                                           const int32_t* restrict crow, const int32_t* restrict ccol,
                                                                           const float* restrict qs, const float* restrict ki,
                                                                           const float* restrict bh, const float* restrict mw, float vs,
                                                                           int32_t z, uint8_t* restrict ub, size_t n4, __m512i* zu4,
                                                                           __m512* rs4) {
  __mmask16 live[4];
  _Pragma("clang loop unroll(full)")
  for (size_t v = 0; v < 4; v++) {
    const size_t j = 16 * v;
    live[v] = j >= n ? 0 : n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
  }
  __m512 t[EB_ATT_ROWS][4], mx[EB_ATT_ROWS];
  _Pragma("clang loop unroll(full)")
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    const size_t i = r0 + (r < rows ? r : rows - 1);
    const __m512 f = _mm512_set1_ps(qs[i]);
    const __m512i ci = _mm512_set1_epi32(crow[i]);
    mx[r] = _mm512_set1_ps(-INFINITY);
    _Pragma("clang loop unroll(full)")
    for (size_t v = 0; v < 4; v++) {
      const size_t j = 16 * v;
      const __m512i dot = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][v], _mm512_loadu_si512(ccol + j)), ci);
      t[r][v] = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_loadu_ps(ki + j));
      t[r][v] = _mm512_mul_ps(t[r][v], f);
      t[r][v] = _mm512_add_ps(t[r][v], _mm512_maskz_loadu_ps(live[v], bh + i * n + j));
      if (mw != NULL) t[r][v] = _mm512_add_ps(t[r][v], _mm512_maskz_loadu_ps(live[v], mw + i * n + j));
      mx[r] = _mm512_mask_max_ps(mx[r], live[v], mx[r], t[r][v]);
    }
  }
  const __m512 m4 = EB_NAME(eb_reduce4)(mx, 0);
  __m512 total[EB_ATT_ROWS];
  _Pragma("clang loop unroll(full)")
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    const __m512 m = _mm512_permutexvar_ps(_mm512_set1_epi32(4 * (int)r), m4);
    total[r] = _mm512_setzero_ps();
    _Pragma("clang loop unroll(full)")
    for (size_t v = 0; v < 4; v++) {
      const __m512 e = EB_NAME(eb_exp255x16)(_mm512_sub_ps(t[r][v], m));
      const __m512 u = _mm512_maskz_roundscale_ps(live[v], e, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      total[r] = _mm512_add_ps(total[r], u);
      if (r >= rows) continue;
      // Whole vectors unmasked: eb_att_values8 reads them back at once, and a masked store does not forward.
      const __m128i bytes = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(u));
      if (live[v] == 0xFFFF) {
        _mm_storeu_si128((__m128i*)(ub + r * n4 + 16 * v), bytes);
      } else {
        _mm_mask_storeu_epi8(ub + r * n4 + 16 * v, live[v], bytes);
      }
    }
  }
  const __m512 sums = EB_NAME(eb_reduce4)(total, 1);
  *zu4 = _mm512_mullo_epi32(_mm512_set1_epi32(z), _mm512_cvtps_epi32(sums));
  *rs4 = _mm512_div_ps(_mm512_set1_ps(vs), sums);
}

// One head's per-row statistics from the int8 values alone, 16 rows at a time, each row's dwords (four
// features) gathered: qs[i] = scale / |q_i|, ki[j] = 1 / |k_j|, crow and ccol (eb_att_logits8), and the
// keys flipped into kt4. With r the raw int8 and x = r − z: Σ r = Σ (r + 128) − 128 d, Σ r² = Σ (r + 128) r
// − 128 Σ r, Σ x² = Σ r² − 2 z Σ r + d z² — exact integers (|Σ x²| < 2^24 for d ≤ 256), the very sums the
// float path adds up from x, so qs and ki get the same bits (sqrt and division are correctly rounded).
static inline __attribute__((always_inline)) void EB_NAME(eb_att_stats8)(const int8_t* q8, const int8_t* k8, size_t stride, size_t n,
                                                                         size_t n64, size_t d, int32_t z, float s, float* restrict qs,
                                                                         float* restrict ki, int32_t* restrict crow,
                                                                         int32_t* restrict ccol, uint8_t* restrict kt4) {
  const __m512i flip = _mm512_set1_epi32((int)0x80808080u), ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)stride));
  const __m512i d128 = _mm512_set1_epi32(128 * (int32_t)d), dzz = _mm512_set1_epi32((int32_t)d * z * z);
  const __m512i z2 = _mm512_set1_epi32(2 * z), zc = _mm512_set1_epi32(z), zr = _mm512_set1_epi32(128 + z);
  const __m512 tiny = _mm512_set1_ps(1e-12f), one = _mm512_set1_ps(1.0f), scale = _mm512_set1_ps(s);
  for (size_t i0 = 0; i0 < n; i0 += 16) {
    const __mmask16 live = n - i0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i0)) - 1);
    const __m512i at = _mm512_add_epi32(rows, _mm512_set1_epi32((int)(i0 * stride)));
    __m512i qsq = zero, qsum = zero, ksq = zero, ksum = zero;
    for (size_t g = 0; g < d / 4; g++) {
      const __m512i qw = _mm512_mask_i32gather_epi32(zero, live, at, q8 + 4 * g, 1);
      const __m512i kw = _mm512_mask_i32gather_epi32(zero, live, at, k8 + 4 * g, 1);
      const __m512i qu = _mm512_xor_si512(qw, flip), ku = _mm512_xor_si512(kw, flip);
      qsq = _mm512_dpbusd_epi32(qsq, qu, qw);
      qsum = _mm512_dpbusd_epi32(qsum, qu, ones);
      ksq = _mm512_dpbusd_epi32(ksq, ku, kw);
      ksum = _mm512_dpbusd_epi32(ksum, ku, ones);
      _mm512_mask_storeu_epi32((uint32_t*)kt4 + g * n64 + i0, live, ku);
    }
    const __m512i q1 = _mm512_sub_epi32(qsum, d128), k1 = _mm512_sub_epi32(ksum, d128);
    const __m512i q2 = _mm512_sub_epi32(qsq, _mm512_slli_epi32(q1, 7)), k2 = _mm512_sub_epi32(ksq, _mm512_slli_epi32(k1, 7));
    const __m512i qx = _mm512_add_epi32(_mm512_sub_epi32(q2, _mm512_mullo_epi32(z2, q1)), dzz);
    const __m512i kx = _mm512_add_epi32(_mm512_sub_epi32(k2, _mm512_mullo_epi32(z2, k1)), dzz);
    const __m512 qinv = _mm512_div_ps(one, _mm512_max_ps(_mm512_sqrt_ps(_mm512_cvtepi32_ps(qx)), tiny));
    _mm512_mask_storeu_ps(qs + i0, live, _mm512_mul_ps(scale, qinv));
    _mm512_mask_storeu_ps(ki + i0, live, _mm512_div_ps(one, _mm512_max_ps(_mm512_sqrt_ps(_mm512_cvtepi32_ps(kx)), tiny)));
    _mm512_mask_storeu_epi32(crow + i0, live, _mm512_sub_epi32(_mm512_mullo_epi32(zr, q1), dzz));
    _mm512_mask_storeu_epi32(ccol + i0, live, _mm512_mullo_epi32(zc, k1));
  }
}

// Outputs of a block of rows for all d features (a multiple of 32) from the integer weights ub
// ([EB_ATT_ROWS][n4] bytes, rows past `rows` repeating the last) and vt4, the int8 values four tokens
// per dword ([n4 / 4][d][4]): Σ u_j (v_j − z) = Σ u_j v_j − z Σ u, times the row's scale. The same integers
// as the float sums of eb_att_values on x − z, so the same outputs. The row constants come as vectors,
// row r's in lane 4 r (as eb_reduce4 leaves them): zu4 = z Σ u, rs4 the scales.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_values8)(const uint8_t* restrict ub, size_t n4, const int8_t* restrict vt4,
                                                                          size_t d, size_t rows, __m512i zu4, __m512 rs4, float* restrict o,
                                                                          size_t c) {
  for (size_t e0 = 0; e0 < d; e0 += 32) {
    __m512i acc[EB_ATT_ROWS][2];
    const uint8_t* ur[EB_ATT_ROWS];
    _Pragma("clang loop unroll(full)")
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      ur[r] = ub + (r < rows ? r : rows - 1) * n4;
      acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    }
    for (size_t g = 0; g < n4 / 4; g++) {
      const int8_t* vg = vt4 + (g * d + e0) * 4;
      const __m512i b0 = _mm512_loadu_si512(vg), b1 = _mm512_loadu_si512(vg + 64);
      _Pragma("clang loop unroll(full)")
      for (size_t r = 0; r < EB_ATT_ROWS; r++) {
        int32_t word;
        memcpy(&word, ur[r] + 4 * g, 4);
        const __m512i a = _mm512_set1_epi32(word);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, b0);
        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, b1);
      }
    }
    for (size_t r = 0; r < rows; r++) {
      const __m512i lane = _mm512_set1_epi32(4 * (int)r);
      const __m512i zc = _mm512_permutexvar_epi32(lane, zu4);
      const __m512 f = _mm512_permutexvar_ps(lane, rs4);
      _mm512_storeu_ps(o + r * c + e0, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][0], zc)), f));
      _mm512_storeu_ps(o + r * c + e0 + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][1], zc)), f));
    }
  }
}

// vt4 for eb_att_values8: tokens 4g … 4g + 3 of the int8 values (rows `stride` bytes apart; past n,
// zero) interleaved so that each dword holds one feature's four tokens, in feature order.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_pack_values)(const int8_t* v8, size_t stride, size_t n, size_t n4, size_t d,
                                                                              const int8_t* zero, int8_t* restrict vt4) {
  for (size_t g = 0; g < n4 / 4; g++) {
    const int8_t* row[4];
    for (size_t t = 0; t < 4; t++) row[t] = 4 * g + t < n ? v8 + (4 * g + t) * stride : zero;
    for (size_t e0 = 0; e0 < d; e0 += 32) {
      const __m256i x0 = _mm256_loadu_si256((const __m256i*)(row[0] + e0)), x1 = _mm256_loadu_si256((const __m256i*)(row[1] + e0));
      const __m256i x2 = _mm256_loadu_si256((const __m256i*)(row[2] + e0)), x3 = _mm256_loadu_si256((const __m256i*)(row[3] + e0));
      const __m256i lo01 = _mm256_unpacklo_epi8(x0, x1), hi01 = _mm256_unpackhi_epi8(x0, x1);
      const __m256i lo23 = _mm256_unpacklo_epi8(x2, x3), hi23 = _mm256_unpackhi_epi8(x2, x3);
      // Per 128-bit lane (features 16 l …): a = 0–3, b = 4–7, c = 8–11, e = 12–15.
      const __m256i a = _mm256_unpacklo_epi16(lo01, lo23), b = _mm256_unpackhi_epi16(lo01, lo23);
      const __m256i cc = _mm256_unpacklo_epi16(hi01, hi23), e = _mm256_unpackhi_epi16(hi01, hi23);
      __m256i* out = (__m256i*)(vt4 + (g * d + e0) * 4);
      _mm256_storeu_si256(out, _mm256_permute2x128_si256(a, b, 0x20));
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(cc, e, 0x20));
      _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(a, b, 0x31));
      _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(cc, e, 0x31));
    }
  }
}
#endif

// Outputs of rows r0 … for features e0 … e0 + m − 1: Σ_j p[r][j] · v[j][e], times rs[r].
static inline __attribute__((always_inline)) void EB_NAME(eb_att_values)(const float* restrict p, const float* restrict v, size_t stride, size_t n,
                                                                         size_t rows, size_t e0, size_t m, const float* restrict rs,
                                                                         float* restrict o, size_t c) {
  float acc[EB_ATT_ROWS][EB_ATT_LANES] = {{0}};
  const float* pr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) pr[r] = p + (r < rows ? r : rows - 1) * n;
  for (size_t j = 0; j < n; j++) {
    const float* vj = v + j * stride + e0;
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      const float pj = pr[r][j];
      for (size_t l = 0; l < m; l++) acc[r][l] += pj * vj[l];
    }
  }
  for (size_t r = 0; r < rows; r++) {
    for (size_t l = 0; l < m; l++) o[r * c + e0 + l] = acc[r][l] * rs[r];
  }
}

// Lane indices of the transpose rounds: LO keeps row r's lanes with bit w clear and takes row r + w's
// lanes shifted down by w where it is set; HI the converse.
#define EB_T8_LO 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define EB_T8_HI 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define EB_T4_LO 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define EB_T4_HI 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define EB_T2_LO 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define EB_T2_HI 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define EB_T1_LO 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define EB_T1_HI 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31

// 16 floats gathered from lanes of a and b by constant indices (16..31 select b).
#define EB_SHUF16(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)

// Transposes a 16×16 block in place: four rounds swap 8-, 4-, 2- and 1-lane blocks between rows
// r and r + w (rows whose bit w is clear), as one two-source shuffle each on AVX-512.
static inline __attribute__((always_inline)) void EB_NAME(eb_transpose16)(eb_f32x16* v) {
#define EB_SWAP(w, LO, HI)                                    \
  for (size_t r = 0; r < 16; r++) {                           \
    if (r & (w)) continue;                                    \
    const eb_f32x16 a = v[r], b = v[r + (w)];                 \
    v[r] = EB_SHUF16(a, b, LO);                               \
    v[r + (w)] = EB_SHUF16(a, b, HI);                         \
  }
  EB_SWAP(8, EB_T8_LO, EB_T8_HI)
  EB_SWAP(4, EB_T4_LO, EB_T4_HI)
  EB_SWAP(2, EB_T2_LO, EB_T2_HI)
  EB_SWAP(1, EB_T1_LO, EB_T1_HI)
#undef EB_SWAP
}

// kt[e][i] = k[i][e] for i < n, e < d (rows of k `stride` apart): 16×16 blocks through registers,
// the edges element by element.
static inline __attribute__((always_inline)) void EB_NAME(eb_transpose_keys)(const float* k, size_t stride, size_t n, size_t d, float* kt) {
  size_t i0 = 0;
  for (; i0 + 16 <= n; i0 += 16) {
    size_t e0 = 0;
    for (; e0 + 16 <= d; e0 += 16) {
      eb_f32x16 v[16];
      for (size_t r = 0; r < 16; r++) v[r] = EB_NAME(eb_load16)(k + (i0 + r) * stride + e0);
      EB_NAME(eb_transpose16)(v);
      for (size_t e = 0; e < 16; e++) memcpy(kt + (e0 + e) * n + i0, &v[e], sizeof v[e]);
    }
    for (size_t i = i0; i < i0 + 16; i++) {
      for (size_t e = e0; e < d; e++) kt[e * n + i] = k[i * stride + e];
    }
  }
  for (size_t i = i0; i < n; i++) {
    for (size_t e = 0; e < d; e++) kt[e * n + i] = k[i * stride + e];
  }
}

// 255 · exp(x) for x ≤ 0, what the integer softmax weights round: 2^(x log2 e) as 2^n · 2^f, f in
// [−0.5, 0.5], 2^f by its degree-4 Taylor polynomial (relative error below 5.6e-5: at most 0.012 of a
// weight step), the 255 folded into the coefficients; x clamped at −20 (255 e^−20 < 0.5: weight 0).
// Never fused, so every build gives the same bits. Fewer operations than eb_expf_inline, whose 2 ulp
// the 8-bit weights cannot use.
static inline __attribute__((always_inline)) float EB_NAME(eb_exp255)(float x) {
#pragma clang fp contract(off)
  x = x < -20.0f ? -20.0f : x;
  const float t = x * 1.44269504088896341f;
  const float n = __builtin_rintf(t);
  const float f = t - n;
  float p = 2.4526229f;       // 255 ln2⁴ / 24
  p = p * f + 14.153547f;     // 255 ln2³ / 6
  p = p * f + 61.257759f;     // 255 ln2² / 2
  p = p * f + 176.75253f;     // 255 ln2
  p = p * f + 255.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// Softmax of a block of rows of logits in p, in place, and each row's output scale rs[r]. Float
// input: weights exp(l − max) / Σ, rs = vs. Int8 input (`exact`): integer weights u = rint(255 ·
// exp(l − max)) (the largest 255; eb_exp255), rs = vs / Σ u — with the values as integers too, every output is an
// exact integer sum (n ≤ 256: Σ u · 255 < 2^24) times rs, and the exp is never fused, so every build
// gives the same bits.
#ifndef EB_NEON
#define EB_NEON 0
#endif
#if EB_NEON
#include "f32-attention-neon.h"
#endif

static inline __attribute__((always_inline)) void EB_NAME(eb_att_weights)(float* p, size_t n, size_t rows, int exact, float vs, float* rs,
                                                                          float* totals) {
#if EB_NEON
  if (exact) {
    EB_NAME(eb_att_weights_exact_neon)(p, n, rows, vs, rs, totals);
    return;
  }
#endif
  // The rows' maxima first, then the exps of the whole block: many independent ones in flight (per row,
  // max, exps and sum one after the other left the attention about 15% slower, Zen 4).
  float mx[EB_ATT_ROWS];
  for (size_t r = 0; r < rows; r++) mx[r] = EB_NAME(eb_max16)(p + r * n, n);
  for (size_t r = 0; r < rows; r++) {
    float* pr = p + r * n;
    const float m = mx[r];
    if (exact) {
      for (size_t j = 0; j < n; j++) pr[j] = __builtin_rintf(EB_NAME(eb_exp255)(pr[j] - m));
    } else {
      for (size_t j = 0; j < n; j++) pr[j] = eb_expf_inline(pr[j] - m);
    }
  }
  for (size_t r = 0; r < rows; r++) {
    float* pr = p + r * n;
    const float total = EB_NAME(eb_sum16)(pr, n);
    if (totals != NULL) totals[r] = total;
    if (exact) {
      rs[r] = vs / total;
      continue;
    }
    const float inv = 1.0f / total;
    for (size_t j = 0; j < n; j++) pr[j] *= inv;
    rs[r] = vs;
  }
}

// A block of rows' integer weights (eb_att_weights, exact) and z Σ u per row, for the int8 forms' outputs.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_int_weights)(float* p, size_t n, size_t rows, float vs, int32_t z,
                                                                              float* rs, int32_t* zu) {
  float totals[EB_ATT_ROWS];
  EB_NAME(eb_att_weights)(p, n, rows, 1, vs, rs, totals);
  for (size_t r = 0; r < rows; r++) zu[r] = z * (int32_t)totals[r];
}

// A block of rows' weights (eb_att_weights), then their outputs.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_finish)(const float* v, size_t stride, size_t n, size_t d, size_t rows,
                                                                         int exact, float vs, float* p, float* o, size_t c) {
  float rs[EB_ATT_ROWS];
  EB_NAME(eb_att_weights)(p, n, rows, exact, vs, rs, NULL);
  size_t e0 = 0;
#if EB_NEON
  for (; e0 + 16 <= d; e0 += 16) EB_NAME(eb_att_values_neon16)(p, v, stride, n, rows, e0, rs, o, c);
#endif
  for (; e0 + EB_ATT_LANES <= d; e0 += EB_ATT_LANES) EB_NAME(eb_att_values)(p, v, stride, n, rows, e0, EB_ATT_LANES, rs, o, c);
  if (e0 < d) EB_NAME(eb_att_values)(p, v, stride, n, rows, e0, d - e0, rs, o, c);
}

#if EB_SDOT
#include "f32-attention-sdot.h"
#endif

void EB_NAME(eb_f32_window_attention_ukernel)(const float* qkv, const int8_t* qkv8, int32_t zero_point, float v_scale, float* out,
                                              size_t windows, size_t tokens, size_t heads, size_t head_dim, const float* logit_scale,
                                              const float* bias, const float* mask, float* scratch) {
  const size_t c = heads * head_dim, n = tokens, d = head_dim, stride = 3 * c, n64 = (n + 63) / 64 * 64, n4 = (n + 3) / 4 * 4;
  const int exact = qkv8 != NULL;
  float* kt = scratch;                // [d][n] keys of one head, transposed
  float* qs = scratch + n * d;        // [n] scale / |q_i|
  float* ki = qs + n;                 // [n64] 1 / |k_j|, zero past n
  float* p = ki + n64;                // [EB_ATT_ROWS][n] logits, then weights, of a block of rows
  for (size_t j = n; j < n64; j++) ki[j] = 0.0f;
#if EB_VNNI
  // The int8 forms (eb_att_logits8, eb_att_values8): keys + 128, the two corrections, values, weights.
  uint8_t* kt4 = (uint8_t*)(p + EB_ATT_ROWS * n);  // [d / 4][n64][4]
  int32_t* ccol = (int32_t*)(kt4 + d * n64);       // [n64], zero past n
  int32_t* crow = ccol + n64;                      // [n]
  int8_t* vt4 = (int8_t*)(crow + n);               // [n4 / 4][d][4]
  uint8_t* ub = (uint8_t*)vt4 + n4 * d;            // [EB_ATT_ROWS][n4], zero past n
  int8_t* zero = (int8_t*)ub + EB_ATT_ROWS * n4;   // a row of d zero bytes
  const int dots = exact && d % 4 == 0, products = exact && d % 32 == 0;
  if (dots) {
    memset(kt4, 0x80, d * n64);
    for (size_t j = n; j < n64; j++) ccol[j] = 0;
  }
  if (products) memset(ub, 0, EB_ATT_ROWS * n4 + d);
  const int32_t z = zero_point;
#elif EB_SDOT
  // The sdot forms (f32-attention-sdot.h): keys, the two corrections, values and their sums, weights.
  const size_t n16 = (n + 15) / 16 * 16;
  int8_t* kt4 = (int8_t*)(p + EB_ATT_ROWS * n);  // [d / 4][n16][4]
  int32_t* ccol = (int32_t*)(kt4 + d * n16);     // [n16], zero past n
  int32_t* crow = ccol + n16;                    // [n]
  int8_t* vt4 = (int8_t*)(crow + n);             // [n4 / 4][d][4]
  int32_t* vsum = (int32_t*)(vt4 + n4 * d);      // [d]
  int8_t* wb = (int8_t*)(vsum + d);              // [EB_ATT_ROWS][n16] weights − 128
  int8_t* zero = wb + EB_ATT_ROWS * n16;         // a row of d zero bytes
  const int dots = exact && d % 16 == 0;
  if (dots) {
    memset(kt4, 0, d * n16);
    for (size_t j = n; j < n16; j++) ccol[j] = 0;
    memset(wb, 0, EB_ATT_ROWS * n16 + d);
  }
  const int32_t z = zero_point;
#else
  (void)qkv8;
  (void)zero_point;
#endif
  for (size_t w = 0; w < windows; w++) {
    const float* base = qkv == NULL ? NULL : qkv + w * n * stride;
    const float* mw = mask != NULL ? mask + w * n * n : NULL;
    for (size_t h = 0; h < heads; h++) {
      // With int8 input and every sum taken from it (products), qkv may be NULL (the float values unread).
      const float* q = qkv == NULL ? NULL : base + h * d;
      const float* k = qkv == NULL ? NULL : base + c + h * d;
      const float* v = qkv == NULL ? NULL : base + 2 * c + h * d;
      const float s = logit_scale[h];
      const float* bh = bias + h * n * n;
      float* o = out + w * n * c + h * d;
#if EB_VNNI
      if (dots) {
        const int8_t* q8 = qkv8 + w * n * stride + h * d;
        const int8_t* k8 = q8 + c;
        EB_NAME(eb_att_stats8)(q8, k8, stride, n, n64, d, z, s, qs, ki, crow, ccol, kt4);
        if (products) EB_NAME(eb_att_pack_values)(k8 + c, stride, n, n4, d, zero, vt4);
        for (size_t r0 = 0; r0 < n; r0 += EB_ATT_ROWS) {
          const size_t rows = n - r0 < EB_ATT_ROWS ? n - r0 : EB_ATT_ROWS;
          if (products && n <= 64) {
            __m512i acc[EB_ATT_ROWS][4], zu4;
            __m512 rs4;
            EB_NAME(eb_att_dots8)(q8, stride, kt4, n64, d, r0, rows, 0, acc);
            EB_NAME(eb_att_softmax8)(acc, n, r0, rows, crow, ccol, qs, ki, bh, mw, v_scale, z, ub, n4, &zu4, &rs4);
            EB_NAME(eb_att_values8)(ub, n4, vt4, d, rows, zu4, rs4, o + r0 * c, c);
            continue;
          }
          for (size_t j0 = 0; j0 < n; j0 += 64)
            EB_NAME(eb_att_logits8)(q8, stride, kt4, n, n64, d, r0, rows, j0, crow, ccol, qs, ki, bh, mw, p);
          if (!products) {
            EB_NAME(eb_att_finish)(v, stride, n, d, rows, 1, v_scale, p, o + r0 * c, c);
            continue;
          }
          float rs[EB_ATT_ROWS];
          int32_t zu[EB_ATT_ROWS];
          EB_NAME(eb_att_int_weights)(p, n, rows, v_scale, z, rs, zu);
          for (size_t r = 0; r < rows; r++) {
            const float* pr = p + r * n;
            for (size_t j = 0; j < n; j += 16) {
              const __mmask16 live = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
              _mm_mask_storeu_epi8(ub + r * n4 + j, live, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_maskz_loadu_ps(live, pr + j))));
            }
          }
          const __m512i zu4 = _mm512_setr_epi32(zu[0], 0, 0, 0, zu[1 % rows], 0, 0, 0, zu[2 % rows], 0, 0, 0, zu[3 % rows], 0, 0, 0);
          const __m512 rs4 = _mm512_setr_ps(rs[0], 0, 0, 0, rs[1 % rows], 0, 0, 0, rs[2 % rows], 0, 0, 0, rs[3 % rows], 0, 0, 0);
          EB_NAME(eb_att_values8)(ub, n4, vt4, d, rows, zu4, rs4, o + r0 * c, c);
        }
        continue;
      }
#elif EB_SDOT
      if (dots) {
        const int8_t* q8 = qkv8 + w * n * stride + h * d;
        const int8_t* k8 = q8 + c;
        EB_NAME(eb_att_stats_sdot)(q8, k8, stride, n, n16, d, z, s, qs, ki, crow, ccol, kt4);
        EB_NAME(eb_att_pack_values_sdot)(k8 + c, stride, n, n4, d, zero, vt4, vsum);
        for (size_t r0 = 0; r0 < n; r0 += EB_ATT_ROWS) {
          const size_t rows = n - r0 < EB_ATT_ROWS ? n - r0 : EB_ATT_ROWS;
          for (size_t j0 = 0; j0 < n; j0 += 16)
            EB_NAME(eb_att_logits_sdot)(q8, stride, kt4, n, n16, d, r0, rows, j0, crow, ccol, qs, ki, bh, mw, p);
          float rs[EB_ATT_ROWS];
          int32_t zu[EB_ATT_ROWS];
          EB_NAME(eb_att_softmax_sdot)(p, n, rows, v_scale, z, wb, n16, rs, zu);
          EB_NAME(eb_att_values_sdot)(wb, n4, n16, vt4, vsum, d, rows, zu, rs, o + r0 * c, c);
        }
        continue;
      }
#endif
      for (size_t i = 0; i < n; i++) {
        qs[i] = s * EB_NAME(eb_inverse_norm)(q + i * stride, d);
        ki[i] = EB_NAME(eb_inverse_norm)(k + i * stride, d);
      }
      EB_NAME(eb_transpose_keys)(k, stride, n, d, kt);
      for (size_t r0 = 0; r0 < n; r0 += EB_ATT_ROWS) {
        const size_t rows = n - r0 < EB_ATT_ROWS ? n - r0 : EB_ATT_ROWS;
        size_t j0 = 0;
#if EB_NEON
        for (; j0 + 16 <= n; j0 += 16) EB_NAME(eb_att_logits_neon16)(q, stride, kt, n, d, r0, rows, j0, qs, ki, bh, mw, p);
#endif
        for (; j0 + EB_ATT_LANES <= n; j0 += EB_ATT_LANES)
          EB_NAME(eb_att_logits)(q, stride, kt, n, d, r0, rows, j0, EB_ATT_LANES, qs, ki, bh, mw, p);
        if (j0 < n) EB_NAME(eb_att_logits)(q, stride, kt, n, d, r0, rows, j0, n - j0, qs, ki, bh, mw, p);
        EB_NAME(eb_att_finish)(v, stride, n, d, rows, exact, v_scale, p, o + r0 * c, c);
      }
    }
  }
}

int EB_NAME(eb_f32_window_attention_int8_only)(size_t tokens, size_t head_dim) {
  return tokens <= 256 && head_dim <= 256 && ((EB_VNNI && head_dim % 32 == 0) || (EB_SDOT && head_dim % 16 == 0));
}
