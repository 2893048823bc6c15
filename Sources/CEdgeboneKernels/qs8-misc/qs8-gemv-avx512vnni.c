// The classifier's int8 GEMV with float outputs for AVX-512 VNNI: y[j] = (acc_j + bias[j]) * scale[j],
// acc_j = Σ (x − x_zero) · w_j. x is read as uint8 u = x ^ 0x80 (= x + 128), so vpdpbusd does 64
// multiply-adds at once, and a second vpdpbusd on a vector of ones sums the weights alongside:
// acc_j = Σ u · w_j − (128 + x_zero) · Σ w_j, the same integer as the portable kernel's, hence the same
// floats. Four rows share each load of x. The portable kernel (int16 multiply-adds) ran B0's 1280 → 1000
// classifier at 52–64 GMAC/s on Zen 5, below what L3 delivers; this one is bound by the weights' stream.
#include <CEdgeboneKernels.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define EB_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define EB_INLINE static inline __attribute__((always_inline)) EB_TARGET

// Rows [j, j + R) (R a constant at every call).
EB_INLINE void eb_gemv_rows(size_t k, const int8_t* x, int32_t x_zero, const int8_t* w, const int32_t* bias,
                            const float* scale, float* y, const int R) {
  const __m512i x80 = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
  __m512i acc[4], sum[4];
  for (int r = 0; r < R; r++) acc[r] = sum[r] = _mm512_setzero_si512();
  for (size_t i = 0; i < k; i += 64) {
    const __mmask64 m = k - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (k - i)) - 1;
    const __m512i u = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), x80));
    for (int r = 0; r < R; r++) {
      const __m512i wv = _mm512_maskz_loadu_epi8(m, w + (size_t)r * k + i);
      acc[r] = _mm512_dpbusd_epi32(acc[r], u, wv);
      sum[r] = _mm512_dpbusd_epi32(sum[r], ones, wv);
    }
  }
  for (int r = 0; r < R; r++) {
    const int32_t dot = _mm512_reduce_add_epi32(acc[r]) - (128 + x_zero) * _mm512_reduce_add_epi32(sum[r]);
    y[r] = (float)(dot + bias[r]) * scale[r];
  }
}

EB_TARGET void eb_qs8_qc8w_gemv_f32__avx512vnni(size_t k, size_t n, const int8_t* x, int32_t x_zero, const int8_t* w,
                                                const int32_t* bias, const float* scale, float* y) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) eb_gemv_rows(k, x, x_zero, w + j * k, bias + j, scale + j, y + j, 4);
  for (; j < n; j++) eb_gemv_rows(k, x, x_zero, w + j * k, bias + j, scale + j, y + j, 1);
}
#endif
