// Packs int8 GEMM weights for a micro-kernel family: per tile of output channels, the int32 bias
// (zero-point corrections folded in), the weights in k-blocks of kr per channel, the fp32 scales.
#include <CEdgeboneKernels.h>
#include <string.h>

static size_t eb_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static size_t eb_tile_width(const eb_gemm_packing* pk, size_t remaining) {
  return remaining <= pk->nr_tail ? pk->nr_tail : pk->nr;
}

size_t eb_qs8_gemm_packed_size(const eb_gemm_packing* pk, size_t n, size_t k) {
  const size_t kpad = eb_round_up(k, pk->kr);
  size_t total = 0;
  for (size_t n0 = 0; n0 < n;) {
    const size_t nt = eb_tile_width(pk, n - n0);
    total += nt * sizeof(int32_t) + kpad * nt * pk->welem + nt * sizeof(float);
    n0 += nt;
  }
  return total;
}

void eb_qs8_gemm_pack(const eb_gemm_packing* pk, size_t n, size_t k, const int8_t* w,
                      const int32_t* bias, const float* scale, int32_t a_zero_point, void* out) {
  const size_t kpad = eb_round_up(k, pk->kr);
  uint8_t* p = (uint8_t*)out;
  for (size_t n0 = 0; n0 < n;) {
    const size_t nt = eb_tile_width(pk, n - n0);
    const size_t valid = n - n0 < nt ? n - n0 : nt;
    int32_t* b = (int32_t*)p;
    for (size_t j = 0; j < nt; j++) {
      int32_t v = 0;
      if (j < valid) {
        int32_t sum = 0;
        for (size_t i = 0; i < k; i++) sum += w[(n0 + j) * k + i];
        v = (bias != NULL ? bias[n0 + j] : 0) - a_zero_point * sum - (pk->a_xor ? 128 * sum : 0);
      }
      memcpy(b + j, &v, sizeof v);
    }
    p += nt * sizeof(int32_t);
    size_t k0 = 0;
    if (pk->welem == 1 && pk->kr == 4) {
      // Whole k-blocks of 4 bytes: one copy per channel (the gated convolution packs every frame).
      for (; k0 + 4 <= k; k0 += 4) {
        const int8_t* src = w + n0 * k + k0;
        for (size_t j = 0; j < valid; j++) memcpy(p + 4 * j, src + j * k, 4);
        memset(p + 4 * valid, 0, 4 * (nt - valid));
        p += 4 * nt;
      }
    }
    for (; k0 < kpad; k0 += pk->kr) {
      for (size_t j = 0; j < nt; j++) {
        for (size_t kk = 0; kk < pk->kr; kk++) {
          const size_t kidx = k0 + kk;
          const int8_t v = (j < valid && kidx < k) ? w[(n0 + j) * k + kidx] : 0;
          if (pk->welem == 1) {
            *p++ = (uint8_t)v;
          } else {
            const int16_t v16 = v;
            memcpy(p, &v16, 2);
            p += 2;
          }
        }
      }
    }
    for (size_t j = 0; j < nt; j++) {
      const float s = j < valid ? scale[n0 + j] : 0.0f;
      memcpy(p, &s, sizeof s);
      p += sizeof s;
    }
    n0 += nt;
  }
}

void eb_x8_xor80(const int8_t* x, uint8_t* y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = (uint8_t)x[i] ^ 0x80u;
}
