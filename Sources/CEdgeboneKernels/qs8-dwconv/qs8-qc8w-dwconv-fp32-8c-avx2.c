// Int8 depthwise convolution for AVX2: 8 channels per ymm, vpmaddwd on (int16, 0) weight pairs.
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define EB_TARGET __attribute__((target("avx2,fma")))
#include "../qs8-misc/qs8-lut-avx2.h"


EB_TARGET void eb_qs8_qc8w_dwconv_fp32_ukernel_8c__avx2(
    const int8_t* x, size_t h, size_t w, size_t c, const void* packed, size_t k, size_t stride,
    size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
    const int8_t* zero_row, const eb_qs8_requant_params* params) {
  (void)oh;
  const int8_t* taps[25];
  const size_t kk = k * k, tile = 8 * 4 + kk * 32 + 8 * 4;
  const __m256 lo = _mm256_set1_ps((float)(params->qmin - params->zero_point));
  const __m256 hi = _mm256_set1_ps((float)(params->qmax - params->zero_point));
  const __m256i zp = _mm256_set1_epi32(params->zero_point);
  const int8_t* lut = params->lut;
  for (size_t oy = oy0; oy < oy1; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
      int8_t* out = y + (oy * ow + ox) * c;
      const uint8_t* p = (const uint8_t*)packed;
      for (size_t c0 = 0; c0 < c; c0 += 8, p += tile) {
        __m256i acc = _mm256_loadu_si256((const __m256i*)p);
        const uint8_t* wt = p + 32;
        for (size_t t = 0; t < kk; t++) {
          const __m256i xv = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(taps[t] + c0)));
          acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i*)(wt + t * 32))));
        }
        const __m256i q = eb_requant_avx2(acc, _mm256_loadu_ps((const float*)(wt + kk * 32)), lo, hi, zp, params->shift);
        const size_t n = c - c0 < 8 ? c - c0 : 8;
        __m128i q8;
        if (lut != NULL) {
          q8 = eb_lut8_avx2(q, params);
        } else {
          const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
          q8 = _mm_packs_epi16(q16, q16);
        }
        if (n == 8) {
          _mm_storel_epi64((__m128i*)(out + c0), q8);
        } else {
          int8_t t[16];
          _mm_storeu_si128((__m128i*)t, q8);
          memcpy(out + c0, t, n);
        }
      }
    }
  }
}
#endif
