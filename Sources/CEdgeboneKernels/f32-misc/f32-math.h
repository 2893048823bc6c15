// Vectorizable float math shared by the float helpers (internal; included by ISA translation units).
#pragma once
#include <stdint.h>
#include <string.h>

// exp(x) by range reduction x = n ln2 + r and a degree-6 polynomial (Cephes coefficients);
// relative error below 2 ulp over the clamped range. Branch-free so loops around it vectorize.
static inline __attribute__((always_inline)) float eb_expf_inline(float x) {
  x = x < -87.33f ? -87.33f : x;
  x = x > 88.37f ? 88.37f : x;
  const float n = __builtin_rintf(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline __attribute__((always_inline)) float eb_act_inline(float v, int act) {
  switch (act) {
    case 1: return v > 0.0f ? v : 0.0f;
    case 2: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case 3: return v / (1.0f + eb_expf_inline(-v));
    case 4: return 1.0f / (1.0f + eb_expf_inline(-v));
    default: return v;
  }
}
