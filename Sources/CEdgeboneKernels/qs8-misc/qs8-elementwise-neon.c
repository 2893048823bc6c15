// Elementwise int8 kernels (add, channel scale, global average pool, LUT): neon build of the shared
// body, plus a channel scaling with the gate widened once and the products in int16 x int16 -> int32
// multiplies (the squeeze-and-excite gate: the body's loop, vectorized by the compiler, was B0's third
// largest cost on the A72 and A76, 10.3 million instructions per frame), and a global average pool
// that sums in registers (the body's loop adds each row into int32 sums in memory, a load and a store
// per four channels per row): int8 widened into int16 sums, which are widened into int32 every 256 rows.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#define EB_NAME(name) name##__neon
#define EB_OWN_VMULC  // the body's loop stays, as eb_qs8_vmulc_body, for gates too wide for the stack copy
#define EB_OWN_GAVGPOOL
#include "qs8-elementwise-body.h"
#include "../qs8-gemm/qs8-requant-neon.h"

// 16 int8 at x, or the first n of them (n < 16) with zeros after, without reading past x + n.
static inline int8x16_t eb_load16(const int8_t* x, size_t n) {
  if (n >= 16) return vld1q_s8(x);
  int8_t t[16] = {0};
  memcpy(t, x, n);
  return vld1q_s8(t);
}

// Up to 16 outputs (the first n): (x - zx) * gate in int16 x int16 -> int32, exact as the reference's
// int32 product, then the shared NEON requantization (one rounding of prod * scale, clamp after
// rounding, the table when there is one). `gate` holds 16 readable int16 (g - zg). Without a table
// and with the full int8 range (`full`, a constant at each call) the final saturating narrow is the
// clamp, and the int16 one is skipped.
static inline __attribute__((always_inline)) void eb_mulc16(const int8_t* x, const int16_t* gate, int8_t* y, size_t n,
                                                           int16x8_t zx, float32x4_t scale, const eb_neon_requant* r,
                                                           const int full) {
  const int8x16_t xv = eb_load16(x, n);
  const int16x8_t xl = vsubq_s16(vmovl_s8(vget_low_s8(xv)), zx), xh = vsubq_s16(vmovl_high_s8(xv), zx);
  const int16x8_t gl = vld1q_s16(gate), gh = vld1q_s16(gate + 8);
  const int32x4_t p[4] = {vmull_s16(vget_low_s16(xl), vget_low_s16(gl)), vmull_high_s16(xl, gl),
                          vmull_s16(vget_low_s16(xh), vget_low_s16(gh)), vmull_high_s16(xh, gh)};
  if (full) {
    const int16x8_t lo = eb_neon_round8(p[0], p[1], scale, scale, r), hi = eb_neon_round8(p[2], p[3], scale, scale, r);
    eb_neon_store_bytes16(vqmovn_high_s16(vqmovn_s16(lo), hi), y, n);
    return;
  }
  eb_neon_store16(eb_neon_requant8(p[0], p[1], scale, scale, r), eb_neon_requant8(p[2], p[3], scale, scale, r), r, y, n);
}

#define EB_MULC_GATE_MAX 2048

static void eb_vmulc_neon(size_t rows, size_t c, const int8_t* x, const int8_t* g, int8_t* y,
                          const eb_qs8_mulc_params* p);

void eb_qs8_vmulc_ukernel__neon(size_t rows, size_t c, const int8_t* x, const int8_t* g, int8_t* y,
                                const eb_qs8_mulc_params* p) {
  const size_t span = c <= 16 && 16 % c == 0 ? 16 : c;
  if (span > EB_MULC_GATE_MAX) {
    EB_NAME(eb_qs8_vmulc_body)(rows, c, x, g, y, p);  // flips as asked
    return;
  }
  eb_vmulc_neon(rows, c, x, g, y, p);
  if (p->flip) eb_x8_xor80(y, (uint8_t*)y, rows * c);  // no NEON level's GEMM reads unsigned rows
}

// Gates of at most EB_MULC_GATE_MAX channels (the caller takes wider ones to the body).
static void eb_vmulc_neon(size_t rows, size_t c, const int8_t* x, const int8_t* g, int8_t* y,
                          const eb_qs8_mulc_params* p) {
  // Rows of 1, 2, 4, 8 or 16 channels run as one flat array whose 16-byte blocks all hold the same
  // channels; wider rows run row by row, 16 channels at a time.
  const int flat = c <= 16 && 16 % c == 0;
  const size_t span = flat ? 16 : c;
  int16_t gate[EB_MULC_GATE_MAX + 16];
  for (size_t j = 0; j < c; j++) gate[j] = (int16_t)((int32_t)g[j] - p->g_zero);  // no `i % c` (see the AVX-512 kernel)
  for (size_t i = c; i < span; i++) gate[i] = gate[i - c];
  for (size_t i = span; i < span + 16; i++) gate[i] = 0;
  const eb_neon_requant r = eb_neon_requant_init(&p->out);
  const float32x4_t scale = vdupq_n_f32(p->scale);
  const int16x8_t zx = vdupq_n_s16((int16_t)p->x_zero);
  const int full = p->out.lut == NULL && p->out.qmin == -128 && p->out.qmax == 127;
  if (flat) {
    const size_t n = rows * c;
    if (full) {
      for (size_t i = 0; i < n; i += 16) eb_mulc16(x + i, gate, y + i, n - i < 16 ? n - i : 16, zx, scale, &r, 1);
    } else {
      for (size_t i = 0; i < n; i += 16) eb_mulc16(x + i, gate, y + i, n - i < 16 ? n - i : 16, zx, scale, &r, 0);
    }
    return;
  }
  for (size_t row = 0; row < rows; row++) {
    const int8_t* xr = x + row * c;
    int8_t* yr = y + row * c;
    if (full) {
      for (size_t c0 = 0; c0 < c; c0 += 16) eb_mulc16(xr + c0, gate + c0, yr + c0, c - c0 < 16 ? c - c0 : 16, zx, scale, &r, 1);
    } else {
      for (size_t c0 = 0; c0 < c; c0 += 16) eb_mulc16(xr + c0, gate + c0, yr + c0, c - c0 < 16 ? c - c0 : 16, zx, scale, &r, 0);
    }
  }
}

// Adds 16 int8 to a pair of int16 sums (lanes 0..7, 8..15).
static inline void eb_add16(int16x8_t* s, int8x16_t v) {
  s[0] = vaddw_s8(s[0], vget_low_s8(v));
  s[1] = vaddw_high_s8(s[1], v);
}

// Widens 64 lanes of int16 sums into the int32 sums (lanes in the same order) and clears them.
static inline void eb_flush16(int16x8_t* s16, int32x4_t* s) {
  for (int j = 0; j < 8; j++) {
    s[2 * j] = vaddw_s16(s[2 * j], vget_low_s16(s16[j]));
    s[2 * j + 1] = vaddw_high_s16(s[2 * j + 1], s16[j]);
    s16[j] = vdupq_n_s16(0);
  }
}

// 64 channels at a time in registers; when c divides 64 the input runs as one flat array of 64-byte
// blocks (64 / c pixels each), and the lanes of one channel are added at the end. Sums stay exact:
// at most 2^31 / 255 rows.
void eb_qs8_gavgpool_ukernel__neon(size_t rows, size_t c, const int8_t* x, int8_t* y, int32_t* acc,
                                   const eb_qs8_gavgpool_params* p) {
  const int32_t bias = -(int32_t)rows * p->x_zero;
  const int flat = c < 64 && 64 % c == 0;
  int32_t lanes[64];
  for (size_t c0 = 0; c0 < c; c0 += 64) {
    const size_t m = c - c0 < 64 ? c - c0 : 64, groups = (m + 15) / 16;
    int32x4_t s[16];
    int16x8_t s16[8];
    for (int j = 0; j < 16; j++) s[j] = vdupq_n_s32(0);
    for (int j = 0; j < 8; j++) s16[j] = vdupq_n_s16(0);
    if (flat) {
      const size_t n = rows * c;
      for (size_t i0 = 0; i0 < n; i0 += 64 * EB_POOL_RUN) {
        const size_t end = n - i0 < 64 * EB_POOL_RUN ? n : i0 + 64 * EB_POOL_RUN;
        size_t i = i0;
        for (; i + 64 <= end; i += 64) {
          _Pragma("clang loop unroll(full)")
          for (int g = 0; g < 4; g++) eb_add16(s16 + 2 * g, vld1q_s8(x + i + 16 * g));
        }
        for (int g = 0; g < 4 && i + 16 * (size_t)g < end; g++) eb_add16(s16 + 2 * g, eb_load16(x + i + 16 * g, end - i - 16 * (size_t)g));
        eb_flush16(s16, s);
      }
    } else {
      for (size_t r0 = 0; r0 < rows; r0 += EB_POOL_RUN) {
        const size_t end = rows - r0 < EB_POOL_RUN ? rows : r0 + EB_POOL_RUN;
        if (m == 64) {
          for (size_t r = r0; r < end; r++) {
            const int8_t* xr = x + r * c + c0;
            _Pragma("clang loop unroll(full)")
            for (int g = 0; g < 4; g++) eb_add16(s16 + 2 * g, vld1q_s8(xr + 16 * g));
          }
        } else {
          for (size_t r = r0; r < end; r++) {
            const int8_t* xr = x + r * c + c0;
            // Constant indices (the sums stay in registers); groups past m are skipped.
            _Pragma("clang loop unroll(full)")
            for (int g = 0; g < 4; g++)
              if ((size_t)g < groups) eb_add16(s16 + 2 * g, eb_load16(xr + 16 * g, m - 16 * (size_t)g));
          }
        }
        eb_flush16(s16, s);
      }
    }
    for (int j = 0; j < 16; j++) vst1q_s32(lanes + 4 * j, s[j]);
    EB_NAME(eb_gavgpool_lanes)(lanes, m, c, c0, flat, bias, acc);
  }
  if (y != NULL) EB_NAME(eb_gavgpool_requant)(c, acc, y, p);
}
#endif
