// Int8 GEMM for NEON without dot product (Cortex-A72, Pi 4): 2 rows x 8 channels, 16-byte k-blocks.
// One 16-byte load of A per row and of each channel's weights; smull on the low halves + smlal2 on
// the high halves form two products per int16 lane (exact: weights are in -127..127, so
// |a*w| <= 16256 and two of them fit in int16), sadalp widens them into int32 accumulators.
#include <CEdgeboneKernels.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#include "qs8-requant-neon.h"

static inline __attribute__((always_inline)) int32x4_t eb_reduce4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

// Tuned for the A72 and unrolled over the 8 channels: the generic schedule issues all 16 products at once
// and spills accumulators inside the k-loop (clang 17 and 21 alike).
__attribute__((target("tune=cortex-a72")))
void eb_qs8_qc8w_gemm_fp32_ukernel_2x8c16__neon(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                                size_t a_stride, const void* w, int8_t* c,
                                                size_t c_stride,
                                                const eb_qs8_requant_params* params) {
  const int8_t* a0 = a;
  const int8_t* a1 = mr > 1 ? a + a_stride : a;
  int8_t* c0 = c;
  int8_t* c1 = mr > 1 ? c + c_stride : c;
  const size_t kpad = (kc + 15) & ~(size_t)15;
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
    for (size_t k = 0; k < kpad; k += 16) {  // reads up to 15 bytes past a row's end: EB_EXTRA_BYTES
      const int8x16_t va0 = vld1q_s8(a0 + k), va1 = vld1q_s8(a1 + k);
#pragma clang loop unroll(full)
      for (int j = 0; j < 8; j++) {
        const int8x16_t wv = vld1q_s8(p + j * 16);
        acc0[j] = vpadalq_s16(acc0[j], vmlal_high_s8(vmull_s8(vget_low_s8(wv), vget_low_s8(va0)), wv, va0));
        acc1[j] = vpadalq_s16(acc1[j], vmlal_high_s8(vmull_s8(vget_low_s8(wv), vget_low_s8(va1)), wv, va1));
      }
      p += 128;
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
