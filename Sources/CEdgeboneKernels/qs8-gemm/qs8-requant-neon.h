// Requantization for the NEON kernels (GEMMs, depthwise): fp32 scale, round half to even (vcvtnq),
// or a shift (shift requantization, eb_qs8.h), zero point, clamp; then saturating narrow to bytes, or a table lookup. Internal header.
//
// The clamp happens after rounding, in int16: with integer bounds, clamp(rint(v)) == rint(clamp(v)),
// and the saturating conversions and narrowing only move values that the clamp moves anyway (the zero
// point and bounds lie within the 12-bit grid), so the result is the scalar reference's (float
// clamp, then round, then zero point) bit for bit, in fewer instructions.
#pragma once
#include <CEdgeboneKernels.h>
#include <arm_neon.h>
#include <string.h>

/// The epilogue's constants, read once per kernel call.
typedef struct {
  int16x8_t zp, qmin, qmax;
  const int8_t* base;  // lut - qmin, or NULL: no table
  int shift;           // the scale slots hold shift counts (eb_qs8.h)
} eb_neon_requant;

static inline __attribute__((always_inline)) eb_neon_requant eb_neon_requant_init(const eb_qs8_requant_params* p) {
  const eb_neon_requant r = {vdupq_n_s16((int16_t)p->zero_point), vdupq_n_s16((int16_t)p->qmin),
                             vdupq_n_s16((int16_t)p->qmax), p->lut != NULL ? p->lut - p->qmin : NULL, p->shift};
  return r;
}

/// Eight accumulators → eight rounded values with the zero point added, saturated to int16, not yet
/// clamped. Where the bounds are the full int8 range and there is no table, the saturating narrow to
/// bytes is the clamp. With shift requantization s0, s1 hold the counts e: a shift left by -e.
static inline __attribute__((always_inline)) int16x8_t eb_neon_round8(int32x4_t a0, int32x4_t a1, float32x4_t s0, float32x4_t s1,
                                                                       const eb_neon_requant* r) {
  if (r->shift) {
    const int32x4_t q0 = vshlq_s32(a0, vnegq_s32(vreinterpretq_s32_f32(s0)));
    const int32x4_t q1 = vshlq_s32(a1, vnegq_s32(vreinterpretq_s32_f32(s1)));
    return vqaddq_s16(vqmovn_high_s32(vqmovn_s32(q0), q1), r->zp);
  }
  const int32x4_t q0 = vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(a0), s0));
  const int32x4_t q1 = vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(a1), s1));
  return vqaddq_s16(vqmovn_high_s32(vqmovn_s32(q0), q1), r->zp);
}

/// Eight accumulators → eight clamped values on the output grid (int8 range, or the table's 12-bit grid).
static inline __attribute__((always_inline)) int16x8_t eb_neon_requant8(int32x4_t a0, int32x4_t a1, float32x4_t s0, float32x4_t s1,
                                         const eb_neon_requant* r) {
  return vminq_s16(vmaxq_s16(eb_neon_round8(a0, a1, s0, s1, r), r->qmin), r->qmax);
}

/// Writes n clamped values through the table (base = lut - qmin). Inlined where n is a constant, the
/// loop unrolls.
static inline __attribute__((always_inline)) void eb_neon_lookup(const int16_t* q, const int8_t* base, int8_t* out,
                                                                  size_t n) {
  for (size_t j = 0; j < n; j++) out[j] = base[q[j]];
}

/// Stores n <= 8 requantized lanes: as bytes, or through the table.
static inline __attribute__((always_inline)) void eb_neon_store8(int16x8_t q, const eb_neon_requant* r, int8_t* out, size_t n) {
  if (r->base == NULL) {
    const int8x8_t v = vqmovn_s16(q);
    if (n == 8) {
      vst1_s8(out, v);
    } else {
      int8_t t[8];
      vst1_s8(t, v);
      memcpy(out, t, n);
    }
  } else {
    int16_t t[8];
    vst1q_s16(t, q);
    eb_neon_lookup(t, r->base, out, n);
  }
}

/// Stores the first n <= 16 bytes of v.
static inline __attribute__((always_inline)) void eb_neon_store_bytes16(int8x16_t v, int8_t* out, size_t n) {
  if (n == 16) {
    vst1q_s8(out, v);
  } else {
    int8_t t[16];
    vst1q_s8(t, v);
    memcpy(out, t, n);
  }
}

/// Stores n <= 16 requantized lanes (two halves): as bytes, or through the table.
static inline __attribute__((always_inline)) void eb_neon_store16(int16x8_t lo, int16x8_t hi, const eb_neon_requant* r, int8_t* out, size_t n) {
  if (r->base == NULL) {
    eb_neon_store_bytes16(vqmovn_high_s16(vqmovn_s16(lo), hi), out, n);
  } else {
    int16_t t[16];
    vst1q_s16(t, lo);
    vst1q_s16(t + 8, hi);
    eb_neon_lookup(t, r->base, out, n);
  }
}
