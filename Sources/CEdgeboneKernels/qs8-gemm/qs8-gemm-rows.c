// The GEMM driver every caller uses: rows [m0, m1) of C through one kernel table's micro-kernel (or
// its all-rows form, which sets its epilogue up once per call instead of once per tile of rows).
// When the packed weights outgrow a core's L2 (over 256 KB) and several row blocks pass over them,
// the columns are split into slices of whole tiles of about 16 KB, taken one at a time for every row
// block: each slice then comes from memory once per call instead of once per row block (SwinV2-T's
// last stage, 64 tokens x 2.4 MB of weights: 1.41x here; B0's weights fit in L2: unchanged).
#include <CEdgeboneKernels.h>

void eb_qs8_gemm_rows(const eb_kernel_config* cfg, size_t m0, size_t m1, size_t n, size_t k,
                      const int8_t* a, size_t a_stride, const void* packed, int8_t* c,
                      size_t c_stride, const eb_qs8_requant_params* params) {
  const size_t mr = cfg->gemm_mr;
  const eb_gemm_packing* pk = &cfg->gemm_packing;
  const size_t kpad = (k + pk->kr - 1) / pk->kr * pk->kr;
  size_t slice = n;
  if (m1 - m0 > mr && kpad * n * pk->welem > 262144) {
    size_t tiles = 16384 / (kpad * pk->nr * pk->welem);
    slice = (tiles > 0 ? tiles : 1) * pk->nr;
  }
  // Slices are whole tiles of nr channels, and every tile before a slice's start is a full one (only
  // the last tile may be narrower), so slice n0 starts n0 channels' bytes in: bias, weights, scale.
  const size_t channel_bytes = sizeof(int32_t) + kpad * pk->welem + sizeof(float);
  for (size_t n0 = 0; n0 < n; n0 += slice) {
    const size_t nc = n - n0 < slice ? n - n0 : slice;
    const void* w = (const uint8_t*)packed + n0 * channel_bytes;
    if (cfg->gemm_rows != NULL) {
      cfg->gemm_rows(m1 - m0, nc, k, a + m0 * a_stride, a_stride, w, c + m0 * c_stride + n0, c_stride, params);
      continue;
    }
    for (size_t r = m0; r < m1; r += mr) {
      cfg->gemm(m1 - r < mr ? m1 - r : mr, nc, k, a + r * a_stride, a_stride, w, c + r * c_stride + n0, c_stride, params);
    }
  }
}
