// Int8 depthwise convolution for NEON: 8 channels, inputs widened to int16, smlal/smlal2 with
// int16 weights into two int32x4 accumulators (exact).
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void eb_qs8_qc8w_dwconv_fp32_ukernel_8c__neon(const int8_t* x, size_t h, size_t w, size_t c,
                                              const void* packed, size_t k, size_t stride,
                                              size_t pad_top, size_t pad_left, int8_t* y,
                                              size_t oh, size_t ow, size_t oy0, size_t oy1,
                                              const int8_t* zero_row,
                                              const eb_qs8_requant_params* params) {
  (void)oh;
  const int8_t* taps[25];
  const size_t kk = k * k, tile = 8 * 4 + kk * 16 + 8 * 4;
  const float32x4_t lo = vdupq_n_f32((float)(params->qmin - params->zero_point));
  const float32x4_t hi = vdupq_n_f32((float)(params->qmax - params->zero_point));
  const int32x4_t zp = vdupq_n_s32(params->zero_point);
  const int8_t* lut = params->lut;
  for (size_t oy = oy0; oy < oy1; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
      int8_t* out = y + (oy * ow + ox) * c;
      const uint8_t* p = (const uint8_t*)packed;
      for (size_t c0 = 0; c0 < c; c0 += 8, p += tile) {
        int32x4_t acc0 = vld1q_s32((const int32_t*)p), acc1 = vld1q_s32((const int32_t*)p + 4);
        const int16_t* wt = (const int16_t*)(p + 32);
        for (size_t t = 0; t < kk; t++) {
          const int16x8_t xv = vmovl_s8(vld1_s8(taps[t] + c0));
          const int16x8_t wv = vld1q_s16(wt + t * 8);
          acc0 = vmlal_s16(acc0, vget_low_s16(xv), vget_low_s16(wv));
          acc1 = vmlal_high_s16(acc1, xv, wv);
        }
        const float* s = (const float*)(p + 32 + kk * 16);
        float32x4_t v0 = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(acc0), vld1q_f32(s)), lo), hi);
        float32x4_t v1 = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(acc1), vld1q_f32(s + 4)), lo), hi);
        const int32x4_t q0 = vaddq_s32(vcvtnq_s32_f32(v0), zp), q1 = vaddq_s32(vcvtnq_s32_f32(v1), zp);
        const size_t n = c - c0 < 8 ? c - c0 : 8;
        if (lut == NULL && n == 8) {
          vst1_s8(out + c0, vqmovn_s16(vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1))));
        } else {
          int32_t t[8];
          vst1q_s32(t, q0);
          vst1q_s32(t + 4, q1);
          eb_qs8_store_q(out + c0, t, n, params);
        }
      }
    }
  }
}
#endif
