// Requantization of 8 int32 lanes (two int32x4) for the NEON GEMMs: fp32 scale, clamp, round half
// to even (vcvtnq), zero point; saturating narrow to bytes, or a table lookup. Internal header.
#pragma once
#include <CEdgeboneKernels.h>
#include <arm_neon.h>

static inline void eb_requant8(int32x4_t lo4, int32x4_t hi4, float32x4_t s0, float32x4_t s1,
                               const eb_qs8_requant_params* p, int8_t* out, size_t n) {
  const float32x4_t lo = vdupq_n_f32((float)(p->qmin - p->zero_point));
  const float32x4_t hi = vdupq_n_f32((float)(p->qmax - p->zero_point));
  const int32x4_t zp = vdupq_n_s32(p->zero_point);
  float32x4_t v0 = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(lo4), s0), lo), hi);
  float32x4_t v1 = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(hi4), s1), lo), hi);
  const int32x4_t q0 = vaddq_s32(vcvtnq_s32_f32(v0), zp), q1 = vaddq_s32(vcvtnq_s32_f32(v1), zp);
  if (p->lut == NULL && n == 8) {
    vst1_s8(out, vqmovn_s16(vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1))));
    return;
  }
  int32_t t[8];
  vst1q_s32(t, q0);
  vst1q_s32(t + 4, q1);
  eb_qs8_store_q(out, t, n, p);
}
