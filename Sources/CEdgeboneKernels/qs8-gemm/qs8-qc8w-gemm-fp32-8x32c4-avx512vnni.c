// Int8 GEMM for AVX-512 VNNI: 8 rows x 32 channels (16 zmm accumulators), vpdpbusd on 4-byte
// k-groups. A is read as uint8 (A ^ 0x80, made by eb_x8_xor80; the packer folds the -128 * sum(w)).
// A last tile of at most 16 channels is packed 16 wide and runs on one zmm per row.
#include <CEdgeboneKernels.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define EB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

static inline EB_TARGET __m512i eb_bcast4(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

static inline EB_TARGET __m512i eb_requant16(__m512i acc, __m512 scale, __m512 lo, __m512 hi,
                                             __m512i zp) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
}

static inline EB_TARGET void eb_store16(int8_t* c, __m512i q, size_t n, const eb_qs8_requant_params* p) {
  n = n < 16 ? n : 16;
  __m128i v;
  if (p->lut != NULL) {
    // Table lookup by gather: 4 bytes at lut + (q - qmin), the low byte is the entry.
    const __m512i idx = _mm512_sub_epi32(q, _mm512_set1_epi32(p->qmin));
    v = _mm512_cvtepi32_epi8(_mm512_i32gather_epi32(idx, (const void*)p->lut, 1));
  } else {
    v = _mm512_cvtsepi32_epi8(q);
  }
  if (n == 16) {
    _mm_storeu_si128((__m128i*)c, v);
  } else {
    _mm_mask_storeu_epi8(c, (__mmask16)((1u << n) - 1), v);
  }
}

EB_TARGET void eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4__avx512vnni(
    size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w, int8_t* c,
    size_t c_stride, const eb_qs8_requant_params* params) {
  const int8_t* ar[8];
  int8_t* cr[8];
  for (size_t r = 0; r < 8; r++) {
    const size_t rr = r < mr ? r : mr - 1;  // extra rows recompute the last valid one, unstored
    ar[r] = a + rr * a_stride;
    cr[r] = c + rr * c_stride;
  }
  const size_t kpad = (kc + 3) & ~(size_t)3;
  const __m512 lo = _mm512_set1_ps((float)(params->qmin - params->zero_point));
  const __m512 hi = _mm512_set1_ps((float)(params->qmax - params->zero_point));
  const __m512i zp = _mm512_set1_epi32(params->zero_point);
  const uint8_t* p = (const uint8_t*)w;
  size_t col = 0;
  while (nc > 0) {
    if (nc > 16) {
      const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512(p + 64);
      p += 128;
      __m512i c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      __m512i c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
#pragma clang loop unroll_count(2)
      for (size_t k = 0; k < kpad; k += 4) {
        const __m512i w0 = _mm512_loadu_si512(p), w1 = _mm512_loadu_si512(p + 64);
        p += 128;
        __m512i va;
        va = eb_bcast4(ar[0] + k); c00 = _mm512_dpbusd_epi32(c00, va, w0); c01 = _mm512_dpbusd_epi32(c01, va, w1);
        va = eb_bcast4(ar[1] + k); c10 = _mm512_dpbusd_epi32(c10, va, w0); c11 = _mm512_dpbusd_epi32(c11, va, w1);
        va = eb_bcast4(ar[2] + k); c20 = _mm512_dpbusd_epi32(c20, va, w0); c21 = _mm512_dpbusd_epi32(c21, va, w1);
        va = eb_bcast4(ar[3] + k); c30 = _mm512_dpbusd_epi32(c30, va, w0); c31 = _mm512_dpbusd_epi32(c31, va, w1);
        va = eb_bcast4(ar[4] + k); c40 = _mm512_dpbusd_epi32(c40, va, w0); c41 = _mm512_dpbusd_epi32(c41, va, w1);
        va = eb_bcast4(ar[5] + k); c50 = _mm512_dpbusd_epi32(c50, va, w0); c51 = _mm512_dpbusd_epi32(c51, va, w1);
        va = eb_bcast4(ar[6] + k); c60 = _mm512_dpbusd_epi32(c60, va, w0); c61 = _mm512_dpbusd_epi32(c61, va, w1);
        va = eb_bcast4(ar[7] + k); c70 = _mm512_dpbusd_epi32(c70, va, w0); c71 = _mm512_dpbusd_epi32(c71, va, w1);
      }
      const __m512 s0 = _mm512_loadu_ps(p), s1 = _mm512_loadu_ps(p + 64);
      p += 128;
      const size_t n1 = nc - 16 < 16 ? nc - 16 : 16;
      const __m512i acc0[8] = {c00, c10, c20, c30, c40, c50, c60, c70};
      const __m512i acc1[8] = {c01, c11, c21, c31, c41, c51, c61, c71};
      // Store from the last row down so duplicated rows (mr < 8) end with the valid result.
      for (int r = 7; r >= 0; r--) {
        if ((size_t)r >= mr) continue;
        eb_store16(cr[r] + col, eb_requant16(acc0[r], s0, lo, hi, zp), 16, params);
        eb_store16(cr[r] + col + 16, eb_requant16(acc1[r], s1, lo, hi, zp), n1, params);
      }
      col += 32;
      nc = nc > 32 ? nc - 32 : 0;
    } else {
      const __m512i b0 = _mm512_loadu_si512(p);
      p += 64;
      __m512i c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0;
      for (size_t k = 0; k < kpad; k += 4) {
        const __m512i w0 = _mm512_loadu_si512(p);
        p += 64;
        c0 = _mm512_dpbusd_epi32(c0, eb_bcast4(ar[0] + k), w0);
        c1 = _mm512_dpbusd_epi32(c1, eb_bcast4(ar[1] + k), w0);
        c2 = _mm512_dpbusd_epi32(c2, eb_bcast4(ar[2] + k), w0);
        c3 = _mm512_dpbusd_epi32(c3, eb_bcast4(ar[3] + k), w0);
        c4 = _mm512_dpbusd_epi32(c4, eb_bcast4(ar[4] + k), w0);
        c5 = _mm512_dpbusd_epi32(c5, eb_bcast4(ar[5] + k), w0);
        c6 = _mm512_dpbusd_epi32(c6, eb_bcast4(ar[6] + k), w0);
        c7 = _mm512_dpbusd_epi32(c7, eb_bcast4(ar[7] + k), w0);
      }
      const __m512 s0 = _mm512_loadu_ps(p);
      p += 64;
      const __m512i acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
      for (size_t r = 0; r < mr; r++) eb_store16(cr[r] + col, eb_requant16(acc[r], s0, lo, hi, zp), nc, params);
      nc = 0;
    }
  }
}
#endif
