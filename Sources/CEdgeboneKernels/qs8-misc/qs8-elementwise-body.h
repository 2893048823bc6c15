// Body of the elementwise int8 kernels, compiled once per ISA by the including file (which defines
// EB_NAME). Loops are branch-free so the compiler vectorizes them for the target; the float
// arithmetic is not contracted (the file sets fp contract off), so every build rounds identically.
#include <stdint.h>

static inline __attribute__((always_inline)) int32_t EB_NAME(eb_rq)(float v, float lo, float hi,
                                                                   int32_t zp) {
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return (int32_t)__builtin_rintf(v) + zp;
}

// With a table, outputs (within -128…127 here) index it from qmin.
static void EB_NAME(eb_apply_lut)(int8_t* y, size_t n, const eb_qs8_requant_params* p) {
  if (p->lut != NULL)
    for (size_t i = 0; i < n; i++) y[i] = p->lut[(int32_t)y[i] - p->qmin];
}

void EB_NAME(eb_qs8_vadd_ukernel)(size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                                  const eb_qs8_add_params* p) {
  const float lo = (float)(p->out.qmin - p->out.zero_point), hi = (float)(p->out.qmax - p->out.zero_point);
  const int32_t za = p->a_zero, zb = p->b_zero, zp = p->out.zero_point;
  const float sa = p->a_scale, sb = p->b_scale;
  for (size_t i = 0; i < n; i++) {
    const float ta = (float)((int32_t)a[i] - za) * sa;
    const float tb = (float)((int32_t)b[i] - zb) * sb;
    y[i] = (int8_t)EB_NAME(eb_rq)(ta + tb, lo, hi, zp);
  }
  EB_NAME(eb_apply_lut)(y, n, &p->out);
}

#ifdef EB_OWN_VMULC  // the including file has its own channel scaling; this loop stays its fallback
static void EB_NAME(eb_qs8_vmulc_body)(size_t rows, size_t c, const int8_t* x, const int8_t* g,
                                        int8_t* y, const eb_qs8_mulc_params* p) {
#else
void EB_NAME(eb_qs8_vmulc_ukernel)(size_t rows, size_t c, const int8_t* x, const int8_t* g,
                                   int8_t* y, const eb_qs8_mulc_params* p) {
#endif
  const float lo = (float)(p->out.qmin - p->out.zero_point), hi = (float)(p->out.qmax - p->out.zero_point);
  const int32_t zx = p->x_zero, zg = p->g_zero, zp = p->out.zero_point;
  const float s = p->scale;
  for (size_t r = 0; r < rows; r++) {
    const int8_t* xr = x + r * c;
    int8_t* yr = y + r * c;
    for (size_t j = 0; j < c; j++) {
      const int32_t prod = ((int32_t)xr[j] - zx) * ((int32_t)g[j] - zg);
      yr[j] = (int8_t)EB_NAME(eb_rq)((float)prod * s, lo, hi, zp);
    }
    EB_NAME(eb_apply_lut)(yr, c, &p->out);
    if (p->flip)
      for (size_t j = 0; j < c; j++) yr[j] = (int8_t)((uint8_t)yr[j] ^ 0x80u);
  }
}

// The pool's output from its per-channel sums (x_zero already taken off).
static inline __attribute__((always_inline)) void EB_NAME(eb_gavgpool_requant)(size_t c, const int32_t* acc, int8_t* y,
                                                                              const eb_qs8_gavgpool_params* p) {
  const float lo = (float)(p->out.qmin - p->out.zero_point), hi = (float)(p->out.qmax - p->out.zero_point);
  for (size_t j = 0; j < c; j++) y[j] = (int8_t)EB_NAME(eb_rq)((float)acc[j] * p->scale, lo, hi, p->out.zero_point);
  EB_NAME(eb_apply_lut)(y, c, &p->out);
}

// For pools that sum 64 channels in registers: at most this many int8 go into an int16 sum before
// it is widened (256 * -128 = -32768).
#define EB_POOL_RUN 256

// The int32 sums of one 64-lane tile (channels c0..c0+m-1; when `flat`, c divides 64 and lane l
// holds channel l % c) into acc, with the bias.
static inline __attribute__((always_inline)) void EB_NAME(eb_gavgpool_lanes)(const int32_t* lanes, size_t m, size_t c,
                                                                           size_t c0, int flat, int32_t bias, int32_t* acc) {
  for (size_t j = 0; j < m; j++) {
    int32_t sum = bias + lanes[j];
    if (flat) {
      for (size_t l = j + c; l < 64; l += c) sum += lanes[l];  // the other lanes of channel j
    }
    acc[c0 + j] = sum;
  }
}

#ifndef EB_OWN_GAVGPOOL  // the including file sums in registers itself
void EB_NAME(eb_qs8_gavgpool_ukernel)(size_t rows, size_t c, const int8_t* x, int8_t* y,
                                      int32_t* acc, const eb_qs8_gavgpool_params* p) {
  const int32_t bias = -(int32_t)rows * p->x_zero;
  for (size_t j = 0; j < c; j++) acc[j] = bias;
  for (size_t r = 0; r < rows; r++) {
    const int8_t* xr = x + r * c;
    for (size_t j = 0; j < c; j++) acc[j] += xr[j];
  }
  if (y != NULL) EB_NAME(eb_gavgpool_requant)(c, acc, y, p);
}
#endif

void EB_NAME(eb_x8_lut_ukernel)(size_t n, const int8_t* x, int8_t* y, const int8_t* lut) {
  for (size_t i = 0; i < n; i++) y[i] = lut[(uint8_t)x[i]];
}

void EB_NAME(eb_qs8_qc8w_gemv_f32)(size_t k, size_t n, const int8_t* x, int32_t x_zero,
                                   const int8_t* w, const int32_t* wsum, const int32_t* bias,
                                   const float* scale, float* y) {
  (void)wsum;
  const size_t kp = eb_qs8_gemv_padded_k(k);
  // (x - x_zero) fits int16 and its products with int8 weights fit int16 pairs' int32 sums, so the
  // reduction vectorizes as int16 multiply-adds (vpmaddwd / smlal) instead of int32 multiplies. The
  // padding's weights are zero: any x there adds nothing.
  int16_t xs[4096];
  const int staged = kp <= 4096;
  if (staged) {
    for (size_t i = 0; i < k; i++) xs[i] = (int16_t)((int32_t)x[i] - x_zero);
    for (size_t i = k; i < kp; i++) xs[i] = 0;
  }
  for (size_t j0 = 0; j0 < n; j0 += EB_GEMV_ROWS) {
    const int8_t* g = w + j0 * kp;
    int32_t acc[EB_GEMV_ROWS] = {0};
    for (size_t i0 = 0; i0 < kp; i0 += EB_GEMV_KBLOCK) {
      const size_t len = staged || k - i0 >= EB_GEMV_KBLOCK ? EB_GEMV_KBLOCK : k - i0;
      for (size_t r = 0; r < EB_GEMV_ROWS; r++) {
        const int8_t* wb = g + i0 * EB_GEMV_ROWS + r * EB_GEMV_KBLOCK;
        int32_t s = 0;
        if (staged) {
          for (size_t i = 0; i < EB_GEMV_KBLOCK; i++) s += (int32_t)xs[i0 + i] * (int32_t)(int16_t)wb[i];
        } else {
          for (size_t i = 0; i < len; i++) s += ((int32_t)x[i0 + i] - x_zero) * (int32_t)wb[i];
        }
        acc[r] += s;
      }
    }
    for (size_t r = 0; r < EB_GEMV_ROWS && j0 + r < n; r++) y[j0 + r] = (float)(acc[r] + bias[j0 + r]) * scale[j0 + r];
  }
}
