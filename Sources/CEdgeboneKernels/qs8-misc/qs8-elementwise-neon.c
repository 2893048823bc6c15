// Elementwise int8 kernels (add, channel scale, global average pool, LUT): neon build of the shared
// body, plus a global average pool that sums in registers (the body's loop adds each row into int32
// sums in memory, a load and a store per four channels per row): int8 widened into int16 sums, which
// are widened into int32 every 256 rows.
#include <CEdgeboneKernels.h>
#pragma clang fp contract(off)
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#define EB_NAME(name) name##__neon
#define EB_OWN_GAVGPOOL
#include "qs8-elementwise-body.h"

// 16 int8 at x, or the first n of them (n < 16) with zeros after, without reading past x + n.
static inline int8x16_t eb_load16(const int8_t* x, size_t n) {
  if (n >= 16) return vld1q_s8(x);
  int8_t t[16] = {0};
  memcpy(t, x, n);
  return vld1q_s8(t);
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
  EB_NAME(eb_gavgpool_requant)(c, acc, y, p);
}
#endif
