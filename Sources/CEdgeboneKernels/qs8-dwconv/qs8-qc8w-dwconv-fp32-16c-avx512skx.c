// Int8 depthwise convolution for AVX-512 (Skylake-X and later): 16 channels per zmm. Inputs are
// sign-extended to int32 lanes and weights stored as (int16, 0) pairs, so one vpmaddwd per tap
// multiplies exactly. Pixels whose window lies inside the input take a fast path with tap offsets
// computed once per call and the tap loop unrolled for 3x3 and 5x5; border pixels read zero_row.
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define EB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

typedef struct {
  __m512 lo, hi;
  __m512i zp;
  const eb_qs8_requant_params* params;
} eb_dw_rq;

static inline EB_TARGET __attribute__((always_inline)) void eb_dw_finish(__m512i acc, const uint8_t* scale,
                                                                          int8_t* out, size_t n,
                                                                          const eb_dw_rq* rq) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(scale));
  v = _mm512_min_ps(_mm512_max_ps(v, rq->lo), rq->hi);
  const __m512i q32 = _mm512_add_epi32(_mm512_cvtps_epi32(v), rq->zp);
  __m128i q;
  if (rq->params->lut != NULL) {
    const __m512i idx = _mm512_sub_epi32(q32, _mm512_set1_epi32(rq->params->qmin));
    q = _mm512_cvtepi32_epi8(_mm512_i32gather_epi32(idx, (const void*)rq->params->lut, 1));
  } else {
    q = _mm512_cvtsepi32_epi8(q32);
  }
  if (n == 16) {
    _mm_storeu_si128((__m128i*)out, q);
  } else {
    _mm_mask_storeu_epi8(out, (__mmask16)((1u << n) - 1), q);
  }
}

// One pixel, all channel tiles, taps at base + off[t]; KK is a compile-time constant at each call.
static inline EB_TARGET __attribute__((always_inline)) void eb_dw_pixel_inside(
    const int8_t* base, const size_t* off, size_t kk_const, size_t c, const uint8_t* packed,
    int8_t* out, const eb_dw_rq* rq) {
  const size_t tile = 16 * 4 + kk_const * 64 + 16 * 4;
  const uint8_t* p = packed;
  for (size_t c0 = 0; c0 < c; c0 += 16, p += tile) {
    __m512i acc = _mm512_loadu_si512(p);
    const uint8_t* wt = p + 64;
    for (size_t t = 0; t < kk_const; t++) {
      const __m512i xv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(base + off[t] + c0)));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(xv, _mm512_loadu_si512(wt + t * 64)));
    }
    eb_dw_finish(acc, wt + kk_const * 64, out + c0, c - c0 < 16 ? c - c0 : 16, rq);
  }
}

// Four horizontally adjacent inside pixels at once: each weight vector is loaded once for all four,
// and the four accumulators are independent.
static inline EB_TARGET __attribute__((always_inline)) void eb_dw_pixel4_inside(
    const int8_t* base, size_t step, const size_t* off, size_t kk_const, size_t c,
    const uint8_t* packed, int8_t* out, const eb_dw_rq* rq) {
  const size_t tile = 16 * 4 + kk_const * 64 + 16 * 4;
  const uint8_t* p = packed;
  for (size_t c0 = 0; c0 < c; c0 += 16, p += tile) {
    const __m512i b = _mm512_loadu_si512(p);
    __m512i a0 = b, a1 = b, a2 = b, a3 = b;
    const uint8_t* wt = p + 64;
    for (size_t t = 0; t < kk_const; t++) {
      const __m512i wv = _mm512_loadu_si512(wt + t * 64);
      const int8_t* src = base + off[t] + c0;
      a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)src)), wv));
      a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(src + step))), wv));
      a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(src + 2 * step))), wv));
      a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(src + 3 * step))), wv));
    }
    const size_t n = c - c0 < 16 ? c - c0 : 16;
    eb_dw_finish(a0, wt + kk_const * 64, out + c0, n, rq);
    eb_dw_finish(a1, wt + kk_const * 64, out + c + c0, n, rq);
    eb_dw_finish(a2, wt + kk_const * 64, out + 2 * c + c0, n, rq);
    eb_dw_finish(a3, wt + kk_const * 64, out + 3 * c + c0, n, rq);
  }
}

static inline EB_TARGET void eb_dw_pixel_taps(const int8_t** taps, size_t kk, size_t c,
                                              const uint8_t* packed, int8_t* out,
                                              const eb_dw_rq* rq) {
  const size_t tile = 16 * 4 + kk * 64 + 16 * 4;
  const uint8_t* p = packed;
  for (size_t c0 = 0; c0 < c; c0 += 16, p += tile) {
    __m512i acc = _mm512_loadu_si512(p);
    const uint8_t* wt = p + 64;
    for (size_t t = 0; t < kk; t++) {
      const __m512i xv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(taps[t] + c0)));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(xv, _mm512_loadu_si512(wt + t * 64)));
    }
    eb_dw_finish(acc, wt + kk * 64, out + c0, c - c0 < 16 ? c - c0 : 16, rq);
  }
}

EB_TARGET void eb_qs8_qc8w_dwconv_fp32_ukernel_16c__avx512skx(
    const int8_t* x, size_t h, size_t w, size_t c, const void* packed, size_t k, size_t stride,
    size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
    const int8_t* zero_row, const eb_qs8_requant_params* params) {
  (void)oh;
  const int8_t* taps[25];
  size_t off[25];
  const size_t kk = k * k;
  for (size_t ky = 0; ky < k; ky++)
    for (size_t kx = 0; kx < k; kx++) off[ky * k + kx] = (ky * w + kx) * c;
  eb_dw_rq rq;
  rq.lo = _mm512_set1_ps((float)(params->qmin - params->zero_point));
  rq.hi = _mm512_set1_ps((float)(params->qmax - params->zero_point));
  rq.zp = _mm512_set1_epi32(params->zero_point);
  rq.params = params;
  const uint8_t* pk = (const uint8_t*)packed;
  for (size_t oy = oy0; oy < oy1; oy++) {
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    const int row_inside = iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h;
    for (size_t ox = 0; ox < ow; ox++) {
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      int8_t* out = y + (oy * ow + ox) * c;
      const ptrdiff_t ix3 = ix0 + 3 * (ptrdiff_t)stride;
      if (row_inside && ox + 4 <= ow && ix0 >= 0 && ix3 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        const int8_t* base = x + ((size_t)iy0 * w + (size_t)ix0) * c;
        if (kk == 9) {
          eb_dw_pixel4_inside(base, stride * c, off, 9, c, pk, out, &rq);
        } else if (kk == 25) {
          eb_dw_pixel4_inside(base, stride * c, off, 25, c, pk, out, &rq);
        } else {
          eb_dw_pixel4_inside(base, stride * c, off, kk, c, pk, out, &rq);
        }
        ox += 3;
        continue;
      }
      if (row_inside && ix0 >= 0 && ix0 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        const int8_t* base = x + ((size_t)iy0 * w + (size_t)ix0) * c;
        if (kk == 9) {
          eb_dw_pixel_inside(base, off, 9, c, pk, out, &rq);
        } else if (kk == 25) {
          eb_dw_pixel_inside(base, off, 25, c, pk, out, &rq);
        } else {
          eb_dw_pixel_inside(base, off, kk, c, pk, out, &rq);
        }
      } else {
        eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
        eb_dw_pixel_taps(taps, kk, c, pk, out, &rq);
      }
    }
  }
}
#endif
