// Dense k x k convolution for few input channels (the stem) without a full im2col: patches of up
// to MR output pixels are gathered into a small scratch and multiplied by the table's GEMM kernel.
#include <CEdgeboneKernels.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>

// Inside patches of a 3x3 kernel with at most 10 bytes per kernel row (k * cin; the stem: 9) on x86,
// where every kernel level has SSSE3: the three rows, read 16 bytes each, are shuffled into place and
// a patch is written as two whole 16-byte stores. The portable path stores each row as a 16-byte
// block at its offset; those stores overlap, and the GEMM's 4-byte reads that straddle two of them
// wait for both (half of the stem's time on Zen 5: 85 against 39 µs for the GEMM alone).
typedef struct {
  __m128i lo0, lo1, hi1, hi2;  // byte shuffles: rows 0 and 1 into patch bytes 0..15, rows 1 and 2 into 16..31
} eb_patch3_shuffles;

static eb_patch3_shuffles eb_patch3_shuffles_make(size_t row_bytes) {
  int8_t c[4][16];
  const int rb = (int)row_bytes;
  for (int j = 0; j < 16; j++) {
    const int hi = 16 + j;  // patch byte of the high half
    c[0][j] = (int8_t)(j < rb ? j : -1);
    c[1][j] = (int8_t)(j >= rb && j < 2 * rb ? j - rb : -1);
    c[2][j] = (int8_t)(hi < 2 * rb ? hi - rb : -1);
    c[3][j] = (int8_t)(hi >= 2 * rb && hi < 3 * rb ? hi - 2 * rb : -1);
  }
  eb_patch3_shuffles s;
  memcpy(&s.lo0, c[0], 16);
  memcpy(&s.lo1, c[1], 16);
  memcpy(&s.hi1, c[2], 16);
  memcpy(&s.hi2, c[3], 16);
  return s;
}

// n patches of consecutive output pixels of one row, the first reading rows r0, r0 + rows, r0 + 2 rows,
// each next one `step` bytes on; patches `ps` bytes apart.
__attribute__((target("ssse3"))) static void eb_patch3_run_x86(const int8_t* r0, size_t rows, size_t step, size_t n,
                                                               const eb_patch3_shuffles* s, uint8_t flip, int8_t* patch,
                                                               size_t ps) {
  const __m128i lo0 = s->lo0, lo1 = s->lo1, hi1 = s->hi1, hi2 = s->hi2, f = _mm_set1_epi8((char)flip);
  for (size_t i = 0; i < n; i++, r0 += step, patch += ps) {
    const __m128i a = _mm_loadu_si128((const __m128i*)r0), b = _mm_loadu_si128((const __m128i*)(r0 + rows));
    const __m128i c = _mm_loadu_si128((const __m128i*)(r0 + 2 * rows));
    const __m128i lo = _mm_or_si128(_mm_shuffle_epi8(a, lo0), _mm_shuffle_epi8(b, lo1));
    const __m128i hi = _mm_or_si128(_mm_shuffle_epi8(b, hi1), _mm_shuffle_epi8(c, hi2));
    _mm_storeu_si128((__m128i*)patch, _mm_xor_si128(lo, f));
    _mm_storeu_si128((__m128i*)(patch + 16), _mm_xor_si128(hi, f));
  }
}
#endif

// 16 bytes of room past K for the fast path's block copies.
static size_t eb_patch_stride(size_t k, size_t cin) { return (k * k * cin + 16 + 63) & ~(size_t)63; }

// Patches are made for blocks of this many micro-kernel tiles of pixels, then multiplied: the
// per-block work (coordinates, the GEMM's set-up) is shared by more pixels. 32 tiles of 8 (16 KB of
// patches for the stem, within L1) took B0's stem 6% under 8 tiles (Zen 5); 128 gained no more.
#define EB_PATCH_TILES 32

size_t eb_qs8_conv_hwc_scratch_size(const eb_kernel_config* cfg, size_t k, size_t cin) {
  return EB_PATCH_TILES * cfg->gemm_mr * eb_patch_stride(k, cin) + EB_EXTRA_BYTES;
}

void eb_qs8_conv_hwc(const eb_kernel_config* cfg, const int8_t* x, size_t h, size_t w, size_t cin,
                     size_t cout, const void* packed, size_t k, size_t stride, size_t pad_top,
                     size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0, size_t oy1,
                     const int8_t* pad_values, int8_t* patches,
                     const eb_qs8_requant_params* params) {
  (void)oh;
  const size_t kc = k * k * cin, ps = eb_patch_stride(k, cin), block = EB_PATCH_TILES * cfg->gemm_mr;
  const uint8_t flip = cfg->gemm_packing.a_xor ? 0x80 : 0x00;
  const size_t row_bytes = k * cin;
  const size_t first = oy0 * ow, last = oy1 * ow;
#if defined(__x86_64__)
  const int shuffled = cfg->isa != EB_ISA_SCALAR && k == 3 && row_bytes <= 10;  // 3 rows fit 32 bytes
  const eb_patch3_shuffles shuffles = eb_patch3_shuffles_make(shuffled ? row_bytes : 0);
#endif
  // Output pixels whose taps all lie inside, per row: columns [ox_in, ox_end) of rows with
  // iy0 in [0, h - k].
  const size_t ox_in = (pad_left + stride - 1) / stride;
  size_t ox_end = w + pad_left >= k ? (w + pad_left - k) / stride + 1 : 0;
  ox_end = ox_end < ow ? ox_end : ow;
  for (size_t p0 = first; p0 < last; p0 += block) {
    const size_t count = last - p0 < block ? last - p0 : block;
    // Output coordinates advance pixel by pixel (one division per block, not per pixel).
    size_t oy = p0 / ow, ox = p0 % ow;
    for (size_t i = 0; i < count; i++, ox = ox + 1 == ow ? 0 : ox + 1, oy += ox == 0) {
      int8_t* patch = patches + i * ps;
      const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - (ptrdiff_t)pad_top;
      const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - (ptrdiff_t)pad_left;
      const int inside = iy0 >= 0 && iy0 + (ptrdiff_t)k <= (ptrdiff_t)h && ox >= ox_in && ox < ox_end;
#if defined(__x86_64__)
      if (shuffled && inside) {
        // The rest of this row's inside pixels in the block, the row pointer advancing by stride pixels.
        const size_t n = (ox_end < ox + (count - i) ? ox_end : ox + (count - i)) - ox;
        eb_patch3_run_x86(x + ((size_t)iy0 * w + (size_t)ix0) * cin, w * cin, stride * cin, n, &shuffles, flip, patch, ps);
        ox += n - 1, i += n - 1;  // the loop's step takes the last one
        continue;
      }
#endif
      if (row_bytes <= 16 && inside) {
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
    eb_qs8_gemm_rows(cfg, 0, count, cout, kc, patches, ps, packed, y + p0 * cout, cout, params);
  }
}

