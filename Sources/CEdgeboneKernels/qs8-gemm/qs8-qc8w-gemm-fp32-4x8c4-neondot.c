// Int8 GEMM for NEON with dot product (Cortex-A76, Pi 5): 4 rows x 8 channels, sdot on 4-byte
// k-groups; four groups (16 bytes of A per row, one load) per step, then two, then one.
#include <CEdgeboneKernels.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#include "qs8-requant-neon.h"

#define EB_TARGET __attribute__((target("dotprod")))


EB_TARGET void eb_qs8_qc8w_gemm_fp32_ukernel_4x8c4__neondot(size_t mr, size_t nc, size_t kc,
                                                           const int8_t* a, size_t a_stride,
                                                           const void* w, int8_t* c,
                                                           size_t c_stride,
                                                           const eb_qs8_requant_params* params) {
  const int8_t* ar[4];
  int8_t* cr[4];
  for (size_t r = 0; r < 4; r++) {
    const size_t rr = r < mr ? r : mr - 1;
    ar[r] = a + rr * a_stride;
    cr[r] = c + rr * c_stride;
  }
  const size_t kpad = (kc + 3) & ~(size_t)3;
  const eb_neon_requant rq = eb_neon_requant_init(params);
  const int8_t* p = (const int8_t*)w;
  while (nc > 0) {
    const int32x4_t b0 = vld1q_s32((const int32_t*)p), b1 = vld1q_s32((const int32_t*)p + 4);
    p += 32;
    int32x4_t acc[4][2];
    for (int r = 0; r < 4; r++) { acc[r][0] = b0; acc[r][1] = b1; }
    size_t k = 0;
    for (; k + 16 <= kpad; k += 16) {
      const int8x16_t w0 = vld1q_s8(p), w1 = vld1q_s8(p + 16), w2 = vld1q_s8(p + 32), w3 = vld1q_s8(p + 48);
      const int8x16_t w4 = vld1q_s8(p + 64), w5 = vld1q_s8(p + 80), w6 = vld1q_s8(p + 96), w7 = vld1q_s8(p + 112);
      p += 128;
      for (int r = 0; r < 4; r++) {
        const int8x16_t va = vld1q_s8(ar[r] + k);
        acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, va, 0);
        acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, va, 0);
        acc[r][0] = vdotq_laneq_s32(acc[r][0], w2, va, 1);
        acc[r][1] = vdotq_laneq_s32(acc[r][1], w3, va, 1);
        acc[r][0] = vdotq_laneq_s32(acc[r][0], w4, va, 2);
        acc[r][1] = vdotq_laneq_s32(acc[r][1], w5, va, 2);
        acc[r][0] = vdotq_laneq_s32(acc[r][0], w6, va, 3);
        acc[r][1] = vdotq_laneq_s32(acc[r][1], w7, va, 3);
      }
    }
    if (k + 8 <= kpad) {
      const int8x16_t w0 = vld1q_s8(p), w1 = vld1q_s8(p + 16), w2 = vld1q_s8(p + 32), w3 = vld1q_s8(p + 48);
      p += 64;
      for (int r = 0; r < 4; r++) {
        const int8x8_t va = vld1_s8(ar[r] + k);
        acc[r][0] = vdotq_lane_s32(acc[r][0], w0, va, 0);
        acc[r][1] = vdotq_lane_s32(acc[r][1], w1, va, 0);
        acc[r][0] = vdotq_lane_s32(acc[r][0], w2, va, 1);
        acc[r][1] = vdotq_lane_s32(acc[r][1], w3, va, 1);
      }
      k += 8;
    }
    if (k < kpad) {
      const int8x16_t w0 = vld1q_s8(p), w1 = vld1q_s8(p + 16);
      p += 32;
      for (int r = 0; r < 4; r++) {
        const int8x8_t va = vld1_s8(ar[r] + k);  // reads 4 bytes past the last group: EB_EXTRA_BYTES
        acc[r][0] = vdotq_lane_s32(acc[r][0], w0, va, 0);
        acc[r][1] = vdotq_lane_s32(acc[r][1], w1, va, 0);
      }
    }
    const float32x4_t s0 = vld1q_f32((const float*)p), s1 = vld1q_f32((const float*)p + 4);
    p += 32;
    const size_t n = nc < 8 ? nc : 8;
    for (int r = 3; r >= 0; r--) {
      if ((size_t)r >= mr) continue;
      eb_neon_store8(eb_neon_requant8(acc[r][0], acc[r][1], s0, s1, &rq), &rq, cr[r], n);
      cr[r] += n;
    }
    nc -= n;
  }
}
#endif
