// Int8 GEMM for NEON without dot product (Cortex-A72, Pi 4): 2 rows x 8 channels, 8-byte k-blocks.
// smull + smlal form two products per int16 lane (exact: weights are in -127..127, so
// |a*w| <= 16256 and two of them fit in int16), sadalp widens them into int32 accumulators.
#include <CEdgeboneKernels.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#include "qs8-requant-neon.h"

static inline int32x4_t eb_reduce4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}


void eb_qs8_qc8w_gemm_fp32_ukernel_2x8c8__neon(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                               size_t a_stride, const void* w, int8_t* c,
                                               size_t c_stride,
                                               const eb_qs8_requant_params* params) {
  const int8_t* a0 = a;
  const int8_t* a1 = mr > 1 ? a + a_stride : a;
  int8_t* c0 = c;
  int8_t* c1 = mr > 1 ? c + c_stride : c;
  const size_t kpad = (kc + 7) & ~(size_t)7;
  const eb_neon_requant rq = eb_neon_requant_init(params);
  const int8_t* p = (const int8_t*)w;
  while (nc > 0) {
    int32x4_t acc0[8], acc1[8];
    const int32_t* bias = (const int32_t*)p;
    for (int j = 0; j < 8; j++) {
      acc0[j] = vsetq_lane_s32(bias[j], vdupq_n_s32(0), 0);
      acc1[j] = acc0[j];
    }
    p += 32;
    size_t k = 0;
    for (; k + 16 <= kpad; k += 16) {
      const int8x8_t va0x = vld1_s8(a0 + k), va0y = vld1_s8(a0 + k + 8);
      const int8x8_t va1x = vld1_s8(a1 + k), va1y = vld1_s8(a1 + k + 8);
      for (int j = 0; j < 8; j++) {
        const int8x8_t wx = vld1_s8(p + j * 8), wy = vld1_s8(p + 64 + j * 8);
        int16x8_t p0 = vmull_s8(wx, va0x);
        int16x8_t p1 = vmull_s8(wx, va1x);
        p0 = vmlal_s8(p0, wy, va0y);
        p1 = vmlal_s8(p1, wy, va1y);
        acc0[j] = vpadalq_s16(acc0[j], p0);
        acc1[j] = vpadalq_s16(acc1[j], p1);
      }
      p += 128;
    }
    if (k < kpad) {
      const int8x8_t va0 = vld1_s8(a0 + k), va1 = vld1_s8(a1 + k);
      for (int j = 0; j < 8; j++) {
        const int8x8_t wx = vld1_s8(p + j * 8);
        acc0[j] = vpadalq_s16(acc0[j], vmull_s8(wx, va0));
        acc1[j] = vpadalq_s16(acc1[j], vmull_s8(wx, va1));
      }
      p += 64;
    }
    const float32x4_t s0 = vld1q_f32((const float*)p), s1 = vld1q_f32((const float*)p + 4);
    p += 32;
    const size_t n = nc < 8 ? nc : 8;
    if (mr > 1)
      eb_neon_store8(eb_neon_requant8(eb_reduce4(acc1[0], acc1[1], acc1[2], acc1[3]),
                                      eb_reduce4(acc1[4], acc1[5], acc1[6], acc1[7]), s0, s1, &rq), &rq, c1, n);
    eb_neon_store8(eb_neon_requant8(eb_reduce4(acc0[0], acc0[1], acc0[2], acc0[3]),
                                    eb_reduce4(acc0[4], acc0[5], acc0[6], acc0[7]), s0, s1, &rq), &rq, c0, n);
    c0 += n;
    c1 += n;
    nc -= n;
  }
}
#endif
