// Int8 depthwise convolution for AVX-512 VNNI: 64 channels x 4 taps per vpdpbusd group. The four
// tap rows (64 channels each, read as uint8 = x ^ 0x80) are byte-interleaved with two rounds of
// unpacks so each dword holds one channel's four taps; one vpdpbusd then does 64 multiply-adds where
// a vpmaddwd formulation does 16. The unpacks scramble channels within 128-bit lanes (accumulator j,
// dword d = channel 16 * (d / 4) + 4 * j + d % 4); the packer lays out bias, weights and scales in
// that order, and the narrowing packs of the epilogue undo it, so results land in channel order.
// Taps are grouped 4 at a time (3x3: 3 groups, 5x5: 7); the slots past k*k have zero weights.
// A table epilogue gathers its entries; the avx512vbmi build looks them up with byte permutes
// instead, 64 at a time: a table of at most 512 entries directly from its quarters as each group is
// requantized (queueing those too cost B0's depthwise about 6%, Zen 5), a larger one in its step
// planes, when it has them: indices of up to eight groups of 64 channels are queued and looked up
// together, with the planes in registers. With shift
// requantization (params->shift) the scale slots hold counts, and one vpsravd per 16 channels
// replaces the conversion, multiply and conversion back.
//
// The body of two builds: the includer defines EB_TARGET_FEATURES, EB_NAME and EB_LUT_STEPS (0 or 1).
#include <CEdgeboneKernels.h>
#include <string.h>
#include <immintrin.h>
#include "qs8-dwconv-taps.h"

#define EB_TARGET __attribute__((target(EB_TARGET_FEATURES)))
#define EB_INLINE static inline __attribute__((always_inline)) EB_TARGET
#if EB_LUT_STEPS
#include "../qs8-misc/qs8-lut-steps-avx512vbmi.h"
#endif

typedef struct {
  __m512 lo, hi, cap;
  __m512i zp_minus_qmin, zp_minus_qmin16, zp16, qmin8, qmax8, x80;
  __m512i lo_i, hi_i;  // the clamp bounds as int32 (shift requantization)
  int shift;           // the scale slots hold shift counts (eb_qs8.h)
  int based;           // … and the bias holds the table's index base (zero point = qmin): shifts are indices
  __m512i top16;       // qmax - qmin in every int16 (the last index)
  __m512i spread[4];  // byte shuffles placing one tap's channels in accumulator j's dwords
  const int8_t* lut;
  const int8_t* steps;  // what permute lookups read (avx512vbmi build, eb_permute_source), or NULL
#if EB_LUT_STEPS
  eb_steps_queue* queue;
  const eb_direct_regs* direct;  // a table of at most 512 entries: looked up at once, not queued
  int wide;                      // … of more than 256 entries
#endif
} eb_dw64_rq;

EB_INLINE void eb_dw64_store(int8_t* out, size_t n, __m512i b) {
  if (n >= 64) {
    _mm512_storeu_si512(out, b);
  } else {
    _mm512_mask_storeu_epi8(out, (__mmask64)((1ull << n) - 1), b);
  }
}

// Stores n channels of b at out, or (out_hi set: two pixels' last tiles of n <= 32 channels, see
// eb_dw32_pair) the low 32 bytes at out and the high 32 at out_hi.
EB_INLINE void eb_dw64_put(int8_t* out, int8_t* out_hi, size_t n, __m512i b) {
  if (out_hi == NULL) {
    eb_dw64_store(out, n, b);
    return;
  }
  const __mmask32 m = n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1;
  _mm256_mask_storeu_epi8(out, m, _mm512_castsi512_si256(b));
  _mm256_mask_storeu_epi8(out_hi, m, _mm512_extracti64x4_epi64(b, 1));
}

#if EB_LUT_STEPS
// Looks up the queued groups and stores them.
EB_INLINE void eb_dw64_flush(const eb_dw64_rq* rq) {
  eb_steps_queue* q = rq->queue;
  __m512i entries[EB_STEPS_QUEUE];
  eb_steps_lookup_queue(q, rq->steps, entries);
  for (size_t g = 0; g < q->count; g++) eb_dw64_store(q->out[g], q->n[g], entries[g]);
  q->count = 0;
}

// Looks one group's indices up (a direct table) or queues them (in packus order; a tail's
// zero-extended), flushing a full queue. out_hi: see eb_dw64_put (never with a queue).
EB_INLINE void eb_dw64_queue(__m512i i01, __m512i i23, int8_t* out, int8_t* out_hi, size_t n, const eb_dw64_rq* rq) {
  if (rq->direct != NULL) {
    eb_dw64_put(out, out_hi, n, rq->wide ? eb_direct_lookup(i01, i23, rq->direct, 1) : eb_direct_lookup(i01, i23, rq->direct, 0));
    return;
  }
  eb_steps_push(rq->queue, i01, i23, out, 0, 0, n);
  if (rq->queue->count == EB_STEPS_QUEUE) eb_dw64_flush(rq);
}
#endif

// Requantizes the four scrambled accumulators and stores n (<= 64) channels in order (out_hi: two
// pixels' halves, eb_dw64_put).
EB_INLINE void eb_dw64_finish(__m512i a0, __m512i a1, __m512i a2, __m512i a3, const uint8_t* scale,
                              int8_t* out, int8_t* out_hi, size_t n, const eb_dw64_rq* rq) {
  const __m512i acc[4] = {a0, a1, a2, a3};
  __m512i r[4], b;
#if EB_LUT_STEPS
  if (rq->steps != NULL) {
    // int16 indices (eb_steps_index_pair); the lookup narrows them to entries.
    if (rq->based) {
      for (int j = 0; j < 4; j++) r[j] = _mm512_srav_epi32(acc[j], _mm512_loadu_si512(scale + 64 * j));
      eb_dw64_queue(eb_steps_index_pair_based(r[0], r[1], rq->top16), eb_steps_index_pair_based(r[2], r[3], rq->top16), out, out_hi, n,
                    rq);
      return;
    }
    for (int j = 0; j < 4; j++)
      r[j] = rq->shift ? _mm512_min_epi32(_mm512_srav_epi32(acc[j], _mm512_loadu_si512(scale + 64 * j)), rq->hi_i)
                       : _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_loadu_ps(scale + 64 * j)), rq->hi));
    eb_dw64_queue(eb_steps_index_pair(r[0], r[1], rq->zp_minus_qmin16), eb_steps_index_pair(r[2], r[3], rq->zp_minus_qmin16),
                  out, out_hi, n, rq);
    return;
  }
#endif
  if (rq->lut != NULL) {
    for (int j = 0; j < 4; j++) {
      if (rq->shift) {
        const __m512i q = _mm512_srav_epi32(acc[j], _mm512_loadu_si512(scale + 64 * j));
        r[j] = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, rq->lo_i), rq->hi_i), rq->zp_minus_qmin);
        continue;
      }
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_loadu_ps(scale + 64 * j));
      v = _mm512_min_ps(_mm512_max_ps(v, rq->lo), rq->hi);
      r[j] = _mm512_add_epi32(_mm512_cvtps_epi32(v), rq->zp_minus_qmin);
    }
    {
      // 4 bytes at lut + index; the low byte is the entry, kept as 0..255, which passes both packs
      // unchanged (the second one unsigned): the entries' bytes, in order.
      for (int j = 0; j < 4; j++) r[j] = _mm512_and_si512(_mm512_i32gather_epi32(r[j], (const void*)rq->lut, 1), _mm512_set1_epi32(0xFF));
      b = _mm512_packus_epi16(_mm512_packs_epi32(r[0], r[1]), _mm512_packs_epi32(r[2], r[3]));
    }
  } else {
    for (int j = 0; j < 4; j++) {
      if (rq->shift) {
        r[j] = _mm512_srav_epi32(acc[j], _mm512_loadu_si512(scale + 64 * j));
      } else {
        const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_loadu_ps(scale + 64 * j));
        r[j] = _mm512_cvtps_epi32(_mm512_min_ps(v, rq->cap));
      }
    }
    const __m512i p01 = _mm512_adds_epi16(_mm512_packs_epi32(r[0], r[1]), rq->zp16);
    const __m512i p23 = _mm512_adds_epi16(_mm512_packs_epi32(r[2], r[3]), rq->zp16);
    b = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(p01, p23), rq->qmin8), rq->qmax8);
  }
  eb_dw64_put(out, out_hi, n, b);
}

// A last tile of at most 32 channels on 256-bit vectors: the scramble is per 128-bit lane, so the
// low half of each 64-byte block of the packed tile is exactly what 32 channels need.
EB_INLINE void eb_dw32_tail(uintptr_t base, const uintptr_t* off, size_t groups, size_t c0,
                            const uint8_t* p, int8_t* out, size_t n, const eb_dw64_rq* rq) {
  const __m256i x80 = _mm512_castsi512_si256(rq->x80);
  __m256i a[4];
  for (int j = 0; j < 4; j++) a[j] = _mm256_loadu_si256((const __m256i*)(p + 64 * j));
  const uint8_t* wt = p + 256;
  for (size_t g = 0; g < groups; g++, wt += 256) {
    const uintptr_t* o = off + 4 * g;
    const __m256i x0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(base + o[0] + c0)), x80);
    const __m256i x1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(base + o[1] + c0)), x80);
    const __m256i x2 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(base + o[2] + c0)), x80);
    const __m256i x3 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(base + o[3] + c0)), x80);
    const __m256i lo01 = _mm256_unpacklo_epi8(x0, x1), hi01 = _mm256_unpackhi_epi8(x0, x1);
    const __m256i lo23 = _mm256_unpacklo_epi8(x2, x3), hi23 = _mm256_unpackhi_epi8(x2, x3);
    a[0] = _mm256_dpbusd_epi32(a[0], _mm256_unpacklo_epi16(lo01, lo23), _mm256_loadu_si256((const __m256i*)wt));
    a[1] = _mm256_dpbusd_epi32(a[1], _mm256_unpackhi_epi16(lo01, lo23), _mm256_loadu_si256((const __m256i*)(wt + 64)));
    a[2] = _mm256_dpbusd_epi32(a[2], _mm256_unpacklo_epi16(hi01, hi23), _mm256_loadu_si256((const __m256i*)(wt + 128)));
    a[3] = _mm256_dpbusd_epi32(a[3], _mm256_unpackhi_epi16(hi01, hi23), _mm256_loadu_si256((const __m256i*)(wt + 192)));
  }
  // The same two epilogues as eb_dw64_finish, on 256-bit vectors.
  __m256i r[4], b;
#if EB_LUT_STEPS
  if (rq->steps != NULL) {
    // The 512-bit lookup on zero-extended int16 indices (eb_steps_index_pair, on 256-bit vectors): its
    // low 256 bits are this tile's entries.
    for (int j = 0; j < 4; j++)
      r[j] = rq->shift ? _mm256_min_epi32(_mm256_srav_epi32(a[j], _mm256_loadu_si256((const __m256i*)(wt + 64 * j))), _mm512_castsi512_si256(rq->hi_i))
                       : _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a[j]), _mm256_loadu_ps((const float*)(wt + 64 * j))),
                                                          _mm512_castps512_ps256(rq->hi)));
    const __m256i base = _mm512_castsi512_si256(rq->zp_minus_qmin16), zero = _mm256_setzero_si256();
    const __m512i i01 = _mm512_zextsi256_si512(_mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(r[0], r[1]), base), zero));
    const __m512i i23 = _mm512_zextsi256_si512(_mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(r[2], r[3]), base), zero));
    eb_dw64_queue(i01, i23, out, NULL, n, rq);
    return;
  }
#endif
  if (rq->lut != NULL) {
    for (int j = 0; j < 4; j++) {
      if (rq->shift) {
        const __m256i q = _mm256_srav_epi32(a[j], _mm256_loadu_si256((const __m256i*)(wt + 64 * j)));
        r[j] = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, _mm512_castsi512_si256(rq->lo_i)), _mm512_castsi512_si256(rq->hi_i)),
                                _mm512_castsi512_si256(rq->zp_minus_qmin));
        continue;
      }
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a[j]), _mm256_loadu_ps((const float*)(wt + 64 * j)));
      v = _mm256_min_ps(_mm256_max_ps(v, _mm512_castps512_ps256(rq->lo)), _mm512_castps512_ps256(rq->hi));
      r[j] = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm512_castsi512_si256(rq->zp_minus_qmin));
    }
    {
      for (int j = 0; j < 4; j++) r[j] = _mm256_and_si256(_mm256_i32gather_epi32((const int*)rq->lut, r[j], 1), _mm256_set1_epi32(0xFF));
      b = _mm256_packus_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
    }
  } else {
    for (int j = 0; j < 4; j++) {
      if (rq->shift) {
        r[j] = _mm256_srav_epi32(a[j], _mm256_loadu_si256((const __m256i*)(wt + 64 * j)));
      } else {
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a[j]), _mm256_loadu_ps((const float*)(wt + 64 * j)));
        r[j] = _mm256_cvtps_epi32(_mm256_min_ps(v, _mm512_castps512_ps256(rq->cap)));
      }
    }
    const __m256i p01 = _mm256_adds_epi16(_mm256_packs_epi32(r[0], r[1]), _mm512_castsi512_si256(rq->zp16));
    const __m256i p23 = _mm256_adds_epi16(_mm256_packs_epi32(r[2], r[3]), _mm512_castsi512_si256(rq->zp16));
    b = _mm256_min_epi8(_mm256_max_epi8(_mm256_packs_epi16(p01, p23), _mm512_castsi512_si256(rq->qmin8)),
                        _mm512_castsi512_si256(rq->qmax8));
  }
  _mm256_mask_storeu_epi8(out, (__mmask32)(n >= 32 ? 0xffffffffu : (1u << n) - 1), b);
}

// One 64-byte tile of one output pixel: `full` groups of four taps, then (single_last) a group with
// one real tap; tap t at base + off[t] + c0. With `paired` (a constant at every call) the tile is two
// pixels' last tiles of at most 32 channels: each tap vector is 32 bytes at base + … and 32 at
// base_hi + …, with the tile's halves repeated in `p` (eb_dw32_dup); out and out_hi take the halves.
EB_INLINE void eb_dw64_tile(uintptr_t base, uintptr_t base_hi, const uintptr_t* off, size_t full, int single_last,
                            size_t c0, const uint8_t* p, int8_t* out, int8_t* out_hi, size_t n, const eb_dw64_rq* rq,
                            const int paired) {
#define EB_DW64_TAP(o)                                                                                          \
  (paired ? _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(base + (o) + c0))), \
                               _mm256_loadu_si256((const __m256i*)(base_hi + (o) + c0)), 1)                   \
          : _mm512_loadu_si512((const void*)(base + (o) + c0)))
  __m512i a0 = _mm512_loadu_si512(p), a1 = _mm512_loadu_si512(p + 64);
  __m512i a2 = _mm512_loadu_si512(p + 128), a3 = _mm512_loadu_si512(p + 192);
  const uint8_t* wt = p + 256;
  for (size_t g = 0; g < full; g++, wt += 256) {
    const uintptr_t* o = off + 4 * g;
    const __m512i x0 = _mm512_xor_si512(EB_DW64_TAP(o[0]), rq->x80);
    const __m512i x1 = _mm512_xor_si512(EB_DW64_TAP(o[1]), rq->x80);
    const __m512i x2 = _mm512_xor_si512(EB_DW64_TAP(o[2]), rq->x80);
    const __m512i x3 = _mm512_xor_si512(EB_DW64_TAP(o[3]), rq->x80);
    const __m512i lo01 = _mm512_unpacklo_epi8(x0, x1), hi01 = _mm512_unpackhi_epi8(x0, x1);
    const __m512i lo23 = _mm512_unpacklo_epi8(x2, x3), hi23 = _mm512_unpackhi_epi8(x2, x3);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_unpacklo_epi16(lo01, lo23), _mm512_loadu_si512(wt));
    a1 = _mm512_dpbusd_epi32(a1, _mm512_unpackhi_epi16(lo01, lo23), _mm512_loadu_si512(wt + 64));
    a2 = _mm512_dpbusd_epi32(a2, _mm512_unpacklo_epi16(hi01, hi23), _mm512_loadu_si512(wt + 128));
    a3 = _mm512_dpbusd_epi32(a3, _mm512_unpackhi_epi16(hi01, hi23), _mm512_loadu_si512(wt + 192));
  }
  if (single_last) {
    // Accumulator j, 128-bit lane l, dword q holds channel 16 l + 4 j + q (the unpacks' order).
    const __m512i x0 = _mm512_xor_si512(EB_DW64_TAP(off[4 * full]), rq->x80);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_shuffle_epi8(x0, rq->spread[0]), _mm512_loadu_si512(wt));
    a1 = _mm512_dpbusd_epi32(a1, _mm512_shuffle_epi8(x0, rq->spread[1]), _mm512_loadu_si512(wt + 64));
    a2 = _mm512_dpbusd_epi32(a2, _mm512_shuffle_epi8(x0, rq->spread[2]), _mm512_loadu_si512(wt + 128));
    a3 = _mm512_dpbusd_epi32(a3, _mm512_shuffle_epi8(x0, rq->spread[3]), _mm512_loadu_si512(wt + 192));
    wt += 256;
  }
  eb_dw64_finish(a0, a1, a2, a3, wt, out, out_hi, n, rq);
#undef EB_DW64_TAP
}

// One output pixel, all channel tiles; tap t at base + off[t] (uintptr arithmetic, so border
// pixels pass base 0 and absolute tap addresses). With `single_last` (k*k = 4 groups - 3: 3x3 and
// 5x5) the last group holds one real tap: its bytes go straight to their dwords by one in-lane byte
// shuffle per accumulator, instead of four loads, four flips and eight unpacks (slots 1..3 have zero
// weights, so the zeros the shuffle leaves there change nothing).
EB_INLINE void eb_dw64_pixel(uintptr_t base, const uintptr_t* off, size_t groups, int single_last, size_t c,
                             const uint8_t* packed, int8_t* out, const eb_dw64_rq* rq) {
  const size_t tile = 256 + groups * 256 + 256;
  const size_t full = single_last ? groups - 1 : groups;
  const uint8_t* p = packed;
  for (size_t c0 = 0; c0 < c; c0 += 64, p += tile) {
    if (c - c0 <= 32) {
      eb_dw32_tail(base, off, groups, c0, p, out + c0, c - c0, rq);
      break;
    }
    eb_dw64_tile(base, 0, off, full, single_last, c0, p, out + c0, NULL, c - c0 < 64 ? c - c0 : 64, rq, 0);
  }
}

// The low 32 bytes of each of `vectors` 64-byte vectors of a last tile (its 32-channel halves: bias,
// weight groups and scales, or its column weights) repeated in both halves (eb_dw64_tile, paired).
static inline void eb_dw32_dup(const uint8_t* t, size_t vectors, uint8_t* dup) {
  for (size_t v = 0; v < vectors; v++) {
    memcpy(dup + 64 * v, t + 64 * v, 32);
    memcpy(dup + 64 * v + 32, t + 64 * v, 32);
  }
}

// Two neighbouring output pixels (taps at base + off[t] and base_hi + off[t]) whose channels end in a
// tile of at most 32 (c = cfull + that tail): their full tiles one by one, then both tails in one
// 64-wide pass (dup: eb_dw32_dup). Per pixel, a tail of 32 costs a whole 64-wide pass — 256-bit vectors
// run no faster per instruction — so B0's 96-channel stride-2 layer spent a third of its time there.
EB_INLINE void eb_dw64_pixel_pair(uintptr_t base, uintptr_t base_hi, const uintptr_t* off, size_t groups, int single_last,
                                  size_t c, size_t cfull, const uint8_t* packed, const uint8_t* dup, int8_t* out,
                                  int8_t* out_hi, const eb_dw64_rq* rq) {
  if (cfull > 0) {
    eb_dw64_pixel(base, off, groups, single_last, cfull, packed, out, rq);
    eb_dw64_pixel(base_hi, off, groups, single_last, cfull, packed, out_hi, rq);
  }
  eb_dw64_tile(base, base_hi, off, single_last ? groups - 1 : groups, single_last, cfull, dup, out + cfull, out_hi + cfull,
               c - cfull, rq, 1);
}

// Stride 1, a row whose k input rows all lie inside: P outputs of one 64-byte tile at a time. The
// input columns they read are interleaved once each (rows 4g..4g+3 of a column per group, a lone
// fifth row by the spread shuffles) and multiplied into every output they reach, with the
// column-grouped weights: kernel column kx of output p is input column S p + kx, where S is 1, or 2
// for 32 channels (each 64-byte output is then two pixels: the tile repeats the 32 channels). The
// per-pixel path interleaves each input column k times. Columns left or right of the image read the
// zero row. k, P and S are constants at every call, so the loops unroll and the accumulators stay in
// registers. (Rows reaching the padding take the per-pixel path: the same columns with the rows
// chosen per column measured 20–40% slower on B0's 14×14 and 7×7 5×5 layers, Zen 5.) With `paired`
// (a last tile of at most 32 channels, S = 1) the high 256 bits of every vector compute the outputs P
// further on: columns load as halves, `tile` and `colw` are the tile's with their halves repeated
// (eb_dw32_dup), and output p's high half goes to output p + P.
EB_INLINE void eb_dw64_columns(const int8_t* x, size_t w, size_t c, size_t c0, size_t iy0, ptrdiff_t ix0,
                               const int8_t* zero_row, const uint8_t* tile, const uint8_t* colw, int8_t* out,
                               size_t n, const eb_dw64_rq* rq, const int k, const int P, const int S, const int paired) {
  const int G = (k + 3) / 4;
  const size_t rowbytes = w * c;
  __m512i acc[4][4];
  _Pragma("clang loop unroll(full)")
  for (int p = 0; p < P; p++)
    _Pragma("clang loop unroll(full)")
    for (int j = 0; j < 4; j++) acc[p][j] = _mm512_loadu_si512(tile + 64 * j);
  _Pragma("clang loop unroll(full)")
  for (int col = 0; col < S * (P - 1) + k; col++) {
    const ptrdiff_t ix = ix0 + col;
    const int inside = ix >= 0 && ix < (ptrdiff_t)w;
    const uint8_t* src = inside ? (const uint8_t*)x + (iy0 * w + (size_t)ix) * c + c0 : (const uint8_t*)zero_row + c0;
    const size_t step = inside ? rowbytes : 0;
    // Paired: the high halves are the same column P outputs on (see above).
    const ptrdiff_t ix_hi = ix + P;
    const int inside_hi = paired && ix_hi >= 0 && ix_hi < (ptrdiff_t)w;
    const uint8_t* src_hi = inside_hi ? (const uint8_t*)x + (iy0 * w + (size_t)ix_hi) * c + c0 : (const uint8_t*)zero_row + c0;
    const size_t step_hi = inside_hi ? rowbytes : 0;
#define EB_COL_ROW(i)                                                                                           \
  (paired ? _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(r0 + (i) * step))), \
                               _mm256_loadu_si256((const __m256i*)(h0 + (i) * step_hi)), 1)                   \
          : _mm512_loadu_si512(r0 + (i) * step))
    _Pragma("clang loop unroll(full)")
    for (int g = 0; g < G; g++) {
      const int rows = k - 4 * g < 4 ? k - 4 * g : 4;
      const uint8_t* r0 = src + (size_t)(4 * g) * step;
      const uint8_t* h0 = src_hi + (size_t)(4 * g) * step_hi;
      __m512i v[4];
      if (rows == 1) {
        const __m512i x0 = _mm512_xor_si512(EB_COL_ROW(0), rq->x80);
        _Pragma("clang loop unroll(full)")
        for (int j = 0; j < 4; j++) v[j] = _mm512_shuffle_epi8(x0, rq->spread[j]);
      } else {
        // Slots past the column's rows repeat its last row (their weights are zero).
        const __m512i x0 = _mm512_xor_si512(EB_COL_ROW(0), rq->x80);
        const __m512i x1 = _mm512_xor_si512(EB_COL_ROW(1), rq->x80);
        const __m512i x2 = rows > 2 ? _mm512_xor_si512(EB_COL_ROW(2), rq->x80) : x1;
        const __m512i x3 = rows > 3 ? _mm512_xor_si512(EB_COL_ROW(3), rq->x80) : x2;
        const __m512i lo01 = _mm512_unpacklo_epi8(x0, x1), hi01 = _mm512_unpackhi_epi8(x0, x1);
        const __m512i lo23 = _mm512_unpacklo_epi8(x2, x3), hi23 = _mm512_unpackhi_epi8(x2, x3);
        v[0] = _mm512_unpacklo_epi16(lo01, lo23);
        v[1] = _mm512_unpackhi_epi16(lo01, lo23);
        v[2] = _mm512_unpacklo_epi16(hi01, hi23);
        v[3] = _mm512_unpackhi_epi16(hi01, hi23);
      }
      _Pragma("clang loop unroll(full)")
      for (int p = 0; p < P; p++) {
        const int kx = col - S * p;
        if (kx < 0 || kx >= k) continue;
        const uint8_t* wt = colw + (size_t)(kx * G + g) * 256;
        _Pragma("clang loop unroll(full)")
        for (int j = 0; j < 4; j++) acc[p][j] = _mm512_dpbusd_epi32(acc[p][j], v[j], _mm512_loadu_si512(wt + 64 * j));
      }
    }
  }
  const uint8_t* scale = tile + 256 + (size_t)((k * k + 3) / 4) * 256;
  _Pragma("clang loop unroll(full)")
  for (int p = 0; p < P; p++)
    eb_dw64_finish(acc[p][0], acc[p][1], acc[p][2], acc[p][3], scale, out + (size_t)(S * p) * c,
                   paired ? out + (size_t)(S * p + P) * c : NULL, n, rq);
#undef EB_COL_ROW
}

// One output pixel whose taps may reach the padding: tap pointers (padded ones at the zero row), then
// the per-pixel path.
EB_INLINE void eb_dw64_border_pixel(const int8_t* x, size_t h, size_t w, size_t c, size_t k, size_t stride,
                                    size_t pad_top, size_t pad_left, size_t oy, size_t ox, const int8_t* zero_row,
                                    const uint8_t* packed, int8_t* out, const eb_dw64_rq* rq) {
  const size_t kk = k * k, groups = (kk + 3) / 4;
  const int8_t* taps[25];
  uintptr_t abs_taps[28];
  eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
  for (size_t t = 0; t < 4 * groups; t++) abs_taps[t] = (uintptr_t)taps[t < kk ? t : kk - 1];  // slots past k*k: zero weights
  eb_dw64_pixel(0, abs_taps, groups, 4 * groups - kk == 3, c, packed, out, rq);
}

// Outputs [ox, end) of one tile, each S pixels on from the last: four at a time, then the rest (fewer
// than four) in one pass, each input column interleaved once for all of them (one by one, 5×5 layers
// 14 and 7 wide interleaved the columns of the last two or three outputs five times each: 3–5% of
// those layers, Zen 5). Returns where it stopped (fewer than S pixels before end).
EB_INLINE size_t eb_dw64_span(const int8_t* x, size_t w, size_t c, size_t c0, size_t iy0, size_t pad_left,
                              const int8_t* zero_row, const uint8_t* tile, const uint8_t* colw, int8_t* yrow,
                              size_t n, const eb_dw64_rq* rq, size_t ox, size_t end, const int k, const int S) {
  for (; ox + 4 * (size_t)S <= end; ox += 4 * (size_t)S)
    eb_dw64_columns(x, w, c, c0, iy0, (ptrdiff_t)ox - (ptrdiff_t)pad_left, zero_row, tile, colw, yrow + ox * c + c0, n, rq, k, 4, S, 0);
  const size_t rest = (end - ox) / (size_t)S;
  const ptrdiff_t ix0 = (ptrdiff_t)ox - (ptrdiff_t)pad_left;
  int8_t* o = yrow + ox * c + c0;
  if (rest == 3) {
    eb_dw64_columns(x, w, c, c0, iy0, ix0, zero_row, tile, colw, o, n, rq, k, 3, S, 0);
  } else if (rest == 2) {
    eb_dw64_columns(x, w, c, c0, iy0, ix0, zero_row, tile, colw, o, n, rq, k, 2, S, 0);
  } else if (rest == 1) {
    eb_dw64_columns(x, w, c, c0, iy0, ix0, zero_row, tile, colw, o, n, rq, k, 1, S, 0);
  }
  return ox + rest * (size_t)S;
}

// One output row at stride 1 whose input rows all lie inside (output row oy, input rows from iy0),
// every tile by columns (a last tile of fewer channels too: its loads stay within the over-read the
// planner pads for, and the zero row is c + 64 bytes). With 32 channels, pixel pairs between the
// borders, where a pair would read the pixel past the image as data instead of padding.
EB_INLINE void eb_dw64_row_columns(const int8_t* x, size_t h, size_t w, size_t c, const uint8_t* packed,
                                   const uint8_t* columns, size_t k, size_t pad_top, size_t pad_left, size_t oy,
                                   size_t iy0, int8_t* yrow, size_t ow, const int8_t* zero_row, const uint8_t* tail_dup,
                                   const uint8_t* tail_cols_dup, const eb_dw64_rq* rq) {
  const size_t groups = (k * k + 3) / 4, tile = 256 + groups * 256 + 256, colbytes = k * ((k + 3) / 4) * 256;
  if (c == 32) {
    // Pairs (ox, ox + 1) whose taps all lie inside: ox >= pad_left and ox + 1 - pad_left + k <= w.
    const size_t first = pad_left < ow ? pad_left : ow;
    const size_t end = w + pad_left >= k + 1 ? w + pad_left - k : 0;  // pairs start below this
    const size_t pairs_end = end + 1 < ow ? end + 1 : ow;             // … and end by ow
    size_t ox = 0;
    for (; ox < first; ox++) eb_dw64_border_pixel(x, h, w, c, k, 1, pad_top, pad_left, oy, ox, zero_row, packed, yrow + ox * c, rq);
    ox = k == 3 ? eb_dw64_span(x, w, c, 0, iy0, pad_left, zero_row, packed, columns, yrow, 64, rq, ox, pairs_end, 3, 2)
                : eb_dw64_span(x, w, c, 0, iy0, pad_left, zero_row, packed, columns, yrow, 64, rq, ox, pairs_end, 5, 2);
    for (; ox < ow; ox++) eb_dw64_border_pixel(x, h, w, c, k, 1, pad_top, pad_left, oy, ox, zero_row, packed, yrow + ox * c, rq);
    return;
  }
  for (size_t c0 = 0; c0 < c; c0 += 64) {
    const uint8_t* t = packed + c0 / 64 * tile;
    const uint8_t* cw = columns + c0 / 64 * colbytes;
    const size_t n = c - c0 < 64 ? c - c0 : 64;
    size_t ox = 0;
    if (tail_dup != NULL && n <= 32) {
      // The last tile of at most 32 channels, eight outputs per pass (paired, above).
      for (; ox + 8 <= ow; ox += 8) {
        const ptrdiff_t ix0 = (ptrdiff_t)ox - (ptrdiff_t)pad_left;
        if (k == 3) {
          eb_dw64_columns(x, w, c, c0, iy0, ix0, zero_row, tail_dup, tail_cols_dup, yrow + ox * c + c0, n, rq, 3, 4, 1, 1);
        } else {
          eb_dw64_columns(x, w, c, c0, iy0, ix0, zero_row, tail_dup, tail_cols_dup, yrow + ox * c + c0, n, rq, 5, 4, 1, 1);
        }
      }
    }
    if (k == 3) {
      eb_dw64_span(x, w, c, c0, iy0, pad_left, zero_row, t, cw, yrow, n, rq, ox, ow, 3, 1);
    } else {
      eb_dw64_span(x, w, c, c0, iy0, pad_left, zero_row, t, cw, yrow, n, rq, ox, ow, 5, 1);
    }
  }
}

EB_TARGET void EB_NAME(eb_qs8_qc8w_dwconv_fp32_ukernel_64c4)(
    const int8_t* x, size_t h, size_t w, size_t c, const void* packed, size_t k, size_t stride,
    size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
    const int8_t* zero_row, const eb_qs8_requant_params* params) {
  (void)oh;
  const size_t kk = k * k, groups = (kk + 3) / 4;
  uintptr_t off[28];
  for (size_t t = 0; t < 4 * groups; t++) {
    const size_t tt = t < kk ? t : kk - 1;  // slots past k*k repeat the last tap; their weights are 0
    off[t] = (uintptr_t)(((tt / k) * w + tt % k) * c);
  }
  eb_dw64_rq rq;
  rq.lo = _mm512_set1_ps((float)(params->qmin - params->zero_point));
  rq.hi = _mm512_set1_ps((float)(params->qmax - params->zero_point));
  rq.cap = _mm512_set1_ps(65536.0f);
  rq.zp_minus_qmin = _mm512_set1_epi32(params->zero_point - params->qmin);
  rq.zp_minus_qmin16 = _mm512_set1_epi16((int16_t)(params->zero_point - params->qmin));
  rq.zp16 = _mm512_set1_epi16((int16_t)params->zero_point);
  rq.qmin8 = _mm512_set1_epi8((char)params->qmin);  // the clamp of the table-free epilogue only
  rq.qmax8 = _mm512_set1_epi8((char)params->qmax);
  rq.x80 = _mm512_set1_epi8((char)0x80);
  rq.lo_i = _mm512_set1_epi32(params->qmin - params->zero_point);
  rq.hi_i = _mm512_set1_epi32(params->qmax - params->zero_point);
  rq.shift = params->shift;
  rq.based = params->shift && params->lut != NULL && params->zero_point == params->qmin;
  rq.top16 = _mm512_set1_epi16((int16_t)(params->qmax - params->qmin));
  for (int j = 0; j < 4; j++) {
    int8_t ctrl[64];
    for (int b = 0; b < 64; b++) ctrl[b] = (b % 4 == 0) ? (int8_t)(4 * j + (b % 16) / 4) : (int8_t)0x80;
    rq.spread[j] = _mm512_loadu_si512(ctrl);
  }
  const int single_last = 4 * groups - kk == 3;
  rq.lut = params->lut;
  rq.steps = NULL;
#if EB_LUT_STEPS
  eb_steps_queue queue;
  rq.steps = eb_permute_source(params, &queue.direct);
  queue.count = 0;
  rq.queue = &queue;
  eb_direct_regs direct;
  rq.direct = eb_direct_setup(&direct, rq.steps, queue.direct, &rq.wide);
#endif
  const uint8_t* pk = (const uint8_t*)packed;
  const int pair = c == 32 && stride == 1;  // see the packer: the tile holds the 32 channels twice
  // Elsewhere, a last tile of at most 32 channels runs for two pixels at once (eb_dw64_pixel_pair),
  // except where step planes queue the lookups (a queue entry has one destination).
  const size_t cfull = c / 64 * 64;
  int pair_tail = !pair && c > cfull && c - cfull <= 32;
#if EB_LUT_STEPS
  if (rq.steps != NULL && rq.direct == NULL) pair_tail = 0;
#endif
  uint8_t dup[(2 + 7) * 256] __attribute__((aligned(64)));
  uint8_t cols_dup[5 * 2 * 256] __attribute__((aligned(64)));  // k columns of (k + 3) / 4 groups
  if (pair_tail) eb_dw32_dup(pk + cfull / 64 * (512 + groups * 256), 4 * (2 + groups), dup);
  // The column-grouped weights (this level packs them, eb_dwconv_packing.columns) follow the tiles.
  const uint8_t* columns = stride == 1 && (k == 3 || k == 5) ? pk + (c + 63) / 64 * (512 + groups * 256) : NULL;
  const size_t colbytes = k * ((k + 3) / 4) * 256;
  if (pair_tail && columns != NULL) eb_dw32_dup(columns + cfull / 64 * colbytes, colbytes / 64, cols_dup);
  for (size_t oy = oy0; oy < oy1; oy++) {
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    const int row_inside = iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h;
    if (columns != NULL && row_inside) {
      eb_dw64_row_columns(x, h, w, c, pk, columns, k, pad_top, pad_left, oy, (size_t)iy0, y + oy * ow * c, ow, zero_row,
                          pair_tail ? dup : NULL, cols_dup, &rq);
      continue;
    }
    for (size_t ox = 0; ox < ow; ox++) {
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      int8_t* out = y + (oy * ow + ox) * c;
      if (pair && row_inside && ox + 1 < ow && ix0 >= 0 && ix0 + 1 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        // 32 channels at stride 1: pixels ox and ox + 1 are 64 contiguous bytes at every tap, and
        // the packed tile repeats the 32 channels in its upper half; one 64-wide pass does both.
        const uintptr_t base = (uintptr_t)(x + ((size_t)iy0 * w + (size_t)ix0) * c);
        if (groups == 3) {
          eb_dw64_pixel(base, off, 3, 1, 64, pk, out, &rq);
        } else {
          eb_dw64_pixel(base, off, groups, single_last, 64, pk, out, &rq);
        }
        ox++;
        continue;
      }
      if (pair_tail && row_inside && ox + 1 < ow && ix0 >= 0 && ix0 + (ptrdiff_t)(stride + k) <= (ptrdiff_t)w) {
        const uintptr_t base = (uintptr_t)(x + ((size_t)iy0 * w + (size_t)ix0) * c), base_hi = base + stride * c;
        if (groups == 3) {
          eb_dw64_pixel_pair(base, base_hi, off, 3, 1, c, cfull, pk, dup, out, out + c, &rq);
        } else if (groups == 7) {
          eb_dw64_pixel_pair(base, base_hi, off, 7, 1, c, cfull, pk, dup, out, out + c, &rq);
        } else {
          eb_dw64_pixel_pair(base, base_hi, off, groups, single_last, c, cfull, pk, dup, out, out + c, &rq);
        }
        ox++;
        continue;
      }
      if (row_inside && ix0 >= 0 && ix0 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        const uintptr_t base = (uintptr_t)(x + ((size_t)iy0 * w + (size_t)ix0) * c);
        if (groups == 3) {
          eb_dw64_pixel(base, off, 3, 1, c, pk, out, &rq);
        } else if (groups == 7) {
          eb_dw64_pixel(base, off, 7, 1, c, pk, out, &rq);
        } else {
          eb_dw64_pixel(base, off, groups, single_last, c, pk, out, &rq);
        }
      } else {
        eb_dw64_border_pixel(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, pk, out, &rq);
      }
    }
  }
#if EB_LUT_STEPS
  if (rq.steps != NULL) eb_dw64_flush(&rq);
#endif
}
