// Packs the classifier's int8 weights for the GEMV kernels (layout: eb_qs8.h, eb_qs8_qc8w_gemv_f32):
// groups of EB_GEMV_ROWS rows, K in blocks of EB_GEMV_KBLOCK bytes, the group's rows' blocks side by
// side; zero weights pad K and the last group. Plain C, once at load.
#include <CEdgeboneKernels.h>
#include <string.h>

size_t eb_qs8_gemv_padded_k(size_t k) { return (k + EB_GEMV_KBLOCK - 1) / EB_GEMV_KBLOCK * EB_GEMV_KBLOCK; }

size_t eb_qs8_gemv_packed_size(size_t n, size_t k) {
  return (n + EB_GEMV_ROWS - 1) / EB_GEMV_ROWS * EB_GEMV_ROWS * eb_qs8_gemv_padded_k(k);
}

void eb_qs8_gemv_pack(size_t n, size_t k, const int8_t* w, int8_t* packed, int32_t* wsum) {
  const size_t kp = eb_qs8_gemv_padded_k(k);
  memset(packed, 0, eb_qs8_gemv_packed_size(n, k));
  for (size_t j = 0; j < n; j++) {
    const int8_t* row = w + j * k;
    int8_t* group = packed + (j / EB_GEMV_ROWS) * EB_GEMV_ROWS * kp;
    const size_t r = j % EB_GEMV_ROWS;
    int32_t sum = 0;
    for (size_t i0 = 0; i0 < k; i0 += EB_GEMV_KBLOCK) {
      const size_t len = k - i0 < EB_GEMV_KBLOCK ? k - i0 : EB_GEMV_KBLOCK;
      memcpy(group + i0 * EB_GEMV_ROWS + r * EB_GEMV_KBLOCK, row + i0, len);
    }
    for (size_t i = 0; i < k; i++) sum += row[i];
    wsum[j] = sum;
  }
}
