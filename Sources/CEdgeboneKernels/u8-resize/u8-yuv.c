// YUV (BT.601 limited range) to packed RGB, integer arithmetic:
//   c = 298 (Y - 16); R = clamp((c + 409 V' + 128) >> 8), G = clamp((c - 100 U' - 208 V' + 128) >> 8),
//   B = clamp((c + 516 U' + 128) >> 8), with U' = U - 128, V' = V - 128.
// Plain loops over one row at a time so the compiler vectorizes them; no allocation.
#include <CEdgeboneKernels.h>

static inline uint8_t eb_clamp255(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static inline void eb_yuv_pixel(int32_t y, int32_t u, int32_t v, uint8_t* o) {
  const int32_t c = 298 * (y - 16), cu = u - 128, cv = v - 128;
  o[0] = eb_clamp255((c + 409 * cv + 128) >> 8);
  o[1] = eb_clamp255((c - 100 * cu - 208 * cv + 128) >> 8);
  o[2] = eb_clamp255((c + 516 * cu + 128) >> 8);
}

void eb_yuv_planar_to_rgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t w, size_t h,
                          size_t chroma_w, int shift_x, int shift_y, uint8_t* rgb) {
  for (size_t row = 0; row < h; row++) {
    const uint8_t* yr = y + row * w;
    uint8_t* out = rgb + row * w * 3;
    if (u == NULL) {
      for (size_t col = 0; col < w; col++) eb_yuv_pixel(yr[col], 128, 128, out + col * 3);
      continue;
    }
    const uint8_t* ur = u + (row >> shift_y) * chroma_w;
    const uint8_t* vr = v + (row >> shift_y) * chroma_w;
    for (size_t col = 0; col < w; col++) eb_yuv_pixel(yr[col], ur[col >> shift_x], vr[col >> shift_x], out + col * 3);
  }
}

void eb_yuyv_to_rgb(const uint8_t* yuyv, size_t stride, size_t w, size_t h, uint8_t* rgb) {
  for (size_t row = 0; row < h; row++) {
    const uint8_t* line = yuyv + row * stride;
    uint8_t* out = rgb + row * w * 3;
    for (size_t pair = 0; pair < w / 2; pair++) {
      const uint8_t* q = line + 4 * pair;
      eb_yuv_pixel(q[0], q[1], q[3], out + 6 * pair);
      eb_yuv_pixel(q[2], q[1], q[3], out + 6 * pair + 3);
    }
  }
}
