// YUV (BT.601) to packed RGB, integer arithmetic, with U' = U - 128, V' = V - 128. Limited range:
//   c = 298 (Y - 16); R = clamp((c + 409 V' + 128) >> 8), G = clamp((c - 100 U' - 208 V' + 128) >> 8),
//   B = clamp((c + 516 U' + 128) >> 8).
// Full range (JPEG's, Y4M's XCOLORRANGE=FULL): c = 256 Y; R = clamp((c + 359 V' + 128) >> 8),
//   G = clamp((c - 88 U' - 183 V' + 128) >> 8), B = clamp((c + 454 U' + 128) >> 8).
// No allocation: blocks of a row live on the stack.
#include <CEdgeboneKernels.h>

static inline uint8_t eb_clamp255(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

// A row at a time in blocks of 64 pixels: chroma expanded to one sample per pixel, the three
// channels computed as planar blocks (plain elementwise loops the compiler vectorizes), then
// interleaved into RGB.
#define EB_YUV_BLOCK 64

static inline void eb_yuv_block(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t n, int full, uint8_t* out) {
  uint8_t r[EB_YUV_BLOCK], g[EB_YUV_BLOCK], b[EB_YUV_BLOCK];
  if (full) {
    for (size_t i = 0; i < n; i++) {
      const int32_t c = 256 * (int32_t)y[i], cu = (int32_t)u[i] - 128, cv = (int32_t)v[i] - 128;
      r[i] = eb_clamp255((c + 359 * cv + 128) >> 8);
      g[i] = eb_clamp255((c - 88 * cu - 183 * cv + 128) >> 8);
      b[i] = eb_clamp255((c + 454 * cu + 128) >> 8);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      const int32_t c = 298 * ((int32_t)y[i] - 16), cu = (int32_t)u[i] - 128, cv = (int32_t)v[i] - 128;
      r[i] = eb_clamp255((c + 409 * cv + 128) >> 8);
      g[i] = eb_clamp255((c - 100 * cu - 208 * cv + 128) >> 8);
      b[i] = eb_clamp255((c + 516 * cu + 128) >> 8);
    }
  }
  for (size_t i = 0; i < n; i++) {
    out[3 * i] = r[i];
    out[3 * i + 1] = g[i];
    out[3 * i + 2] = b[i];
  }
}

void eb_yuv_planar_to_rgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t w, size_t h,
                          size_t chroma_w, int shift_x, int shift_y, uint8_t* rgb) {
  eb_yuv_planar_to_rgb_range(y, u, v, w, h, chroma_w, shift_x, shift_y, 0, rgb);
}

void eb_yuv_planar_to_rgb_range(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t w, size_t h,
                                size_t chroma_w, int shift_x, int shift_y, int full_range, uint8_t* rgb) {
  uint8_t ub[EB_YUV_BLOCK], vb[EB_YUV_BLOCK];
  for (size_t row = 0; row < h; row++) {
    const uint8_t* yr = y + row * w;
    uint8_t* out = rgb + row * w * 3;
    const uint8_t* ur = u != NULL ? u + (row >> shift_y) * chroma_w : NULL;
    const uint8_t* vr = v != NULL ? v + (row >> shift_y) * chroma_w : NULL;
    for (size_t c0 = 0; c0 < w; c0 += EB_YUV_BLOCK) {
      const size_t n = w - c0 < EB_YUV_BLOCK ? w - c0 : EB_YUV_BLOCK;
      for (size_t i = 0; i < n; i++) {
        ub[i] = ur != NULL ? ur[(c0 + i) >> shift_x] : 128;
        vb[i] = vr != NULL ? vr[(c0 + i) >> shift_x] : 128;
      }
      eb_yuv_block(yr + c0, ub, vb, n, full_range, out + c0 * 3);
    }
  }
}

void eb_yuyv_to_rgb(const uint8_t* yuyv, size_t stride, size_t w, size_t h, uint8_t* rgb) {
  uint8_t yb[EB_YUV_BLOCK], ub[EB_YUV_BLOCK], vb[EB_YUV_BLOCK];
  for (size_t row = 0; row < h; row++) {
    const uint8_t* line = yuyv + row * stride;
    uint8_t* out = rgb + row * w * 3;
    for (size_t c0 = 0; c0 < w; c0 += EB_YUV_BLOCK) {
      const size_t n = w - c0 < EB_YUV_BLOCK ? w - c0 : EB_YUV_BLOCK;
      for (size_t i = 0; i < n; i++) {
        const uint8_t* q = line + 2 * ((c0 + i) & ~(size_t)1);
        yb[i] = line[2 * (c0 + i)];
        ub[i] = q[1];
        vb[i] = q[3];
      }
      eb_yuv_block(yb, ub, vb, n, 0, out + c0 * 3);
    }
  }
}
