// Tap pointers of one output pixel: valid taps point into the input, padded ones at zero_row.
// Internal to the depthwise kernels.
#pragma once
#include <stddef.h>
#include <stdint.h>

static inline void eb_dwconv_taps(const int8_t* x, size_t h, size_t w, size_t c, size_t k,
                                  size_t stride, size_t pad_top, size_t pad_left, size_t oy,
                                  size_t ox, const int8_t* zero_row, const int8_t** taps) {
  const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
  const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
  for (size_t ky = 0; ky < k; ky++) {
    const ptrdiff_t iy = iy0 + (ptrdiff_t)ky;
    for (size_t kx = 0; kx < k; kx++) {
      const ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
      const int inside = iy >= 0 && iy < (ptrdiff_t)h && ix >= 0 && ix < (ptrdiff_t)w;
      taps[ky * k + kx] = inside ? x + ((size_t)iy * w + (size_t)ix) * c : zero_row;
    }
  }
}
