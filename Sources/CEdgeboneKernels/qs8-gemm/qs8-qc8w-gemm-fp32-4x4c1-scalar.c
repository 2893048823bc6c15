// Reference int8 GEMM: 4 rows x 4 channels, one k at a time, plain C. Every SIMD GEMM must match it.
#include <CEdgeboneKernels.h>
#include <string.h>

void eb_qs8_qc8w_gemm_fp32_ukernel_4x4c1__scalar(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                                size_t a_stride, const void* w, int8_t* c,
                                                size_t c_stride,
                                                const eb_qs8_requant_params* params) {
  const uint8_t* p = (const uint8_t*)w;
  while (nc > 0) {
    const size_t nt = nc < 4 ? nc : 4;
    int32_t bias[4];
    float scale[4];
    memcpy(bias, p, sizeof bias);
    const int8_t* wt = (const int8_t*)(p + sizeof bias);
    memcpy(scale, p + sizeof bias + kc * 4, sizeof scale);
    for (size_t r = 0; r < mr; r++) {
      const int8_t* ar = a + r * a_stride;
      int32_t acc[4] = {bias[0], bias[1], bias[2], bias[3]};
      for (size_t k = 0; k < kc; k++) {
        const int32_t av = ar[k];
        for (size_t j = 0; j < 4; j++) acc[j] += av * (int32_t)wt[k * 4 + j];
      }
      int8_t* cr = c + r * c_stride;
      for (size_t j = 0; j < nt; j++) cr[j] = eb_qs8_requantize(acc[j], scale[j], params);
    }
    p += sizeof bias + kc * 4 + sizeof scale;
    c += nt;
    nc -= nt;
  }
}
