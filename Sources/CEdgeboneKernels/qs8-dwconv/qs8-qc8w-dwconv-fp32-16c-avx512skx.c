// Int8 depthwise convolution for AVX-512 (Skylake-X and later): 16 channels per zmm. Inputs are
// sign-extended to int32 lanes and weights stored as (int16, 0) pairs, so one vpmaddwd per tap
// multiplies exactly.
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define EB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

EB_TARGET void eb_qs8_qc8w_dwconv_fp32_ukernel_16c__avx512skx(
    const int8_t* x, size_t h, size_t w, size_t c, const void* packed, size_t k, size_t stride,
    size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
    const int8_t* zero_row, const eb_qs8_requant_params* params) {
  (void)oh;
  const int8_t* taps[25];
  const size_t kk = k * k, tile = 16 * 4 + kk * 64 + 16 * 4;
  const __m512 lo = _mm512_set1_ps((float)(params->qmin - params->zero_point));
  const __m512 hi = _mm512_set1_ps((float)(params->qmax - params->zero_point));
  const __m512i zp = _mm512_set1_epi32(params->zero_point);
  const int8_t* lut = params->lut;
  for (size_t oy = oy0; oy < oy1; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
      int8_t* out = y + (oy * ow + ox) * c;
      const uint8_t* p = (const uint8_t*)packed;
      for (size_t c0 = 0; c0 < c; c0 += 16, p += tile) {
        __m512i acc = _mm512_loadu_si512(p);
        const uint8_t* wt = p + 64;
        for (size_t t = 0; t < kk; t++) {
          const __m512i xv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(taps[t] + c0)));
          acc = _mm512_add_epi32(acc, _mm512_madd_epi16(xv, _mm512_loadu_si512(wt + t * 64)));
        }
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(wt + kk * 64));
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        const __m128i q = _mm512_cvtsepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), zp));
        const size_t n = c - c0 < 16 ? c - c0 : 16;
        if (n == 16) {
          _mm_storeu_si128((__m128i*)(out + c0), q);
        } else {
          _mm_mask_storeu_epi8(out + c0, (__mmask16)((1u << n) - 1), q);
        }
        if (lut != NULL)
          for (size_t j = 0; j < n; j++) out[c0 + j] = lut[(uint8_t)out[c0 + j]];
      }
    }
  }
}
#endif
