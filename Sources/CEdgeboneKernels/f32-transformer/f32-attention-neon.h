// NEON forms of the window attention's exact softmax, for both AArch64 SIMD builds (EB_NEON): included
// by the transformer body after eb_exp255, whose operations they repeat on 4 lanes.
#include <arm_neon.h>

// eb_exp255 on 4 lanes: the same operations in the same order, none fused, so the same bits.
static inline __attribute__((always_inline)) float32x4_t EB_NAME(eb_exp255x4)(float32x4_t x) {
  x = vmaxq_f32(x, vdupq_n_f32(-20.0f));
  const float32x4_t t = vmulq_f32(x, vdupq_n_f32(1.44269504088896341f));
  const float32x4_t n = vrndnq_f32(t);
  const float32x4_t f = vsubq_f32(t, n);
  float32x4_t p = vdupq_n_f32(2.4526229f);
  p = vaddq_f32(vmulq_f32(p, f), vdupq_n_f32(14.153547f));
  p = vaddq_f32(vmulq_f32(p, f), vdupq_n_f32(61.257759f));
  p = vaddq_f32(vmulq_f32(p, f), vdupq_n_f32(176.75253f));
  p = vaddq_f32(vmulq_f32(p, f), vdupq_n_f32(255.0f));
  const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(bits));
}

// The largest of n floats (exact in any order).
static inline __attribute__((always_inline)) float EB_NAME(eb_row_max_neon)(const float* x, size_t n) {
  float32x4_t mx = vdupq_n_f32(-INFINITY);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) mx = vmaxq_f32(mx, vld1q_f32(x + j));
  float m = vmaxvq_f32(mx);
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

// eb_att_weights' exact form (int8 input: u = rint(eb_exp255(l − max)), the largest 255) on NEON, in place:
// the maximum and Σ u are exact in any order (Σ u: integers below 2^24), so the same values as the generic
// loops, with one horizontal step per row instead of a 16-lane tree.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_weights_exact_neon)(float* p, size_t n, size_t rows, float vs, float* rs,
                                                                                     float* totals) {
  for (size_t r = 0; r < rows; r++) {
    float* pr = p + r * n;
    const float m = EB_NAME(eb_row_max_neon)(pr, n);
    size_t j;
    const float32x4_t mv = vdupq_n_f32(m);
    float32x4_t total = vdupq_n_f32(0.0f);
    for (j = 0; j + 4 <= n; j += 4) {
      const float32x4_t u = vrndnq_f32(EB_NAME(eb_exp255x4)(vsubq_f32(vld1q_f32(pr + j), mv)));
      total = vaddq_f32(total, u);
      vst1q_f32(pr + j, u);
    }
    float sum = vaddvq_f32(total);
    for (; j < n; j++) {
      pr[j] = __builtin_rintf(EB_NAME(eb_exp255)(pr[j] - m));
      sum += pr[j];
    }
    rs[r] = vs / sum;
    if (totals != NULL) totals[r] = sum;
  }
}
