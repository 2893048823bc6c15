// Int8 GEMM for AVX-512 VNNI: 8 rows x 32 channels (16 zmm accumulators), vpdpbusd on 4-byte
// k-groups. A is read as uint8 (A ^ 0x80, made by eb_x8_xor80; the packer folds the -128 * sum(w)).
// A last tile of at most 16 channels is packed 16 wide and runs on one zmm per row; a last group of
// at most 4 rows runs a 4-row tile instead of recomputing duplicates, a single row a 1-row one.
//
// Epilogue without a table: four rows of 16 channels are requantized to int32, packed together to
// int16 (zero point added with saturation), to int8, clamped once and transposed back to rows by one
// dword permute, so the clamp, the zero point and the narrowing cost one instruction per 64 outputs,
// not per 16. Equal to the reference: round and clamp commute for integer bounds, and every
// saturation on the way is wider than [qmin, qmax]. With a table the clamped index gathers the entry
// and the same packs and permute narrow four rows of entries (the gathers bound its speed). The
// avx512vbmi build looks the entries up with byte permutes instead, 64 at a time: a table of at most
// 512 entries (the 9-bit grid) directly from its eight 64-byte quarters, as each group of four rows
// is requantized; a larger one in its step planes, when it has them: a tile's four groups of 64
// indices are queued and looked up together after it, with the planes in registers (the accumulators
// are dead by then). Queueing the direct lookups too (indices to memory and back, and the queue's
// bookkeeping) cost B0's SiLU expansions about 5% (Zen 5).
//
// With shift requantization (params->shift) the scale slots hold counts: one vpsravd per 16 outputs
// replaces the conversion, multiply and conversion back (and the clamp moves to integers).
//
// The body of two builds: the includer defines EB_TARGET_FEATURES, EB_NAME and EB_LUT_STEPS (0 or 1).
#include <CEdgeboneKernels.h>
#include <string.h>
#include <immintrin.h>

#define EB_TARGET __attribute__((target(EB_TARGET_FEATURES)))
#define EB_INLINE static inline __attribute__((always_inline)) EB_TARGET
#if EB_LUT_STEPS
#include "../qs8-misc/qs8-lut-steps-avx512vbmi.h"
#endif

EB_INLINE __m512i eb_bcast4(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

typedef struct {
  __m512 lo, hi, cap;     // float clamp (table path) and the overflow cap (packing path)
  __m512i index_base;     // zero point - qmin: the table index of a rounded value
  __m512i index_base16;   // the same in every int16 (the step planes' index pairs)
  __m512i lo_i, hi_i;      // the clamp bounds as int32 (shift requantization)
  __m512i zp16, qmin8, qmax8, transpose;
  __m512i pair01, pair23; // two rows of 32 channels from two packed blocks (eb_store_packed4x2)
  int clamp;              // the int8 clamp narrows [-128, 127] (a fused ReLU/ReLU6)
  int shift;              // the scale slots hold shift counts (eb_qs8.h)
  int based;              // … and the bias holds the table's index base (zero point = qmin): shifts are indices
  __m512i top16;          // qmax - qmin in every int16 (the last index)
  const int8_t* lut;
  const int8_t* steps;    // what permute lookups read (avx512vbmi build, eb_permute_source), or NULL
#if EB_LUT_STEPS
  eb_steps_queue* queue;  // the current tiles' indices, with steps
  const eb_direct_regs* direct;  // a table of at most 512 entries: looked up at once, not queued
  int wide;                      // … of more than 256 entries
#endif
} eb_epilogue;

EB_INLINE eb_epilogue eb_epilogue_make(const eb_qs8_requant_params* p) {
  eb_epilogue e;
  e.lo = _mm512_set1_ps((float)(p->qmin - p->zero_point));
  e.hi = _mm512_set1_ps((float)(p->qmax - p->zero_point));
  e.cap = _mm512_set1_ps(65536.0f);  // anything above saturates anyway; keeps cvtps2dq in range
  e.lo_i = _mm512_set1_epi32(p->qmin - p->zero_point);
  e.hi_i = _mm512_set1_epi32(p->qmax - p->zero_point);
  e.shift = p->shift;
  e.based = p->shift && p->lut != NULL && p->zero_point == p->qmin;
  e.top16 = _mm512_set1_epi16((int16_t)(p->qmax - p->qmin));
  e.index_base = _mm512_set1_epi32(p->zero_point - p->qmin);
  e.index_base16 = _mm512_set1_epi16((int16_t)(p->zero_point - p->qmin));
  e.zp16 = _mm512_set1_epi16((int16_t)p->zero_point);
  e.clamp = p->lut == NULL && (p->qmin > -128 || p->qmax < 127);  // the table path never clamps bytes
  e.qmin8 = _mm512_set1_epi8((char)(e.clamp ? p->qmin : -128));
  e.qmax8 = _mm512_set1_epi8((char)(e.clamp ? p->qmax : 127));
  e.transpose = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  e.pair01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  e.pair23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  e.lut = p->lut;
  e.steps = NULL;  // the avx512vbmi build sets it with its queue
  return e;
}

EB_INLINE void eb_store_lane(int8_t* c, __m128i v, size_t n) {
  if (n >= 16) {
    _mm_storeu_si128((__m128i*)c, v);
  } else {
    _mm_mask_storeu_epi8(c, (__mmask16)((1u << n) - 1), v);
  }
}

// Table path: the clamped, rounded value plus (zero point - qmin) indexes the table; the gather
// fetches 4 bytes there and the low one is the entry, kept as 0..255 so that two packs (the second
// unsigned) narrow four rows of entries unchanged.
// q = acc >> e (scale: the counts), unclamped: shift requantization.
EB_INLINE __m512i eb_shifted16(__m512i acc, __m512 scale) { return _mm512_srav_epi32(acc, _mm512_castps_si512(scale)); }

EB_INLINE __m512i eb_index16(__m512i acc, __m512 scale, const eb_epilogue* e) {
  if (e->shift) return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(eb_shifted16(acc, scale), e->lo_i), e->hi_i), e->index_base);
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, e->lo), e->hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(v), e->index_base);
}

EB_INLINE __m512i eb_lut16(__m512i acc, __m512 scale, const eb_epilogue* e) {
  return _mm512_and_si512(_mm512_i32gather_epi32(eb_index16(acc, scale, e), (const void*)e->lut, 1), _mm512_set1_epi32(0xFF));
}

// Unclamped: the saturating packs and the int8 clamp after them do it.
EB_INLINE __m512i eb_round16(__m512i acc, __m512 scale, const eb_epilogue* e) {
  if (e->shift) return eb_shifted16(acc, scale);
  return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale), e->cap));
}

// Bytes of four rows of 16 channels as the narrowing packs leave them (128-bit lane l: rows 0..3,
// channels 4l..4l+3), transposed back to rows by one dword permute and stored.
EB_INLINE void eb_store_packed4(int8_t* const* cr, size_t r0, size_t mr, size_t col, size_t n, __m512i b,
                                const eb_epilogue* e) {
  b = _mm512_permutexvar_epi32(e->transpose, b);  // lane r: row r, channels 0..15
  eb_store_lane(cr[r0] + col, _mm512_castsi512_si128(b), n);
  if (r0 + 1 < mr) eb_store_lane(cr[r0 + 1] + col, _mm512_extracti32x4_epi32(b, 1), n);
  if (r0 + 2 < mr) eb_store_lane(cr[r0 + 2] + col, _mm512_extracti32x4_epi32(b, 2), n);
  if (r0 + 3 < mr) eb_store_lane(cr[r0 + 3] + col, _mm512_extracti32x4_epi32(b, 3), n);
}

// Rows [r0, r0 + 4) ∩ [0, mr) of 16 + n1 channels (n1 <= 16) at column offset col, from the packed
// bytes of their left 16 channels and of the n1 right of them: one two-source dword permute gathers
// two rows of 32 channels into one vector, and each row is one 32-byte store, not two of 16.
EB_INLINE void eb_store_packed4x2(int8_t* const* cr, size_t r0, size_t mr, size_t col, size_t n1, __m512i left,
                                  __m512i right, const eb_epilogue* e) {
  const __m512i r01 = _mm512_permutex2var_epi32(left, e->pair01, right);
  const __m512i r23 = _mm512_permutex2var_epi32(left, e->pair23, right);
  const __m256i row[4] = {_mm512_castsi512_si256(r01), _mm512_extracti64x4_epi64(r01, 1), _mm512_castsi512_si256(r23),
                          _mm512_extracti64x4_epi64(r23, 1)};
  if (n1 >= 16) {
    for (size_t r = 0; r < 4 && r0 + r < mr; r++) _mm256_storeu_si256((__m256i*)(cr[r0 + r] + col), row[r]);
  } else {
    const __mmask32 m = (__mmask32)((1ull << (16 + n1)) - 1);
    for (size_t r = 0; r < 4 && r0 + r < mr; r++) _mm256_mask_storeu_epi8(cr[r0 + r] + col, m, row[r]);
  }
}

#if EB_LUT_STEPS
// Looks up the queued groups (up to two tiles) and stores them: a group and the next one 16
// channels right of it on the same rows as one (eb_store_packed4x2).
EB_INLINE void eb_steps_flush(int8_t* const* cr, size_t mr, const eb_epilogue* e) {
  eb_steps_queue* q = e->queue;
  __m512i entries[EB_STEPS_QUEUE];
  eb_steps_lookup_queue(q, e->steps, entries);
  for (size_t g = 0; g < q->count; g++) {
    if (g + 1 < q->count && q->row[g + 1] == q->row[g] && q->col[g + 1] == q->col[g] + 16 && q->n[g] == 16) {
      eb_store_packed4x2(cr, q->row[g], mr, q->col[g], q->n[g + 1], entries[g], entries[g + 1], e);
      g++;
    } else {
      eb_store_packed4(cr, q->row[g], mr, q->col[g], q->n[g], entries[g], e);
    }
  }
  q->count = 0;
}
// After a tile: flush when the queue could not take another tile's four groups; after the row block:
// flush what is left.
#define EB_STEPS_FLUSH if (e->steps != NULL && e->queue->count > EB_STEPS_QUEUE - 4) eb_steps_flush(cr, mr, e);
#define EB_STEPS_FLUSH_ALL if (e->steps != NULL && e->queue->count > 0) eb_steps_flush(cr, mr, e);
#else
#define EB_STEPS_FLUSH
#define EB_STEPS_FLUSH_ALL
#endif

// Four rows of 16 channels requantized and narrowed to bytes in the packs' order (eb_store_packed4);
// the gathering table path looks the entries up on the way.
EB_INLINE __m512i eb_pack_4rows(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512 scale, const eb_epilogue* e) {
  if (e->lut != NULL) {
    const __m512i p01 = _mm512_packs_epi32(eb_lut16(a0, scale, e), eb_lut16(a1, scale, e));
    const __m512i p23 = _mm512_packs_epi32(eb_lut16(a2, scale, e), eb_lut16(a3, scale, e));
    return _mm512_packus_epi16(p01, p23);
  }
  const __m512i p01 = _mm512_adds_epi16(_mm512_packs_epi32(eb_round16(a0, scale, e), eb_round16(a1, scale, e)), e->zp16);
  const __m512i p23 = _mm512_adds_epi16(_mm512_packs_epi32(eb_round16(a2, scale, e), eb_round16(a3, scale, e)), e->zp16);
  __m512i b = _mm512_packs_epi16(p01, p23);
  if (e->clamp) b = _mm512_min_epi8(_mm512_max_epi8(b, e->qmin8), e->qmax8);
  return b;
}

#if EB_LUT_STEPS
// q = rint(min(acc * scale, qmax - zp)) (or min(acc >> e, qmax - zp)): the step planes' index pairs clamp
// the rest (eb_steps_index_pair).
EB_INLINE __m512i eb_capped16(__m512i acc, __m512 scale, const eb_epilogue* e) {
  if (e->shift) return _mm512_min_epi32(eb_shifted16(acc, scale), e->hi_i);
  return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale), e->hi));
}

// The table indices of four rows of 16 channels (int16, 0..4095) as two vectors; the lookup narrows
// them to entries.
EB_INLINE void eb_index_4rows(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512 scale, const eb_epilogue* e,
                              __m512i* i01, __m512i* i23) {
  if (e->based) {
    *i01 = eb_steps_index_pair_based(eb_shifted16(a0, scale), eb_shifted16(a1, scale), e->top16);
    *i23 = eb_steps_index_pair_based(eb_shifted16(a2, scale), eb_shifted16(a3, scale), e->top16);
    return;
  }
  *i01 = eb_steps_index_pair(eb_capped16(a0, scale, e), eb_capped16(a1, scale, e), e->index_base16);
  *i23 = eb_steps_index_pair(eb_capped16(a2, scale, e), eb_capped16(a3, scale, e), e->index_base16);
}

// The entries of four rows of 16 channels from a direct table, in the packs' order (eb_store_packed4).
EB_INLINE __m512i eb_direct_4rows(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512 scale, const eb_epilogue* e) {
  __m512i i01, i23;
  eb_index_4rows(a0, a1, a2, a3, scale, e, &i01, &i23);
  return e->wide ? eb_direct_lookup(i01, i23, e->direct, 1) : eb_direct_lookup(i01, i23, e->direct, 0);
}

// Queues the table indices of four rows of 16 channels (step planes).
EB_INLINE void eb_queue_4rows(size_t r0, size_t col, size_t n, __m512i a0, __m512i a1, __m512i a2, __m512i a3,
                              __m512 scale, const eb_epilogue* e) {
  __m512i i01, i23;
  eb_index_4rows(a0, a1, a2, a3, scale, e, &i01, &i23);
  eb_steps_push(e->queue, i01, i23, NULL, r0, col, n);
}
#endif

// Stores rows [r0, r0 + 4) ∩ [0, mr) of n (<= 16) channels at column offset col (or queues them).
EB_INLINE void eb_store_4rows(int8_t* const* cr, size_t r0, size_t mr, size_t col, size_t n,
                              __m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512 scale,
                              const eb_epilogue* e) {
#if EB_LUT_STEPS
  if (e->direct != NULL) {
    eb_store_packed4(cr, r0, mr, col, n, eb_direct_4rows(a0, a1, a2, a3, scale, e), e);
    return;
  }
  if (e->steps != NULL) {
    eb_queue_4rows(r0, col, n, a0, a1, a2, a3, scale, e);
    return;
  }
#endif
  eb_store_packed4(cr, r0, mr, col, n, eb_pack_4rows(a0, a1, a2, a3, scale, e), e);
}

// The same for 16 + n1 channels: the left 16 (a*, scale) and the n1 (<= 16) right of them (b*, scale_b).
EB_INLINE void eb_store_4rows_x2(int8_t* const* cr, size_t r0, size_t mr, size_t col, size_t n1,
                                 __m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512 scale,
                                 __m512i b0, __m512i b1, __m512i b2, __m512i b3, __m512 scale_b,
                                 const eb_epilogue* e) {
#if EB_LUT_STEPS
  if (e->direct != NULL) {
    eb_store_packed4x2(cr, r0, mr, col, n1, eb_direct_4rows(a0, a1, a2, a3, scale, e),
                       eb_direct_4rows(b0, b1, b2, b3, scale_b, e), e);
    return;
  }
  if (e->steps != NULL) {
    eb_queue_4rows(r0, col, 16, a0, a1, a2, a3, scale, e);
    eb_queue_4rows(r0, col + 16, n1, b0, b1, b2, b3, scale_b, e);
    return;
  }
#endif
  eb_store_packed4x2(cr, r0, mr, col, n1, eb_pack_4rows(a0, a1, a2, a3, scale, e),
                     eb_pack_4rows(b0, b1, b2, b3, scale_b, e), e);
}

// One block of 4 or 8 rows over all channels. Named accumulators (arrays end up on the stack).
#define EB_REP1(X) X(0)
#define EB_REP4(X) X(0) X(1) X(2) X(3)
#define EB_REP8(X) EB_REP4(X) X(4) X(5) X(6) X(7)
#define EB_INIT2(r) __m512i c##r##0 = b0, c##r##1 = b1;
#define EB_STEP2(r) { const __m512i va = eb_bcast4(ar[r] + k);                                   \
                      c##r##0 = _mm512_dpbusd_epi32(c##r##0, va, w0);                          \
                      c##r##1 = _mm512_dpbusd_epi32(c##r##1, va, w1); }
#define EB_INIT1(r) __m512i c##r##0 = b0;
#define EB_STEP1(r) c##r##0 = _mm512_dpbusd_epi32(c##r##0, eb_bcast4(ar[r] + k), w0);

#define EB_GEMM_ROWS(ROWS, REP, STORES2, STORES1)                                                 \
  EB_INLINE void eb_gemm_rows##ROWS(size_t mr, size_t nc, size_t kpad, const int8_t* const* ar,  \
                                    const uint8_t* p, int8_t* const* cr, const eb_epilogue* e) { \
    size_t col = 0;                                                                              \
    while (nc > 0) {                                                                             \
      if (nc > 16) {                                                                             \
        const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512(p + 64);              \
        p += 128;                                                                                \
        REP(EB_INIT2)                                                                            \
        _Pragma("clang loop unroll_count(2)")                                                    \
        for (size_t k = 0; k < kpad; k += 4) {                                                   \
          const __m512i w0 = _mm512_loadu_si512(p), w1 = _mm512_loadu_si512(p + 64);            \
          p += 128;                                                                              \
          REP(EB_STEP2)                                                                          \
        }                                                                                        \
        const __m512 s0 = _mm512_loadu_ps(p), s1 = _mm512_loadu_ps(p + 64);                      \
        p += 128;                                                                                \
        const size_t n1 = nc - 16 < 16 ? nc - 16 : 16;                                           \
        STORES2                                                                                  \
        EB_STEPS_FLUSH                                                                           \
        col += 32;                                                                               \
        nc = nc > 32 ? nc - 32 : 0;                                                              \
      } else {                                                                                   \
        const __m512i b0 = _mm512_loadu_si512(p);                                                \
        p += 64;                                                                                 \
        REP(EB_INIT1)                                                                            \
        for (size_t k = 0; k < kpad; k += 4) {                                                   \
          const __m512i w0 = _mm512_loadu_si512(p);                                              \
          p += 64;                                                                               \
          REP(EB_STEP1)                                                                          \
        }                                                                                        \
        const __m512 s0 = _mm512_loadu_ps(p);                                                    \
        STORES1                                                                                  \
        EB_STEPS_FLUSH                                                                           \
        nc = 0;                                                                                  \
      }                                                                                          \
    }                                                                                            \
    EB_STEPS_FLUSH_ALL                                                                           \
  }

EB_GEMM_ROWS(8, EB_REP8,
  eb_store_4rows_x2(cr, 0, mr, col, n1, c00, c10, c20, c30, s0, c01, c11, c21, c31, s1, e);
  eb_store_4rows_x2(cr, 4, mr, col, n1, c40, c50, c60, c70, s0, c41, c51, c61, c71, s1, e);,
  eb_store_4rows(cr, 0, mr, col, nc, c00, c10, c20, c30, s0, e);
  eb_store_4rows(cr, 4, mr, col, nc, c40, c50, c60, c70, s0, e);)
// One row (M = 1: the squeeze-and-excite layers and a last row of a block) does not multiply three
// copies of it: its stores take the one row four times, and store row 0 only.
EB_GEMM_ROWS(1, EB_REP1,
  eb_store_4rows_x2(cr, 0, mr, col, n1, c00, c00, c00, c00, s0, c01, c01, c01, c01, s1, e);,
  eb_store_4rows(cr, 0, mr, col, nc, c00, c00, c00, c00, s0, e);)
EB_GEMM_ROWS(4, EB_REP4,
  eb_store_4rows_x2(cr, 0, mr, col, n1, c00, c10, c20, c30, s0, c01, c11, c21, c31, s1, e);,
  eb_store_4rows(cr, 0, mr, col, nc, c00, c10, c20, c30, s0, e);)

// Sixteen rows of a layer at most 16 channels wide (B0's and Lite0's first projection: 16 outputs):
// sixteen independent vpdpbusd chains instead of eight cover its latency.
#define EB_REP16(X) EB_REP8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
EB_INLINE void eb_gemm_rows16_narrow(size_t nc, size_t kpad, const int8_t* const* ar, const uint8_t* p, int8_t* const* cr,
                                     const eb_epilogue* e) {
  const size_t mr = 16;  // every row stored (and what the queue's flush is told)
  const __m512i b0 = _mm512_loadu_si512(p);
  p += 64;
  EB_REP16(EB_INIT1)
  for (size_t k = 0; k < kpad; k += 4) {
    const __m512i w0 = _mm512_loadu_si512(p);
    p += 64;
    EB_REP16(EB_STEP1)
  }
  const __m512 s0 = _mm512_loadu_ps(p);
  eb_store_4rows(cr, 0, mr, 0, nc, c00, c10, c20, c30, s0, e);
  eb_store_4rows(cr, 4, mr, 0, nc, c40, c50, c60, c70, s0, e);
  eb_store_4rows(cr, 8, mr, 0, nc, c80, c90, c100, c110, s0, e);
  eb_store_4rows(cr, 12, mr, 0, nc, c120, c130, c140, c150, s0, e);
  EB_STEPS_FLUSH_ALL
}

// Rows [0, m) in tiles of 8 (a last one of 4 or fewer rows, or 1, as above), with the epilogue, the
// queue and a direct table's quarters set up once: B0's first expansion (12544 rows, 96 channels)
// made 1568 calls of the tile kernel, each setting them up again.
EB_TARGET void EB_NAME(eb_qs8_qc8w_gemm_fp32_rows_8x32c4)(
    size_t m, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w, int8_t* c,
    size_t c_stride, const eb_qs8_requant_params* params) {
  const size_t kpad = (kc + 3) & ~(size_t)3;
  eb_epilogue e = eb_epilogue_make(params);
#if EB_LUT_STEPS
  eb_steps_queue queue;
  e.steps = eb_permute_source(params, &queue.direct);
  queue.count = 0;
  e.queue = &queue;
  eb_direct_regs direct;
  e.direct = eb_direct_setup(&direct, e.steps, queue.direct, &e.wide);
#endif
  size_t r0 = 0;
  if (nc <= 16) {
    for (; r0 + 16 <= m; r0 += 16) {
      const int8_t* ar[16];
      int8_t* cr[16];
      for (size_t r = 0; r < 16; r++) {
        ar[r] = a + (r0 + r) * a_stride;
        cr[r] = c + (r0 + r) * c_stride;
      }
      eb_gemm_rows16_narrow(nc, kpad, ar, (const uint8_t*)w, cr, &e);
    }
  }
  for (; r0 < m; r0 += 8) {
    const size_t mr = m - r0 < 8 ? m - r0 : 8;
    const int8_t* ar[8];
    int8_t* cr[8];
    for (size_t r = 0; r < 8; r++) {
      const size_t rr = r0 + (r < mr ? r : mr - 1);  // extra rows recompute the last valid one, unstored
      ar[r] = a + rr * a_stride;
      cr[r] = c + rr * c_stride;
    }
    if (mr > 4) {
      eb_gemm_rows8(mr, nc, kpad, ar, (const uint8_t*)w, cr, &e);
    } else if (mr == 1) {
      eb_gemm_rows1(mr, nc, kpad, ar, (const uint8_t*)w, cr, &e);
    } else {
      eb_gemm_rows4(mr, nc, kpad, ar, (const uint8_t*)w, cr, &e);
    }
  }
}

// One tile of at most 8 rows (the table's micro-kernel).
EB_TARGET void EB_NAME(eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4)(
    size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w, int8_t* c,
    size_t c_stride, const eb_qs8_requant_params* params) {
  EB_NAME(eb_qs8_qc8w_gemm_fp32_rows_8x32c4)(mr, nc, kc, a, a_stride, w, c, c_stride, params);
}
