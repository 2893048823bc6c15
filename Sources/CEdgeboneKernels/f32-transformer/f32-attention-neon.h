// NEON forms of the window attention's float blocks and exact softmax, for both AArch64 SIMD builds
// (EB_NEON): included by the transformer body after eb_exp255, whose operations they repeat on 4 lanes.
// The blocks are eb_att_logits and eb_att_values for 16 keys or features, written out: the same fused
// multiply-adds in the same order as the generic loops compiled for NEON (so the same bits), but
// without depending on how a compiler vectorizes those loops: under qemu cortex-a72, SwinV2-T's attention
// took 365 M instructions per frame in the whole program built by Debian's Swift 6.0 (clang 17), against
// 168 M for the same loops in a kernel harness built by clang 21.
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

// eb_att_logits for keys j0 … j0 + 15: four rows × four vectors of keys, each feature of a row applied by
// lane (four features a load).
static inline __attribute__((always_inline)) void EB_NAME(eb_att_logits_neon16)(const float* q, size_t stride, const float* restrict kt,
                                                                                size_t n, size_t d, size_t r0, size_t rows, size_t j0,
                                                                                const float* restrict qs, const float* restrict ki,
                                                                                const float* restrict bh, const float* restrict mw,
                                                                                float* restrict p) {
  float32x4_t acc[EB_ATT_ROWS][4];
  const float* qr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    qr[r] = q + (r0 + (r < rows ? r : rows - 1)) * stride;
    for (size_t v = 0; v < 4; v++) acc[r][v] = vdupq_n_f32(0.0f);
  }
  size_t e = 0;
  for (; e + 4 <= d; e += 4) {
    float32x4_t qv[EB_ATT_ROWS];
    for (size_t r = 0; r < EB_ATT_ROWS; r++) qv[r] = vld1q_f32(qr[r] + e);
#define EB_NEON_FEATURE(l)                                                                    \
  {                                                                                           \
    const float* ke = kt + (e + (l)) * n + j0;                                                \
    const float32x4_t k0 = vld1q_f32(ke), k1 = vld1q_f32(ke + 4), k2 = vld1q_f32(ke + 8),      \
                      k3 = vld1q_f32(ke + 12);                                                \
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {                                                \
      acc[r][0] = vfmaq_laneq_f32(acc[r][0], k0, qv[r], l);                                   \
      acc[r][1] = vfmaq_laneq_f32(acc[r][1], k1, qv[r], l);                                   \
      acc[r][2] = vfmaq_laneq_f32(acc[r][2], k2, qv[r], l);                                   \
      acc[r][3] = vfmaq_laneq_f32(acc[r][3], k3, qv[r], l);                                   \
    }                                                                                         \
  }
    EB_NEON_FEATURE(0)
    EB_NEON_FEATURE(1)
    EB_NEON_FEATURE(2)
    EB_NEON_FEATURE(3)
#undef EB_NEON_FEATURE
  }
  for (; e < d; e++) {
    const float* ke = kt + e * n + j0;
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      for (size_t v = 0; v < 4; v++) acc[r][v] = vfmaq_n_f32(acc[r][v], vld1q_f32(ke + 4 * v), qr[r][e]);
    }
  }
  for (size_t r = 0; r < rows; r++) {
    const size_t i = r0 + r;
    const float32x4_t f = vdupq_n_f32(qs[i]);
    for (size_t v = 0; v < 4; v++) {
      const size_t j = j0 + 4 * v;
      float32x4_t t = vmulq_f32(acc[r][v], vld1q_f32(ki + j));
      t = vmulq_f32(t, f);
      t = vaddq_f32(t, vld1q_f32(bh + i * n + j));
      if (mw != NULL) t = vaddq_f32(t, vld1q_f32(mw + i * n + j));
      vst1q_f32(p + r * n + j, t);
    }
  }
}

// eb_att_values for features e0 … e0 + 15: four rows × four vectors of features, each token's weight
// applied by lane (four tokens a load of weights).
static inline __attribute__((always_inline)) void EB_NAME(eb_att_values_neon16)(const float* restrict p, const float* restrict v,
                                                                                size_t stride, size_t n, size_t rows, size_t e0,
                                                                                const float* restrict rs, float* restrict o, size_t c) {
  float32x4_t acc[EB_ATT_ROWS][4];
  const float* pr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    pr[r] = p + (r < rows ? r : rows - 1) * n;
    for (size_t m = 0; m < 4; m++) acc[r][m] = vdupq_n_f32(0.0f);
  }
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    float32x4_t pv[EB_ATT_ROWS];
    for (size_t r = 0; r < EB_ATT_ROWS; r++) pv[r] = vld1q_f32(pr[r] + j);
#define EB_NEON_TOKEN(l)                                                                      \
  {                                                                                           \
    const float* vj = v + (j + (l)) * stride + e0;                                            \
    const float32x4_t v0 = vld1q_f32(vj), v1 = vld1q_f32(vj + 4), v2 = vld1q_f32(vj + 8),      \
                      v3 = vld1q_f32(vj + 12);                                                \
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {                                                \
      acc[r][0] = vfmaq_laneq_f32(acc[r][0], v0, pv[r], l);                                   \
      acc[r][1] = vfmaq_laneq_f32(acc[r][1], v1, pv[r], l);                                   \
      acc[r][2] = vfmaq_laneq_f32(acc[r][2], v2, pv[r], l);                                   \
      acc[r][3] = vfmaq_laneq_f32(acc[r][3], v3, pv[r], l);                                   \
    }                                                                                         \
  }
    EB_NEON_TOKEN(0)
    EB_NEON_TOKEN(1)
    EB_NEON_TOKEN(2)
    EB_NEON_TOKEN(3)
#undef EB_NEON_TOKEN
  }
  for (; j < n; j++) {
    const float* vj = v + j * stride + e0;
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      for (size_t m = 0; m < 4; m++) acc[r][m] = vfmaq_n_f32(acc[r][m], vld1q_f32(vj + 4 * m), pr[r][j]);
    }
  }
  for (size_t r = 0; r < rows; r++) {
    const float32x4_t f = vdupq_n_f32(rs[r]);
    for (size_t m = 0; m < 4; m++) vst1q_f32(o + r * c + e0 + 4 * m, vmulq_f32(acc[r][m], f));
  }
}
