// Body of the float transformer kernels (LayerNorm, GELU, windowed cosine attention), compiled once
// per ISA by the including file, which defines EB_NAME(name) to append its ISA suffix. Loops keep each
// sum in one order; the SIMD builds may fuse multiply-adds, so they agree with the scalar build to a
// few ulp (tested), not bit for bit.
#include <math.h>
#include "../f32-misc/f32-math.h"

void EB_NAME(eb_f32_layernorm_ukernel)(const float* x, float* y, size_t rows, size_t c, const float* gamma, const float* beta, float eps) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    double sum = 0.0;
    for (size_t j = 0; j < c; j++) sum += xr[j];
    const double mean = sum / (double)c;
    double var = 0.0;
    for (size_t j = 0; j < c; j++) {
      const double d = xr[j] - mean;
      var += d * d;
    }
    const float inv = (float)(1.0 / sqrt(var / (double)c + (double)eps));
    const float m = (float)mean;
    if (xr == yr) {
      for (size_t j = 0; j < c; j++) yr[j] = (yr[j] - m) * inv * gamma[j] + beta[j];
    } else {
      for (size_t j = 0; j < c; j++) yr[j] = (xr[j] - m) * inv * gamma[j] + beta[j];
    }
  }
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

// Loops are ordered so that the innermost runs over independent outputs (tokens j, or features e),
// which the compiler vectorizes without reordering any sum: each logit still adds its d products in
// feature order, each output its n terms in token order.
void EB_NAME(eb_f32_window_attention_ukernel)(const float* qkv, float* out, size_t windows, size_t tokens, size_t heads, size_t head_dim,
                             const float* logit_scale, const float* bias, const float* mask, float* scratch) {
  const size_t c = heads * head_dim, n = tokens, d = head_dim;
  float* qn = scratch;            // [n][d] normalized queries of one head
  float* kt = scratch + n * d;    // [d][n] normalized keys, transposed
  float* row = kt + n * d;        // [n] one row of attention logits, then weights
  for (size_t w = 0; w < windows; w++) {
    const float* base = qkv + w * n * 3 * c;
    for (size_t h = 0; h < heads; h++) {
      for (size_t i = 0; i < n; i++) {
        const float* q = base + i * 3 * c + h * d;
        const float* k = q + c;
        double sq = 0.0, sk = 0.0;
        for (size_t e = 0; e < d; e++) { sq += (double)q[e] * q[e]; sk += (double)k[e] * k[e]; }
        const float iq = 1.0f / fmaxf((float)sqrt(sq), 1e-12f), ik = 1.0f / fmaxf((float)sqrt(sk), 1e-12f);
        for (size_t e = 0; e < d; e++) { qn[i * d + e] = q[e] * iq; kt[e * n + i] = k[e] * ik; }
      }
      const float s = logit_scale[h];
      const float* bh = bias + h * n * n;
      const float* mw = mask != NULL ? mask + w * n * n : NULL;
      for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) row[j] = 0.0f;
        for (size_t e = 0; e < d; e++) {
          const float qe = qn[i * d + e];
          const float* ke = kt + e * n;
          for (size_t j = 0; j < n; j++) row[j] += qe * ke[j];
        }
        const float* bi = bh + i * n;
        for (size_t j = 0; j < n; j++) row[j] = row[j] * s + bi[j];
        if (mw != NULL) {
          const float* mi = mw + i * n;
          for (size_t j = 0; j < n; j++) row[j] += mi[j];
        }
        float mx = -INFINITY;
        for (size_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
        for (size_t j = 0; j < n; j++) row[j] = eb_expf_inline(row[j] - mx);
        double total = 0.0;
        for (size_t j = 0; j < n; j++) total += row[j];
        const float inv = (float)(1.0 / total);
        float* o = out + (w * n + i) * c + h * d;
        for (size_t e = 0; e < d; e++) o[e] = 0.0f;
        for (size_t j = 0; j < n; j++) {
          const float p = row[j] * inv;
          const float* v = base + j * 3 * c + 2 * c + h * d;
          for (size_t e = 0; e < d; e++) o[e] += p * v[e];
        }
      }
    }
  }
}

