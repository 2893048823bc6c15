// A 1×1 convolution of x · gate (a per-input-channel gate, as squeeze-and-excite applies) computed as one
// of x with the gate folded into its weights, once per frame: the product x · gate is never rounded to
// int8, and no pass over the gated tensor is made. The weights are requantized per output row so that
// each row keeps its full int8 range whatever the gate does to it. Plain C, built once for every ISA:
// every kernel then multiplies the same weights.
#include <CEdgeboneKernels.h>
#include <math.h>
#include <string.h>

// On x86 the loops are built for AVX-512 and AVX2 beside the baseline and the loader picks one: the
// same operations in the same order at any width (the maximum is on integers), so the same bytes.
#if defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void eb_qs8_gate_fold(size_t n, size_t k, const int8_t* w, const int32_t* bias, const float* scale,
                      const int8_t* gate, int32_t gate_zero, float gate_scale, float* gates,
                      int8_t* w_out, int32_t* bias_out, float* scale_out) {
  for (size_t j = 0; j < k; j++) gates[j] = (float)((int32_t)gate[j] - gate_zero) * gate_scale;
  for (size_t r = 0; r < n; r++) {
    const int8_t* wr = w + r * k;
    // The largest |w · g| of the row, as the bits of the (non-negative, finite) products: their integer
    // order is their order as floats, and an integer maximum vectorizes where fmaxf's does not.
    int32_t most_bits = 0;
    for (size_t j = 0; j < k; j++) {
      const float t = fabsf((float)wr[j] * gates[j]);
      int32_t bits;
      memcpy(&bits, &t, sizeof bits);
      most_bits = bits > most_bits ? bits : most_bits;
    }
    float most;
    memcpy(&most, &most_bits, sizeof most);
    // The row's new weight scale is 1/beta of the old one; beta is also bounded so that the bias,
    // rescaled by it, stays within 2^30 (a row whose gates are all near zero, with a large bias).
    double beta = most > 0 ? 127.0 / (double)most : 1.0;
    const double b = fabs((double)bias[r]);
    if (b * beta > 1073741824.0) beta = 1073741824.0 / b;
    const float fbeta = (float)beta;
    int8_t* out = w_out + r * k;
    // Clamped, then rounded to nearest even by adding and subtracting 1.5 · 2^23 (within ±127 the sum
    // has a unit ulp, so the addition rounds; plain float operations, which vectorize where lrintf
    // does not); clamp and rounding commute for integer bounds.
    for (size_t j = 0; j < k; j++) {
      float v = (float)wr[j] * gates[j] * fbeta;
      v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
      v = (v + 12582912.0f) - 12582912.0f;
      out[j] = (int8_t)(int32_t)v;
    }
    bias_out[r] = (int32_t)llrint((double)bias[r] * (double)fbeta);
    scale_out[r] = scale[r] / fbeta;
  }
}
