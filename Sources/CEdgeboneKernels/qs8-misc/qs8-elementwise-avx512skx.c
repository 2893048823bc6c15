// Elementwise int8 kernels (add, channel scale, global average pool, LUT): avx512skx build of the
// shared body, plus a hand-written channel scaling (the squeeze-and-excite gate runs over B0's
// largest tensors, and the vectorized loop of the body measured about 1.3 outputs per cycle) and a
// global average pool that sums in registers (the body's loop adds each row into the sums in
// memory: one store-to-load chain per row, 39 us for B0's first pool, 112x112x32).
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__x86_64__)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define EB_NAME(name) name##__avx512skx
#define EB_OWN_VMULC  // the body's loop stays, as eb_qs8_vmulc_body, for gates too wide for the stack copy
#define EB_OWN_GAVGPOOL
#include "qs8-elementwise-body.h"

#define EB_INLINE static inline __attribute__((always_inline))

typedef struct {
  __m512 scale, cap;
  __m512i zp16, order, qmin8, qmax8, flip;
  int clamp;  // the clamp narrows [-128, 127] (a fused ReLU-like bound)
} eb_mulc_consts;

// Up to 64 outputs (the first n) from x and, for the same channels, the gate as floats gf = g - zg
// and cf = -zx * gf. The reference's int32 product (x - zx) * (g - zg) is below 2^24 in magnitude,
// and so are x * gf and cf: one fused multiply-add x * gf + cf gives the product exactly, then one
// rounding for the scale, as in the reference. Rounded values narrow by saturating packs (zero point
// added on the way) and an int8 clamp only when it is narrower than int8, which equals the
// reference's clamp-then-round because round and clamp commute for integer bounds; the cap keeps
// cvtps2dq in range. Lanes come out scrambled; one dword permute puts them back.
EB_INLINE void eb_mulc64(const int8_t* x, const float* gf, const float* cf, int8_t* y, size_t n, const eb_mulc_consts* k) {
  __m512i q[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  const __mmask64 m = n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
  for (size_t j = 0; j < 4 && 16 * j < n; j++) {
    const __m128i xb = _mm_maskz_loadu_epi8((__mmask16)(m >> (16 * j)), x + 16 * j);
    const __m512 prod = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(xb)), _mm512_loadu_ps(gf + 16 * j), _mm512_loadu_ps(cf + 16 * j));
    q[j] = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(prod, k->scale), k->cap));
  }
  const __m512i p01 = _mm512_adds_epi16(_mm512_packs_epi32(q[0], q[1]), k->zp16);
  const __m512i p23 = _mm512_adds_epi16(_mm512_packs_epi32(q[2], q[3]), k->zp16);
  __m512i b = _mm512_packs_epi16(p01, p23);
  if (k->clamp) b = _mm512_min_epi8(_mm512_max_epi8(b, k->qmin8), k->qmax8);
  _mm512_mask_storeu_epi8(y, m, _mm512_xor_si512(_mm512_permutexvar_epi32(k->order, b), k->flip));
}

#define EB_MULC_GATE_MAX 2048

void eb_qs8_vmulc_ukernel__avx512skx(size_t rows, size_t c, const int8_t* x, const int8_t* g, int8_t* y,
                                     const eb_qs8_mulc_params* p) {
  eb_mulc_consts k;
  k.scale = _mm512_set1_ps(p->scale);
  k.cap = _mm512_set1_ps(65536.0f);
  k.zp16 = _mm512_set1_epi16((int16_t)p->out.zero_point);
  k.order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  k.clamp = p->out.qmin > -128 || p->out.qmax < 127;
  k.qmin8 = _mm512_set1_epi8((char)p->out.qmin);
  k.qmax8 = _mm512_set1_epi8((char)p->out.qmax);
  // With a table, the flip comes after it (below); without, in the store.
  const int late_flip = p->flip && p->out.lut != NULL;
  k.flip = _mm512_set1_epi8(p->flip && !late_flip ? (char)0x80 : 0);
  // The gate as floats, converted once. Rows of 1, 2, 4 … 64 channels run as one flat array
  // whose 64-byte blocks all hold the same channels; wider rows run row by row.
  float gf[EB_MULC_GATE_MAX + 64], cf[EB_MULC_GATE_MAX + 64];
  const int flat = c <= 64 && 64 % c == 0;
  const size_t span = flat ? 64 : c;
  if (span > EB_MULC_GATE_MAX) {
    EB_NAME(eb_qs8_vmulc_body)(rows, c, x, g, y, p);
    return;
  }
  // Channel by channel, then repeated for a flat span: no `i % c`, a division per channel, paid by
  // every part of a split scaling (B0's five 7x7 scalings, one thread: 0.037 -> 0.028 ms per frame).
  for (size_t j = 0; j < c; j++) {
    gf[j] = (float)((int32_t)g[j] - p->g_zero);
    cf[j] = (float)(-p->x_zero * ((int32_t)g[j] - p->g_zero));
  }
  for (size_t i = c; i < span; i++) {
    gf[i] = gf[i - c];
    cf[i] = cf[i - c];
  }
  if (flat) {
    const size_t n = rows * c;
    for (size_t i = 0; i < n; i += 64) eb_mulc64(x + i, gf, cf, y + i, n - i, &k);
  } else {
    for (size_t r = 0; r < rows; r++) {
      for (size_t c0 = 0; c0 < c; c0 += 64) eb_mulc64(x + r * c + c0, gf + c0, cf + c0, y + r * c + c0, c - c0, &k);
    }
  }
  if (p->out.lut != NULL) EB_NAME(eb_apply_lut)(y, rows * c, &p->out);
  if (late_flip) eb_x8_xor80__avx512skx(y, (uint8_t*)y, rows * c);
}

// Adds the first n (<= 64) of 64 int8 at x, widened, to two vectors of 32 int16 sums.
EB_INLINE void eb_add64_16(__m512i* s, const int8_t* x, size_t n) {
  if (n >= 64) {
    s[0] = _mm512_add_epi16(s[0], _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i*)x)));
    s[1] = _mm512_add_epi16(s[1], _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i*)(x + 32))));
    return;
  }
  const __mmask64 m = ((__mmask64)1 << n) - 1;
  s[0] = _mm512_add_epi16(s[0], _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8((__mmask32)m, x)));
  s[1] = _mm512_add_epi16(s[1], _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8((__mmask32)(m >> 32), x + 32)));
}

// Widens two vectors of 32 int16 sums into four of 16 int32 (lanes in the same order) and clears them.
EB_INLINE void eb_flush16(__m512i* s16, __m512i* s) {
  s[0] = _mm512_add_epi32(s[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(s16[0])));
  s[1] = _mm512_add_epi32(s[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(s16[0], 1)));
  s[2] = _mm512_add_epi32(s[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(s16[1])));
  s[3] = _mm512_add_epi32(s[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(s16[1], 1)));
  s16[0] = s16[1] = _mm512_setzero_si512();
}

// Sums 64 channels in two zmm of int16, widened into four of int32 every 256 rows, then the body's
// requantization (one load, two widenings and two adds per 64 bytes, where int32 sums take four
// each: B0's first pool, 112x112x32, 13 -> 3.6 us in bench --profile). When c divides 64 the input runs as one flat
// array of 64-byte blocks (64 / c pixels each), and the lanes of one channel are added at the end.
// Sums stay exact: at most 2^31 / 255 rows.
void eb_qs8_gavgpool_ukernel__avx512skx(size_t rows, size_t c, const int8_t* x, int8_t* y, int32_t* acc,
                                        const eb_qs8_gavgpool_params* p) {
  const int32_t bias = -(int32_t)rows * p->x_zero;
  const int flat = c < 64 && 64 % c == 0;
  int32_t lanes[64];
  for (size_t c0 = 0; c0 < c; c0 += 64) {
    const size_t m = c - c0 < 64 ? c - c0 : 64;
    __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    __m512i s16[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    if (flat) {
      const size_t n = rows * c;
      for (size_t i0 = 0; i0 < n; i0 += 64 * EB_POOL_RUN) {
        const size_t end = n - i0 < 64 * EB_POOL_RUN ? n : i0 + 64 * EB_POOL_RUN;
        for (size_t i = i0; i < end; i += 64) eb_add64_16(s16, x + i, end - i);
        eb_flush16(s16, s);
      }
    } else {
      for (size_t r0 = 0; r0 < rows; r0 += EB_POOL_RUN) {
        const size_t end = rows - r0 < EB_POOL_RUN ? rows : r0 + EB_POOL_RUN;
        if (m == 64) {
          for (size_t r = r0; r < end; r++) eb_add64_16(s16, x + r * c + c0, 64);
        } else {
          for (size_t r = r0; r < end; r++) eb_add64_16(s16, x + r * c + c0, m);
        }
        eb_flush16(s16, s);
      }
    }
    for (int j = 0; j < 4; j++) _mm512_storeu_si512(lanes + 16 * j, s[j]);
    EB_NAME(eb_gavgpool_lanes)(lanes, m, c, c0, flat, bias, acc);
  }
  if (y != NULL) EB_NAME(eb_gavgpool_requant)(c, acc, y, p);
}

// 64 bytes at a time, a masked tail (the generic loop is built for baseline x86-64: 16 at a time).
void eb_x8_xor80__avx512skx(const int8_t* x, uint8_t* y, size_t n) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(y + i, _mm512_xor_si512(_mm512_loadu_si512(x + i), flip));
  if (i < n) {
    const __mmask64 m = ((__mmask64)1 << (n - i)) - 1;
    _mm512_mask_storeu_epi8(y + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip));
  }
}

#pragma clang attribute pop
#endif
