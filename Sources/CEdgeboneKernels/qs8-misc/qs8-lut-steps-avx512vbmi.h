// Table lookup from step planes (eb_lut_steps_encode) for 64 indices at once, with AVX-512 VBMI byte
// permutes: each 256-byte plane is two 128-byte halves, each half one vpermi2b, and the block's top bit
// picks the half. Included by kernels compiled with avx512vbmi, after EB_INLINE is defined.
//
// A table of at most 512 entries (a 9-bit grid) needs no planes: its four 128-byte quarters are four
// vpermi2b on the index's low seven bits, and bits 7 and 8 pick the quarter (three blends): about
// eleven instructions per 64 entries where the step planes take some fifty.
//
// The planes are 24 zmm, loaded for every 64 entries when each lookup fetched its own (24 loads per
// 64 outputs). Kernels queue the indices of a few groups of 64 (eb_steps_queue), load the planes into
// registers once and look the whole queue up (eb_steps_lookup_queue): with the fourth rise plane
// skipped where a table allows (SiLU's blocks rise at most three times) that took the K = 16
// expansion's table epilogue from about 200 to about 130 µs on Zen 4.
#pragma once
#include <immintrin.h>

typedef struct {
  __m512i plane[6][4];  // base, up_0..up_3, down; each as four 64-byte quarters
  __m512i low_bytes;    // the low bytes of two vectors of 32 words, in packus order
} eb_steps_regs;

// At most this many groups of 64 wait for one lookup pass.
#define EB_STEPS_QUEUE 8

// Index pairs waiting for their entries, and where each group's 64 bytes go (the caller's meaning).
typedef struct {
  __m512i index[2 * EB_STEPS_QUEUE];
  int8_t* out[EB_STEPS_QUEUE];   // where the bytes go (depthwise)
  size_t row[EB_STEPS_QUEUE];    // or first row and column (GEMM)
  size_t col[EB_STEPS_QUEUE];
  size_t n[EB_STEPS_QUEUE];      // valid channels
  size_t count;
  size_t direct;                 // entries of a table looked up directly, or 0: step planes
} eb_steps_queue;

// What a kernel's permute lookups read for these params (NULL: no table, or it gathers): the table
// itself when it has at most EB_LUT_DIRECT_MAX entries (*direct = entries), else its step planes if
// it has them (*direct = 0).
EB_INLINE const int8_t* eb_permute_source(const eb_qs8_requant_params* p, size_t* direct) {
  *direct = 0;
  if (p->lut == NULL) return NULL;
  const size_t entries = (size_t)(p->qmax - p->qmin + 1);
  if (entries <= EB_LUT_DIRECT_MAX) {
    *direct = entries;
    return p->lut;
  }
  return p->steps;
}

// Byte indices that pick the low byte of every word of two vectors (vpermt2b), in packus order.
EB_INLINE __m512i eb_low_bytes(void) {
  int8_t low[64];
  for (int j = 0; j < 64; j++) low[j] = (int8_t)((j % 16 < 8 ? 0 : 64) + 16 * (j / 16) + 2 * (j % 8));
  return _mm512_loadu_si512(low);
}

typedef struct {
  __m512i quarter[8];   // the table's 64-byte vectors (zero past its end)
  __m512i low_bytes, high_bytes;  // the low and high bytes of two vectors of 32 words, in packus order
} eb_direct_regs;

EB_INLINE void eb_direct_load(eb_direct_regs* r, const int8_t* lut, size_t entries) {
  r->low_bytes = eb_low_bytes();
  r->high_bytes = _mm512_add_epi8(r->low_bytes, _mm512_set1_epi8(1));
  for (size_t v = 0; v < 8; v++) {
    const size_t left = entries > 64 * v ? entries - 64 * v : 0;  // never read past the table
    r->quarter[v] = _mm512_maskz_loadu_epi8(left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1, lut + 64 * v);
  }
}

// What a kernel looks up at once, not through a queue: the direct table's quarters loaded into `r`
// when there are `direct` (!= 0) entries, else NULL; *wide: more than 256 of them.
EB_INLINE const eb_direct_regs* eb_direct_setup(eb_direct_regs* r, const int8_t* lut, size_t direct, int* wide) {
  *wide = direct > 256;
  if (direct == 0) return NULL;
  eb_direct_load(r, lut, direct);
  return r;
}

// The entries for two vectors of 32 int16 indices (0..entries - 1), in packus byte order; `wide`:
// the table has more than 256 entries (a constant at every call).
EB_INLINE __m512i eb_direct_lookup(__m512i i01, __m512i i23, const eb_direct_regs* r, int wide) {
  const __m512i low = _mm512_permutex2var_epi8(i01, r->low_bytes, i23);
  const __mmask64 bit7 = _mm512_movepi8_mask(low);
  const __m512i v = _mm512_mask_blend_epi8(bit7, _mm512_permutex2var_epi8(r->quarter[0], low, r->quarter[1]),
                                           _mm512_permutex2var_epi8(r->quarter[2], low, r->quarter[3]));
  if (!wide) return v;
  const __mmask64 bit8 = _mm512_test_epi8_mask(_mm512_permutex2var_epi8(i01, r->high_bytes, i23), _mm512_set1_epi8(1));
  const __m512i w = _mm512_mask_blend_epi8(bit7, _mm512_permutex2var_epi8(r->quarter[4], low, r->quarter[5]),
                                           _mm512_permutex2var_epi8(r->quarter[6], low, r->quarter[7]));
  return _mm512_mask_blend_epi8(bit8, v, w);
}

EB_INLINE void eb_steps_load(eb_steps_regs* r, const int8_t* steps, int planes) {
  r->low_bytes = eb_low_bytes();
  for (int j = 0; j < 6; j++) {
    if (j == 4 && planes == 5) continue;  // up_3 unused
    for (int q = 0; q < 4; q++) r->plane[j][q] = _mm512_loadu_si512(steps + 256 * j + 64 * q);
  }
}

// planes[p][block] for 64 blocks; `high` = blocks >= 128.
EB_INLINE __m512i eb_steps_plane(const __m512i* t, __m512i block, __mmask64 high) {
  const __m512i lo = _mm512_permutex2var_epi8(t[0], block, t[1]);
  const __m512i hi = _mm512_permutex2var_epi8(t[2], block, t[3]);
  return _mm512_mask_blend_epi8(high, lo, hi);
}

// The table entries for two vectors of 32 int16 indices (0..4095), in the byte order
// _mm512_packus_epi16(i01, i23) would give. `rises` (3 or 4) is a constant at every call.
EB_INLINE __m512i eb_steps_lookup(__m512i i01, __m512i i23, const eb_steps_regs* r, int rises) {
  const __m512i block = _mm512_packus_epi16(_mm512_srli_epi16(i01, 4), _mm512_srli_epi16(i23, 4));
  const __m512i pos = _mm512_and_si512(_mm512_permutex2var_epi8(i01, r->low_bytes, i23), _mm512_set1_epi8(15));
  const __mmask64 high = _mm512_movepi8_mask(block);
  const __m512i one = _mm512_set1_epi8(1);
  __m512i v = eb_steps_plane(r->plane[0], block, high);
  for (int j = 1; j <= rises; j++) {
    const __mmask64 past = _mm512_cmpge_epu8_mask(pos, eb_steps_plane(r->plane[j], block, high));
    v = _mm512_mask_add_epi8(v, past, v, one);
  }
  const __mmask64 fell = _mm512_cmpge_epu8_mask(pos, eb_steps_plane(r->plane[5], block, high));
  return _mm512_mask_sub_epi8(v, fell, v, one);
}

// The table indices of 32 values (two vectors of 16 int32 q = rint(min(v, qmax - zp)), v = acc * scale)
// as int16 in signed-pack order: q + zp - qmin, clamped below at 0. The same as clamping v to
// [qmin - zp, qmax - zp] before rounding (the bounds are integers, so clamp and rounding commute), with
// one float clamp instead of two and the rest on 32 values at once: below the lower bound, q (the
// conversion's 0x80000000 for values out of int32 range included) saturates the pack and the add
// negative, and the maximum makes it 0. base16: zp - qmin in every word.
EB_INLINE __m512i eb_steps_index_pair(__m512i q0, __m512i q1, __m512i base16) {
  return _mm512_max_epi16(_mm512_adds_epi16(_mm512_packs_epi32(q0, q1), base16), _mm512_setzero_si512());
}

// The same for shift requantization whose bias already holds the index base (zero point = qmin, see
// eb_qs8.h): q0, q1 are the shifted values, already table indices but for the clamp to [0, top], which
// the unsigned saturating pack and one unsigned minimum do. top16: qmax - qmin in every word.
EB_INLINE __m512i eb_steps_index_pair_based(__m512i q0, __m512i q1, __m512i top16) {
  return _mm512_min_epu16(_mm512_packus_epi32(q0, q1), top16);
}

EB_INLINE void eb_steps_push(eb_steps_queue* q, __m512i i01, __m512i i23, int8_t* out, size_t row, size_t col,
                             size_t n) {
  q->index[2 * q->count] = i01;
  q->index[2 * q->count + 1] = i23;
  q->out[q->count] = out;
  q->row[q->count] = row;
  q->col[q->count] = col;
  q->n[q->count] = n;
  q->count++;
}

// The entries of every queued group (entries[g], packus byte order), the planes loaded once; empties
// the queue. The callers store them where their queue says.
EB_INLINE void eb_steps_lookup_queue(eb_steps_queue* q, const int8_t* steps, __m512i* entries) {
  if (q->direct != 0) {
    eb_direct_regs d;
    eb_direct_load(&d, steps, q->direct);
    if (q->direct > 256) {
      for (size_t g = 0; g < q->count; g++) entries[g] = eb_direct_lookup(q->index[2 * g], q->index[2 * g + 1], &d, 1);
    } else {
      for (size_t g = 0; g < q->count; g++) entries[g] = eb_direct_lookup(q->index[2 * g], q->index[2 * g + 1], &d, 0);
    }
    return;
  }
  eb_steps_regs r;
  // Not unrolled: a lookup is some fifty instructions, and every kernel call site inlines this.
  if (steps[EB_LUT_STEPS_RISES] <= 3) {
    eb_steps_load(&r, steps, 5);
    _Pragma("clang loop unroll(disable)")
    for (size_t g = 0; g < q->count; g++) entries[g] = eb_steps_lookup(q->index[2 * g], q->index[2 * g + 1], &r, 3);
  } else {
    eb_steps_load(&r, steps, 6);
    _Pragma("clang loop unroll(disable)")
    for (size_t g = 0; g < q->count; g++) entries[g] = eb_steps_lookup(q->index[2 * g], q->index[2 * g + 1], &r, 4);
  }
}
