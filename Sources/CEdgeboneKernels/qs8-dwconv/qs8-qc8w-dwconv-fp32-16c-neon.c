// Int8 depthwise convolution for NEON: 16 channels per step. Taps go in pairs: smull + smlal form
// two products per int16 lane (exact: weights lie in -127..127, which the loader checks, so
// |x*w| <= 16256 and two of them fit in int16), then saddw/saddw2 widen them into four int32x4
// accumulators. The tap loop is unrolled for 3x3 and 5x5 (every EfficientNet depthwise); interior
// pixels get their tap pointers by moving the previous pixel's, and only border pixels go through
// the padded-tap computation.
#include <CEdgeboneKernels.h>
#include <string.h>
#include "qs8-dwconv-taps.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include "../qs8-gemm/qs8-requant-neon.h"

// Two taps of 16 channels: acc += xa * wt[t] + xb * wt[t + 1], the pair summed in int16.
static inline __attribute__((always_inline)) void eb_dw16_pair(const int8_t* ina, const int8_t* inb, const int8_t* wt,
                                                                int32x4_t acc[4]) {
  const int8x16_t xa = vld1q_s8(ina), xb = vld1q_s8(inb), wa = vld1q_s8(wt), wb = vld1q_s8(wt + 16);
  const int16x8_t pl = vmlal_s8(vmull_s8(vget_low_s8(xa), vget_low_s8(wa)), vget_low_s8(xb), vget_low_s8(wb));
  const int16x8_t ph = vmlal_high_s8(vmull_high_s8(xa, wa), xb, wb);
  acc[0] = vaddw_s16(acc[0], vget_low_s16(pl));
  acc[1] = vaddw_high_s16(acc[1], pl);
  acc[2] = vaddw_s16(acc[2], vget_low_s16(ph));
  acc[3] = vaddw_high_s16(acc[3], ph);
}

// The last tap of an odd count.
static inline __attribute__((always_inline)) void eb_dw16_one(const int8_t* in, const int8_t* wt, int32x4_t acc[4]) {
  const int8x16_t x = vld1q_s8(in), w = vld1q_s8(wt);
  const int16x8_t pl = vmull_s8(vget_low_s8(x), vget_low_s8(w)), ph = vmull_high_s8(x, w);
  acc[0] = vaddw_s16(acc[0], vget_low_s16(pl));
  acc[1] = vaddw_high_s16(acc[1], pl);
  acc[2] = vaddw_s16(acc[2], vget_low_s16(ph));
  acc[3] = vaddw_high_s16(acc[3], ph);
}

// acc += sum over taps t of in[t][off ..] * wt[t][..]; kk is a constant where it matters (9, 25),
// so the loop unrolls whole.
static inline __attribute__((always_inline)) void eb_dw16_taps(const int8_t* const* in, size_t off, size_t kk,
                                                                const int8_t* wt, int32x4_t acc[4]) {
  if (kk == 25) {
#pragma clang loop unroll(full)
    for (size_t t = 0; t < 24; t += 2) eb_dw16_pair(in[t] + off, in[t + 1] + off, wt + t * 16, acc);
    eb_dw16_one(in[24] + off, wt + 24 * 16, acc);
  } else if (kk == 9) {
#pragma clang loop unroll(full)
    for (size_t t = 0; t < 8; t += 2) eb_dw16_pair(in[t] + off, in[t + 1] + off, wt + t * 16, acc);
    eb_dw16_one(in[8] + off, wt + 8 * 16, acc);
  } else {
    size_t t = 0;
    for (; t + 2 <= kk; t += 2) eb_dw16_pair(in[t] + off, in[t + 1] + off, wt + t * 16, acc);
    if (t < kk) eb_dw16_one(in[t] + off, wt + t * 16, acc);
  }
}

// One channel tile of one pixel (p: bias, kk x 16 int8 taps, scales): in[t] + off are the tap inputs;
// n <= 16 channels are stored.
static inline __attribute__((always_inline)) void eb_dw16_tile(const int8_t* const* in, size_t off, size_t kk,
                                                                const uint8_t* p, int8_t* out, size_t n,
                                                                const eb_neon_requant* r) {
  int32x4_t acc[4] = {vld1q_s32((const int32_t*)p), vld1q_s32((const int32_t*)p + 4), vld1q_s32((const int32_t*)p + 8),
                      vld1q_s32((const int32_t*)p + 12)};
  eb_dw16_taps(in, off, kk, (const int8_t*)(p + 64), acc);
  const float* s = (const float*)(p + 64 + kk * 16);
  eb_neon_store16(eb_neon_requant8(acc[0], acc[1], vld1q_f32(s), vld1q_f32(s + 4), r),
                  eb_neon_requant8(acc[2], acc[3], vld1q_f32(s + 8), vld1q_f32(s + 12), r), r, out, n);
}

// One output pixel: all channel tiles.
static inline __attribute__((always_inline)) void eb_dw16_pixel(const int8_t* const* taps, size_t kk, size_t c,
                                                                 const uint8_t* p, int8_t* out, const eb_neon_requant* r) {
  const size_t tile = 16 * 4 + kk * 16 + 16 * 4;
  size_t c0 = 0;
  for (; c0 + 16 <= c; c0 += 16, p += tile) eb_dw16_tile(taps, c0, kk, p, out + c0, 16, r);
  if (c0 < c) {
    // Last, partial tile: the channels left, copied out so that no load reads past a row's end.
    const size_t n = c - c0;
    int8_t x[25][16];
    const int8_t* in[25];
    for (size_t t = 0; t < kk; t++) {
      memset(x[t], 0, 16);
      memcpy(x[t], taps[t] + c0, n);
      in[t] = x[t];
    }
    eb_dw16_tile(in, 0, kk, p, out + c0, n, r);
  }
}

static inline __attribute__((always_inline)) void eb_dw16_rows(const int8_t* x, size_t h, size_t w, size_t c,
                                                                const uint8_t* packed, size_t k, size_t stride,
                                                                size_t pad_top, size_t pad_left, int8_t* y, size_t ow,
                                                                size_t oy0, size_t oy1, const int8_t* zero_row,
                                                                const eb_neon_requant* r) {
  const size_t kk = k * k;
  const int8_t* taps[25];
  for (size_t oy = oy0; oy < oy1; oy++) {
    const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
    const int rows_inside = iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h;
    int moved = 0; // taps[] hold the previous pixel's interior taps
    for (size_t ox = 0; ox < ow; ox++) {
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      if (rows_inside && ix0 >= 0 && ix0 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        if (moved) {
          const size_t step = stride * c;
          for (size_t t = 0; t < kk; t++) taps[t] += step;
        } else {
          const int8_t* origin = x + ((size_t)iy0 * w + (size_t)ix0) * c;
          for (size_t ky = 0; ky < k; ky++)
            for (size_t kx = 0; kx < k; kx++) taps[ky * k + kx] = origin + (ky * w + kx) * c;
          moved = 1;
        }
      } else {
        eb_dwconv_taps(x, h, w, c, k, stride, pad_top, pad_left, oy, ox, zero_row, taps);
        moved = 0;
      }
      eb_dw16_pixel(taps, kk, c, packed, y + (oy * ow + ox) * c, r);
    }
  }
}

void eb_qs8_qc8w_dwconv_fp32_ukernel_16c__neon(const int8_t* x, size_t h, size_t w, size_t c,
                                               const void* packed, size_t k, size_t stride,
                                               size_t pad_top, size_t pad_left, int8_t* y,
                                               size_t oh, size_t ow, size_t oy0, size_t oy1,
                                               const int8_t* zero_row,
                                               const eb_qs8_requant_params* params) {
  (void)oh;
  // One copy per requantization form, its `shift` a constant there: with a test per tile B0's depthwise
  // took 30.3 M instructions per frame instead of 27.7 in the fp32 form (insn-count.sh, before and after).
  eb_neon_requant r = eb_neon_requant_init(params);
  const uint8_t* p = (const uint8_t*)packed;
  if (params->shift) {
    r.shift = 1;
    if (k == 3) eb_dw16_rows(x, h, w, c, p, 3, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
    else if (k == 5) eb_dw16_rows(x, h, w, c, p, 5, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
    else eb_dw16_rows(x, h, w, c, p, k, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
    return;
  }
  r.shift = 0;
  if (k == 3) eb_dw16_rows(x, h, w, c, p, 3, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
  else if (k == 5) eb_dw16_rows(x, h, w, c, p, 5, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
  else eb_dw16_rows(x, h, w, c, p, k, stride, pad_top, pad_left, y, ow, oy0, oy1, zero_row, &r);
}
#endif
