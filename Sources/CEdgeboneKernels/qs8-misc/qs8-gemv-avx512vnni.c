// The classifier's int8 GEMV with float outputs for AVX-512 VNNI: y[j] = (acc_j + bias[j]) * scale[j],
// acc_j = Σ (x − x_zero) · w_j. x is read as uint8 u = x ^ 0x80 (= x + 128), so vpdpbusd does 64
// multiply-adds at once: acc_j = Σ u · w_j − (128 + x_zero) · wsum[j], the same integer as the portable
// kernel's, hence the same floats. Weights packed by eb_qs8_gemv_pack: a group of four rows is one run
// of 256-byte blocks, read in order (one stream the prefetcher follows; the same x block serves four
// rows). Bound by the weights' stream: B0's 1280 → 1000 head was 0.12 ms per frame row-major with its
// weights coming from DRAM (Zen 4, a shared L3), 6x its time from cache.
#include <CEdgeboneKernels.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define EB_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

EB_TARGET void eb_qs8_qc8w_gemv_f32__avx512vnni(size_t k, size_t n, const int8_t* x, int32_t x_zero, const int8_t* w,
                                                const int32_t* wsum, const int32_t* bias, const float* scale, float* y) {
  _Static_assert(EB_GEMV_ROWS == 4 && EB_GEMV_KBLOCK == 64, "one zmm per row and block");
  const size_t kp = eb_qs8_gemv_padded_k(k);
  const __m512i x80 = _mm512_set1_epi8((char)0x80);
  const int32_t shift = 128 + x_zero;
  for (size_t j0 = 0; j0 < n; j0 += 4) {
    const int8_t* g = w + j0 * kp;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < kp; i += 64, g += 256) {
      // Past k the weights are zero: whatever u holds there adds nothing.
      const __mmask64 m = k - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (k - i)) - 1;
      const __m512i u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), x80);
      a0 = _mm512_dpbusd_epi32(a0, u, _mm512_loadu_si512(g));
      a1 = _mm512_dpbusd_epi32(a1, u, _mm512_loadu_si512(g + 64));
      a2 = _mm512_dpbusd_epi32(a2, u, _mm512_loadu_si512(g + 128));
      a3 = _mm512_dpbusd_epi32(a3, u, _mm512_loadu_si512(g + 192));
    }
    const int32_t dot[4] = {_mm512_reduce_add_epi32(a0), _mm512_reduce_add_epi32(a1), _mm512_reduce_add_epi32(a2),
                            _mm512_reduce_add_epi32(a3)};
    for (size_t r = 0; r < 4 && j0 + r < n; r++) y[j0 + r] = (float)(dot[r] - shift * wsum[j0 + r] + bias[j0 + r]) * scale[j0 + r];
  }
}
#endif
