// Packs depthwise weights per channel tile: int32 bias (zero-point correction folded), the taps in
// the element width the kernel multiplies with, fp32 scales.
#include <CEdgeboneKernels.h>
#include <string.h>

// Kernel size k of k*k taps (0 when taps is not a square).
static size_t eb_dw_kernel_size(size_t taps) {
  size_t k = 1;
  while (k * k < taps) k++;
  return k * k == taps ? k : 0;
}

// Bytes of the column-grouped copy of one tile's weights (0 without one).
static size_t eb_dw_column_bytes(const eb_dwconv_packing* pk, size_t taps) {
  const size_t k = eb_dw_kernel_size(taps);
  if (!pk->columns || pk->tapgroup != 4 || k == 0) return 0;
  return k * ((k + 3) / 4) * 4 * pk->ct;
}

size_t eb_qs8_dwconv_packed_size(const eb_dwconv_packing* pk, size_t c, size_t taps) {
  const size_t tiles = (c + pk->ct - 1) / pk->ct;
  const size_t slots = pk->tapgroup > 1 ? (taps + pk->tapgroup - 1) / pk->tapgroup * pk->tapgroup : taps;
  return tiles * (pk->ct * (sizeof(int32_t) + slots * pk->welem + sizeof(float)) + eb_dw_column_bytes(pk, taps));
}

// Channel (within a tile) of position `pos` in the grouped layout: accumulator j = pos / 16,
// dword d = pos % 16 -> 16 * (d / 4) + 4 * j + d % 4.
static size_t eb_dw_grouped_channel(size_t pos) {
  const size_t j = pos / 16, d = pos % 16;
  return 16 * (d / 4) + 4 * j + d % 4;
}

// Channel stored at position `pos` of the tile starting at c0 (>= c: padding).
static size_t eb_dw_packed_channel(size_t c0, size_t pos, int grouped, int pair) {
  const size_t ch = c0 + (grouped ? eb_dw_grouped_channel(pos) : pos);
  return pair && ch >= 32 ? ch - 32 : ch;
}

void eb_qs8_dwconv_pack(const eb_dwconv_packing* pk, size_t c, size_t taps, const int8_t* w,
                        const int32_t* bias, const float* scale, int32_t x_zero_point, void* out) {
  uint8_t* p = (uint8_t*)out;
  const int grouped = pk->tapgroup > 1;
  // The grouped (VNNI) layout reads x ^ 0x80 = x + 128 as uint8.
  const int32_t x_offset = x_zero_point + (grouped ? 128 : 0);
  // Grouped, 32 channels: the upper half of the 64-wide tile repeats channels 0..31, so a kernel
  // may run two adjacent pixels (64 contiguous bytes at stride 1) through one tile.
  const int pair = grouped && c == 32 && pk->ct == 64;
  for (size_t c0 = 0; c0 < c; c0 += pk->ct) {
    for (size_t pos = 0; pos < pk->ct; pos++) {
      const size_t ch = eb_dw_packed_channel(c0, pos, grouped, pair);
      int32_t v = 0;
      if (ch < c) {
        int32_t sum = 0;
        for (size_t t = 0; t < taps; t++) sum += w[t * c + ch];
        v = (bias != NULL ? bias[ch] : 0) - x_offset * sum;
      }
      memcpy(p, &v, 4);
      p += 4;
    }
    if (grouped) {
      const size_t g = pk->tapgroup;
      for (size_t t0 = 0; t0 < taps; t0 += g) {
        for (size_t pos = 0; pos < pk->ct; pos++) {
          const size_t ch = eb_dw_packed_channel(c0, pos, grouped, pair);
          for (size_t t = t0; t < t0 + g; t++) *p++ = (uint8_t)(ch < c && t < taps ? w[t * c + ch] : 0);
        }
      }
    } else {
      for (size_t t = 0; t < taps; t++) {
        for (size_t j = 0; j < pk->ct; j++) {
          const int8_t v = c0 + j < c ? w[t * c + c0 + j] : 0;
          if (pk->welem == 1) {
            *p = (uint8_t)v;
          } else if (pk->welem == 2) {
            const int16_t v16 = v;
            memcpy(p, &v16, 2);
          } else {
            const uint32_t v32 = (uint16_t)(int16_t)v;
            memcpy(p, &v32, 4);
          }
          p += pk->welem;
        }
      }
    }
    for (size_t pos = 0; pos < pk->ct; pos++) {
      const size_t ch = eb_dw_packed_channel(c0, pos, grouped, pair);
      const float s = ch < c ? scale[ch] : 0.0f;
      memcpy(p, &s, 4);
      p += 4;
    }
  }
  if (eb_dw_column_bytes(pk, taps) == 0) return;
  const size_t k = eb_dw_kernel_size(taps);
  for (size_t c0 = 0; c0 < c; c0 += pk->ct) {
    for (size_t kx = 0; kx < k; kx++) {
      for (size_t ky0 = 0; ky0 < k; ky0 += 4) {
        for (size_t pos = 0; pos < pk->ct; pos++) {
          const size_t ch = eb_dw_packed_channel(c0, pos, grouped, pair);
          for (size_t ky = ky0; ky < ky0 + 4; ky++) *p++ = (uint8_t)(ch < c && ky < k ? w[(ky * k + kx) * c + ch] : 0);
        }
      }
    }
  }
}
