// Data movement of the transformer ops (SwinV2): window partition / reverse with the cyclic shift
// folded into the indexing, and patch merging. Rows of any byte size, so f32 and int8 alike.
#include <CEdgeboneKernels.h>
#include <string.h>

size_t eb_f32_window_attention_scratch(size_t tokens, size_t head_dim) {
  const size_t n64 = (tokens + 63) / 64 * 64;
  const size_t n4 = (tokens + 3) / 4 * 4;
  // kᵀ, scale / |q|, 1 / |k| (n64), a block of 4 rows; then the int8 forms: keys, the two corrections,
  // values, a block's weights and a zero row (eb_att_logits8, eb_att_values8).
  // (The NEON dot-product build lays the same parts out with 16 keys for 64, and the values' sums.)
  return (tokens * head_dim + tokens + n64 + 4 * tokens) * sizeof(float) + head_dim * n64 + (n64 + tokens) * sizeof(int32_t) +
         n4 * head_dim + head_dim * sizeof(int32_t) + 4 * n64 + head_dim;
}

void eb_x8_window_partition(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes, size_t window, size_t shift,
                            int reverse) {
  const size_t nwx = w / window;
  for (size_t oy = 0; oy < h; oy++) {
    for (size_t ox = 0; ox < w; ox++) {
      // Window token (oy, ox) of the shifted map reads pixel (oy + shift, ox + shift) of the original.
      const size_t sy = (oy + shift) % h, sx = (ox + shift) % w;
      const size_t win = (oy / window) * nwx + ox / window, t = (oy % window) * window + ox % window;
      const size_t token = win * window * window + t, pixel = sy * w + sx;
      if (reverse) memcpy(y + pixel * row_bytes, x + token * row_bytes, row_bytes);
      else memcpy(y + token * row_bytes, x + pixel * row_bytes, row_bytes);
    }
  }
}

void eb_x8_patch_merge(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes) {
  const size_t oh = h / 2, ow = w / 2;
  for (size_t oy = 0; oy < oh; oy++) {
    for (size_t ox = 0; ox < ow; ox++) {
      uint8_t* dst = y + (oy * ow + ox) * 4 * row_bytes;
      // timm's order: (column offset, row offset) → (0,0), (1,0)=row+1, (0,1)=col+1, (1,1).
      for (size_t dx = 0; dx < 2; dx++) {
        for (size_t dy = 0; dy < 2; dy++) {
          memcpy(dst + (dx * 2 + dy) * row_bytes, x + ((2 * oy + dy) * w + 2 * ox + dx) * row_bytes, row_bytes);
        }
      }
    }
  }
}
