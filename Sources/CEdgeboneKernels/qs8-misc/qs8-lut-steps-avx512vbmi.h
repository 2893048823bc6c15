// Table lookup from step planes (eb_lut_steps_encode) for 64 indices at once, with AVX-512 VBMI byte
// permutes: each 256-byte plane is two 128-byte halves, each half one vpermi2b, and the block's top bit
// picks the half. Included by kernels compiled with avx512vbmi, after EB_INLINE is defined.
#pragma once
#include <immintrin.h>

// planes[p][block] for 64 blocks; `high` = blocks >= 128.
EB_INLINE __m512i eb_steps_plane(const int8_t* plane, __m512i block, __mmask64 high) {
  const __m512i lo = _mm512_permutex2var_epi8(_mm512_loadu_si512(plane), block, _mm512_loadu_si512(plane + 64));
  const __m512i hi = _mm512_permutex2var_epi8(_mm512_loadu_si512(plane + 128), block, _mm512_loadu_si512(plane + 192));
  return _mm512_mask_blend_epi8(high, lo, hi);
}

// The table entries for two vectors of 32 int16 indices (0..4095), in the byte order
// _mm512_packus_epi16(i01, i23) would give.
EB_INLINE __m512i eb_steps_lookup(__m512i i01, __m512i i23, const int8_t* planes) {
  const __m512i block = _mm512_packus_epi16(_mm512_srli_epi16(i01, 4), _mm512_srli_epi16(i23, 4));
  const __m512i low4 = _mm512_set1_epi16(15);
  const __m512i pos = _mm512_packus_epi16(_mm512_and_si512(i01, low4), _mm512_and_si512(i23, low4));
  const __mmask64 high = _mm512_movepi8_mask(block);
  const __m512i one = _mm512_set1_epi8(1);
  __m512i v = eb_steps_plane(planes, block, high);
  for (int j = 1; j <= 4; j++) {
    const __mmask64 past = _mm512_cmpge_epu8_mask(pos, eb_steps_plane(planes + 256 * j, block, high));
    v = _mm512_mask_add_epi8(v, past, v, one);
  }
  const __mmask64 fell = _mm512_cmpge_epu8_mask(pos, eb_steps_plane(planes + 1280, block, high));
  return _mm512_mask_sub_epi8(v, fell, v, one);
}
