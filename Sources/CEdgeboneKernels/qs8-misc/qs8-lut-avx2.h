// The AVX2 kernels' requantization and 12-bit-table lookup by gather (internal header; include after
// immintrin.h with EB_TARGET defined).
#pragma once

// q = clamp(rint(acc * s)) + zp, or with shift requantization (s holds the counts) clamp(acc >> e) + zp;
// lo, hi: the clamp bounds qmin - zp, qmax - zp.
static inline EB_TARGET __m256i eb_requant_avx2(__m256i acc, __m256 s, __m256 lo, __m256 hi, __m256i zp, int shift) {
  if (shift) {
    const __m256i q = _mm256_srav_epi32(acc, _mm256_castps_si256(s));
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, _mm256_cvtps_epi32(lo)), _mm256_cvtps_epi32(hi)), zp);
  }
  const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), s), lo), hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), zp);
}

// Table lookup by gather (4 bytes at lut + (q - qmin); the low byte is the entry), packed to bytes.
static inline EB_TARGET __m128i eb_lut8_avx2(__m256i q, const eb_qs8_requant_params* p) {
  const __m256i idx = _mm256_sub_epi32(q, _mm256_set1_epi32(p->qmin));
  __m256i v = _mm256_i32gather_epi32((const int*)(const void*)p->lut, idx, 1);
  v = _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24);
  const __m128i v16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_packs_epi16(v16, v16);
}
