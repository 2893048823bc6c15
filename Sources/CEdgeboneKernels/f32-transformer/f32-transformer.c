// Float kernels of the transformer ops (SwinV2): LayerNorm, GELU, windowed cosine attention, and the
// data movement of window partition / reverse (cyclic shift folded into the indexing) and patch
// merging. Scalar C, compiled for the package's baseline target; reference for any SIMD variant.
#include <CEdgeboneKernels.h>
#include <math.h>
#include <string.h>

void eb_f32_layernorm(const float* x, float* y, size_t rows, size_t c, const float* gamma, const float* beta, float eps) {
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
    for (size_t j = 0; j < c; j++) yr[j] = (xr[j] - m) * inv * gamma[j] + beta[j];
  }
}

void eb_f32_gelu(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

size_t eb_f32_window_attention_scratch(size_t tokens, size_t head_dim) {
  return (2 * tokens * head_dim + tokens) * sizeof(float);
}

void eb_f32_window_attention(const float* qkv, float* out, size_t windows, size_t tokens, size_t heads, size_t head_dim,
                             const float* logit_scale, const float* bias, const float* mask, float* scratch) {
  const size_t c = heads * head_dim, n = tokens, d = head_dim;
  float* qn = scratch;            // [n][d] normalized queries of one head
  float* kn = scratch + n * d;    // [n][d] normalized keys
  float* row = kn + n * d;        // [n] one row of attention weights
  for (size_t w = 0; w < windows; w++) {
    const float* base = qkv + w * n * 3 * c;
    for (size_t h = 0; h < heads; h++) {
      for (size_t i = 0; i < n; i++) {
        const float* q = base + i * 3 * c + h * d;
        const float* k = q + c;
        double sq = 0.0, sk = 0.0;
        for (size_t e = 0; e < d; e++) { sq += (double)q[e] * q[e]; sk += (double)k[e] * k[e]; }
        const float iq = 1.0f / fmaxf((float)sqrt(sq), 1e-12f), ik = 1.0f / fmaxf((float)sqrt(sk), 1e-12f);
        for (size_t e = 0; e < d; e++) { qn[i * d + e] = q[e] * iq; kn[i * d + e] = k[e] * ik; }
      }
      const float s = logit_scale[h];
      const float* bh = bias + h * n * n;
      const float* mw = mask != NULL ? mask + w * n * n : NULL;
      for (size_t i = 0; i < n; i++) {
        float mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
          float a = 0.0f;
          for (size_t e = 0; e < d; e++) a += qn[i * d + e] * kn[j * d + e];
          a = a * s + bh[i * n + j];
          if (mw != NULL) a += mw[i * n + j];
          row[j] = a;
          mx = a > mx ? a : mx;
        }
        double total = 0.0;
        for (size_t j = 0; j < n; j++) { row[j] = expf(row[j] - mx); total += row[j]; }
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

void eb_x8_window_partition(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes, size_t window, size_t shift,
                            int reverse) {
  const size_t nwx = w / window;
  for (size_t oy = 0; oy < h; oy++) {
    for (size_t ox = 0; ox < w; ox++) {
      // Window token (oy, ox) of the shifted map reads pixel (oy + shift, ox + shift) of the original.
      const size_t sy = (oy + shift) % h, sx = (ox + shift) % w;
      const size_t win = (oy / window) * nwx + ox / window, t = (oy % window) * window + ox % window;
      const size_t token = win * window * window + t, pixel = sy * w + sx;
      if (reverse) memcpy(y + pixel * row_bytes, x + token * row_bytes, row_bytes);
      else memcpy(y + token * row_bytes, x + pixel * row_bytes, row_bytes);
    }
  }
}

void eb_x8_patch_merge(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes) {
  const size_t oh = h / 2, ow = w / 2;
  for (size_t oy = 0; oy < oh; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      uint8_t* dst = y + (oy * ow + ox) * 4 * row_bytes;
      // timm's order: (column offset, row offset) → (0,0), (1,0)=row+1, (0,1)=col+1, (1,1).
      for (size_t dx = 0; dx < 2; dx++) {
        for (size_t dy = 0; dy < 2; dy++) {
          memcpy(dst + (dx * 2 + dy) * row_bytes, x + ((2 * oy + dy) * w + 2 * ox + dx) * row_bytes, row_bytes);
        }
      }
    }
  }
}
