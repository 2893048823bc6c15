// Int8 GEMM for AVX2: 4 rows x 8 channels, weights pre-widened to int16 pairs (k, k+1) so that one
// vpmaddwd does 16 exact multiply-adds (no int16 saturation, unlike vpmaddubsw).
#include <CEdgeboneKernels.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define EB_TARGET __attribute__((target("avx2,fma")))
#include "../qs8-misc/qs8-lut-avx2.h"


static inline EB_TARGET __m256i eb_pair(const int8_t* a) {
  const uint32_t v = (uint32_t)(uint16_t)(int16_t)a[0] | ((uint32_t)(uint16_t)(int16_t)a[1] << 16);
  return _mm256_set1_epi32((int32_t)v);
}

EB_TARGET void eb_qs8_qc8w_gemm_fp32_ukernel_4x8c2__avx2(size_t mr, size_t nc, size_t kc,
                                                        const int8_t* a, size_t a_stride,
                                                        const void* w, int8_t* c, size_t c_stride,
                                                        const eb_qs8_requant_params* params) {
  const int8_t* ar[4];
  int8_t* cr[4];
  for (size_t r = 0; r < 4; r++) {
    const size_t rr = r < mr ? r : mr - 1;
    ar[r] = a + rr * a_stride;
    cr[r] = c + rr * c_stride;
  }
  const size_t kpad = (kc + 1) & ~(size_t)1;
  const __m256 lo = _mm256_set1_ps((float)(params->qmin - params->zero_point));
  const __m256 hi = _mm256_set1_ps((float)(params->qmax - params->zero_point));
  const __m256i zp = _mm256_set1_epi32(params->zero_point);
  const uint8_t* p = (const uint8_t*)w;
  size_t col = 0;
  while (nc > 0) {
    const __m256i b = _mm256_loadu_si256((const __m256i*)p);
    p += 32;
    __m256i acc[4] = {b, b, b, b};
    size_t k = 0;
    for (; k + 8 <= kpad; k += 8) {
      const __m256i w0 = _mm256_loadu_si256((const __m256i*)p);
      const __m256i w1 = _mm256_loadu_si256((const __m256i*)(p + 32));
      const __m256i w2 = _mm256_loadu_si256((const __m256i*)(p + 64));
      const __m256i w3 = _mm256_loadu_si256((const __m256i*)(p + 96));
      p += 128;
      for (size_t r = 0; r < 4; r++) {
        const __m128i a16 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(ar[r] + k)));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_broadcastd_epi32(a16), w0));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_broadcastd_epi32(_mm_srli_si128(a16, 4)), w1));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_broadcastd_epi32(_mm_srli_si128(a16, 8)), w2));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_broadcastd_epi32(_mm_srli_si128(a16, 12)), w3));
      }
    }
    for (; k < kpad; k += 2) {
      const __m256i w0 = _mm256_loadu_si256((const __m256i*)p);
      p += 32;
      for (size_t r = 0; r < 4; r++) acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(eb_pair(ar[r] + k), w0));
    }
    const __m256 s = _mm256_loadu_ps((const float*)p);
    p += 32;
    const size_t n = nc < 8 ? nc : 8;
    for (int r = 3; r >= 0; r--) {
      if ((size_t)r >= mr) continue;
      const __m256i q = eb_requant_avx2(acc[r], s, lo, hi, zp, params->shift);
      __m128i q8;
      if (params->lut != NULL) {
        q8 = eb_lut8_avx2(q, params);
      } else {
        const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        q8 = _mm_packs_epi16(q16, q16);
      }
      if (n == 8) {
        _mm_storel_epi64((__m128i*)(cr[r] + col), q8);
      } else {
        int8_t t[16];
        _mm_storeu_si128((__m128i*)t, q8);
        memcpy(cr[r] + col, t, n);
      }
    }
    col += 8;
    nc -= n;
  }
}
#endif
