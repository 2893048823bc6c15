// Body of the float transformer kernels (LayerNorm, GELU, windowed cosine attention) and of the
// precision-boundary conversions (quantize, dequantize), compiled once per ISA by the including file,
// which defines EB_NAME(name) to append its ISA suffix. Loops keep each sum in one order; the SIMD
// builds may fuse multiply-adds, so they agree with the scalar build to a few ulp (tested), not bit for
// bit. The conversions are exact in every build.
#include <math.h>
#include "../f32-misc/f32-math.h"

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
// the same sums, up to fused multiply-adds. Cosine similarity as q · k̂ times scale / |q|: only the
// keys are normalized (and transposed, so that a row of logits is a run of vector multiply-adds).
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
// against keys j0 … j0 + m − 1: (q · k̂) · qs[i] + bias (+ mask), into p[r][j]. qs[i] = scale / |q_i|.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_logits)(const float* q, size_t stride, const float* restrict kt, size_t n,
                                                                         size_t d, size_t r0, size_t rows, size_t j0, size_t m,
                                                                         const float* restrict qs, const float* restrict bh,
                                                                         const float* restrict mw, float* restrict p) {
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
    for (size_t l = 0; l < m; l++) pr[l] = acc[r][l] * f + bi[l];
    if (mw != NULL) {
      const float* mi = mw + (r0 + r) * n + j0;
      for (size_t l = 0; l < m; l++) pr[l] += mi[l];
    }
  }
}

// Outputs of rows r0 … for features e0 … e0 + m − 1: Σ_j p[r][j] · v[j][e].
static inline __attribute__((always_inline)) void EB_NAME(eb_att_values)(const float* restrict p, const float* restrict v, size_t stride, size_t n,
                                                                         size_t rows, size_t e0, size_t m, float* restrict o, size_t c) {
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
    for (size_t l = 0; l < m; l++) o[r * c + e0 + l] = acc[r][l];
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

// kt[e][i] = k[i][e] · inv[i] for i < n, e < d (rows of k `stride` apart): 16×16 blocks through
// registers, the edges element by element. Each value is one product, so any order gives the same.
static inline __attribute__((always_inline)) void EB_NAME(eb_scaled_transpose)(const float* k, size_t stride, size_t n, size_t d,
                                                                               const float* inv, float* kt) {
  size_t i0 = 0;
  for (; i0 + 16 <= n; i0 += 16) {
    size_t e0 = 0;
    for (; e0 + 16 <= d; e0 += 16) {
      eb_f32x16 v[16];
      for (size_t r = 0; r < 16; r++) v[r] = EB_NAME(eb_load16)(k + (i0 + r) * stride + e0) * inv[i0 + r];
      EB_NAME(eb_transpose16)(v);
      for (size_t e = 0; e < 16; e++) memcpy(kt + (e0 + e) * n + i0, &v[e], sizeof v[e]);
    }
    for (size_t i = i0; i < i0 + 16; i++) {
      for (size_t e = e0; e < d; e++) kt[e * n + i] = k[i * stride + e] * inv[i];
    }
  }
  for (size_t i = i0; i < n; i++) {
    for (size_t e = 0; e < d; e++) kt[e * n + i] = k[i * stride + e] * inv[i];
  }
}

// One block of query rows: logits, softmax, outputs.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_rows)(const float* q, const float* kt, const float* v, size_t stride, size_t n,
                                                                       size_t d, size_t r0, size_t rows, const float* qs, const float* bh,
                                                                       const float* mw, float* p, float* o, size_t c) {
  size_t j0 = 0;
  for (; j0 + EB_ATT_LANES <= n; j0 += EB_ATT_LANES) EB_NAME(eb_att_logits)(q, stride, kt, n, d, r0, rows, j0, EB_ATT_LANES, qs, bh, mw, p);
  if (j0 < n) EB_NAME(eb_att_logits)(q, stride, kt, n, d, r0, rows, j0, n - j0, qs, bh, mw, p);
  for (size_t r = 0; r < rows; r++) {
    float* pr = p + r * n;
    const float mx = EB_NAME(eb_max16)(pr, n);
    for (size_t j = 0; j < n; j++) pr[j] = eb_expf_inline(pr[j] - mx);
    const float inv = 1.0f / EB_NAME(eb_sum16)(pr, n);
    for (size_t j = 0; j < n; j++) pr[j] *= inv;
  }
  size_t e0 = 0;
  for (; e0 + EB_ATT_LANES <= d; e0 += EB_ATT_LANES) EB_NAME(eb_att_values)(p, v, stride, n, rows, e0, EB_ATT_LANES, o, c);
  if (e0 < d) EB_NAME(eb_att_values)(p, v, stride, n, rows, e0, d - e0, o, c);
}

void EB_NAME(eb_f32_window_attention_ukernel)(const float* qkv, float* out, size_t windows, size_t tokens, size_t heads, size_t head_dim,
                             const float* logit_scale, const float* bias, const float* mask, float* scratch) {
  const size_t c = heads * head_dim, n = tokens, d = head_dim, stride = 3 * c;
  float* kt = scratch;                // [d][n] normalized keys of one head, transposed
  float* qs = scratch + n * d;        // [n] scale / |q_i|
  float* p = qs + n;                  // [EB_ATT_ROWS][n] logits, then weights, of a block of rows
  for (size_t w = 0; w < windows; w++) {
    const float* base = qkv + w * n * stride;
    const float* mw = mask != NULL ? mask + w * n * n : NULL;
    for (size_t h = 0; h < heads; h++) {
      const float* q = base + h * d;
      const float* k = base + c + h * d;
      const float* v = base + 2 * c + h * d;
      const float s = logit_scale[h];
      for (size_t i = 0; i < n; i++) {
        qs[i] = s * EB_NAME(eb_inverse_norm)(q + i * stride, d);
        p[i] = EB_NAME(eb_inverse_norm)(k + i * stride, d);  // p holds 1/|k_i| until the first logits
      }
      EB_NAME(eb_scaled_transpose)(k, stride, n, d, p, kt);
      const float* bh = bias + h * n * n;
      float* o = out + w * n * c + h * d;
      size_t r0 = 0;
      for (; r0 + EB_ATT_ROWS <= n; r0 += EB_ATT_ROWS) {
        EB_NAME(eb_att_rows)(q, kt, v, stride, n, d, r0, EB_ATT_ROWS, qs, bh, mw, p, o + r0 * c, c);
      }
      if (r0 < n) EB_NAME(eb_att_rows)(q, kt, v, stride, n, d, r0, n - r0, qs, bh, mw, p, o + r0 * c, c);
    }
  }
}
