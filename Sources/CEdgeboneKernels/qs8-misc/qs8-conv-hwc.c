// Dense k x k convolution for few input channels (the stem) without a full im2col: patches of up
// to MR output pixels are gathered into a small scratch and multiplied by the table's GEMM kernel.
#include <CEdgeboneKernels.h>
#include <string.h>

// 16 bytes of room past K for the fast path's block copies.
static size_t eb_patch_stride(size_t k, size_t cin) { return (k * k * cin + 16 + 63) & ~(size_t)63; }

size_t eb_qs8_conv_hwc_scratch_size(const eb_kernel_config* cfg, size_t k, size_t cin) {
  return cfg->gemm_mr * eb_patch_stride(k, cin) + EB_EXTRA_BYTES;
}

void eb_qs8_conv_hwc(const eb_kernel_config* cfg, const int8_t* x, size_t h, size_t w, size_t cin,
                     size_t cout, const void* packed, size_t k, size_t stride, size_t pad_top,
                     size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
                     const int8_t* pad_values, int8_t* patches,
                     const eb_qs8_requant_params* params) {
  (void)oh;
  const size_t kc = k * k * cin, ps = eb_patch_stride(k, cin), mr = cfg->gemm_mr;
  const uint8_t flip = cfg->gemm_packing.a_xor ? 0x80 : 0x00;
  const size_t row_bytes = k * cin;
  const size_t first = oy0 * ow, last = oy1 * ow;
  for (size_t p0 = first; p0 < last; p0 += mr) {
    const size_t count = last - p0 < mr ? last - p0 : mr;
    // Output coordinates advance pixel by pixel (one division per block, not per pixel).
    size_t oy = p0 / ow, ox = p0 % ow;
    for (size_t i = 0; i < count; i++, ox = ox + 1 == ow ? 0 : ox + 1, oy += ox == 0) {
      int8_t* patch = patches + i * ps;
      const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      if (row_bytes <= 16 && iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h && ix0 >= 0 && ix0 + (ptrdiff_t)k <= (ptrdiff_t)w) {
        // Inside the image: each kernel row is k * cin contiguous bytes; copy it as one 16-byte
        // block (the surplus lands where the next row, or the zero-weight padding of K, goes; the
        // read stays within the input's EB_EXTRA_BYTES slack).
        for (size_t ky = 0; ky < k; ky++) {
          uint8_t v[16];
          memcpy(v, x + ((size_t)(iy0 + (ptrdiff_t)ky) * w + (size_t)ix0) * cin, 16);
          for (size_t j = 0; j < 16; j++) v[j] ^= flip;
          memcpy(patch + ky * row_bytes, v, 16);
        }
        continue;
      }
      for (size_t ky = 0; ky < k; ky++) {
        const ptrdiff_t iy = iy0 + (ptrdiff_t)ky;
        for (size_t kx = 0; kx < k; kx++) {
          const ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
          int8_t* dst = patch + (ky * k + kx) * cin;
          if (iy < 0 || iy >= (ptrdiff_t)h || ix < 0 || ix >= (ptrdiff_t)w) {
            for (size_t j = 0; j < cin; j++) dst[j] = (int8_t)((uint8_t)pad_values[j] ^ flip);
          } else {
            const int8_t* src = x + ((size_t)iy * w + (size_t)ix) * cin;
            for (size_t j = 0; j < cin; j++) dst[j] = (int8_t)((uint8_t)src[j] ^ flip);
          }
        }
      }
    }
    cfg->gemm(count, cout, kc, patches, ps, packed, y + p0 * cout, cout, params);
  }
}

