// CEdgeboneKernels: the only header Swift sees. Every symbol starts with eb_.
// Kernels never allocate, never touch globals after dispatch, never do I/O.
#pragma once
#include "eb_qs8.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// CPU probe (cpu.c)
// ---------------------------------------------------------------------------------------------
enum {
  EB_CPU_X86_AVX2 = 1u << 0,       // AVX2 + FMA
  EB_CPU_X86_AVX512F = 1u << 1,    // AVX-512 F/BW/DQ/VL
  EB_CPU_X86_AVX512VNNI = 1u << 2, // AVX-512 VNNI
  EB_CPU_X86_AVX512VBMI = 1u << 3, // AVX-512 VBMI (byte permutes)
  EB_CPU_ARM_NEON = 1u << 8,
  EB_CPU_ARM_NEONDOT = 1u << 9,
  EB_CPU_ARM_I8MM = 1u << 10,
};
/// Feature bits of the running CPU (EB_CPU_*), probed with cpuid/xgetbv or getauxval.
uint32_t eb_cpu_features(void);

// ---------------------------------------------------------------------------------------------
// Float32 helpers (the float path: parity with timm, calibration, baseline in bench).
// Layout NHWC, batch 1. Activations: 0 none, 1 ReLU, 2 ReLU6, 3 SiLU, 4 sigmoid.
// ---------------------------------------------------------------------------------------------
enum { EB_ACT_NONE = 0, EB_ACT_RELU = 1, EB_ACT_RELU6 = 2, EB_ACT_SILU = 3, EB_ACT_SIGMOID = 4 };

/// Depthwise convolution, NHWC. x: [h][w][c]; w: [k][k][c]; bias: [c]; y: [oh][ow][c].
/// pad_top/pad_left: zero rows/cols before the input; bottom/right padding follows from oh/ow.
typedef void (*eb_f32_dwconv_fn)(const float* x, size_t h, size_t w, size_t c,
                                 const float* weights, const float* bias, size_t k, size_t stride,
                                 size_t pad_top, size_t pad_left, float* y, size_t oh, size_t ow,
                                 int act);
void eb_f32_dwconv_ukernel__scalar(const float*, size_t, size_t, size_t, const float*, const float*,
                                   size_t, size_t, size_t, size_t, float*, size_t, size_t, int);
void eb_f32_dwconv_ukernel__avx2(const float*, size_t, size_t, size_t, const float*, const float*,
                                 size_t, size_t, size_t, size_t, float*, size_t, size_t, int);
void eb_f32_dwconv_ukernel__avx512f(const float*, size_t, size_t, size_t, const float*,
                                    const float*, size_t, size_t, size_t, size_t, float*, size_t,
                                    size_t, int);
void eb_f32_dwconv_ukernel__neon(const float*, size_t, size_t, size_t, const float*, const float*,
                                 size_t, size_t, size_t, size_t, float*, size_t, size_t, int);

/// Direct dense convolution for few input channels (the stem), NHWC. weights: [k][k][cin][cout]
/// (HWIO), bias: [cout]; vectorized over output channels.
typedef void (*eb_f32_conv_hwio_fn)(const float* x, size_t h, size_t w, size_t cin,
                                    const float* weights, const float* bias, size_t cout, size_t k,
                                    size_t stride, size_t pad_top, size_t pad_left, float* y,
                                    size_t oh, size_t ow, int act);
void eb_f32_conv_hwio_ukernel__scalar(const float*, size_t, size_t, size_t, const float*,
                                      const float*, size_t, size_t, size_t, size_t, size_t, float*,
                                      size_t, size_t, int);
void eb_f32_conv_hwio_ukernel__avx2(const float*, size_t, size_t, size_t, const float*,
                                    const float*, size_t, size_t, size_t, size_t, size_t, float*,
                                    size_t, size_t, int);
void eb_f32_conv_hwio_ukernel__avx512f(const float*, size_t, size_t, size_t, const float*,
                                       const float*, size_t, size_t, size_t, size_t, size_t,
                                       float*, size_t, size_t, int);
void eb_f32_conv_hwio_ukernel__neon(const float*, size_t, size_t, size_t, const float*,
                                    const float*, size_t, size_t, size_t, size_t, size_t, float*,
                                    size_t, size_t, int);

/// In place: y[r][j] = act(y[r][j] + bias[j]) for r < rows, j < channels (bias may be NULL).
typedef void (*eb_f32_bias_act_fn)(float* y, size_t rows, size_t channels, const float* bias,
                                   int act);
void eb_f32_bias_act_ukernel__scalar(float*, size_t, size_t, const float*, int);
void eb_f32_bias_act_ukernel__avx2(float*, size_t, size_t, const float*, int);
void eb_f32_bias_act_ukernel__avx512f(float*, size_t, size_t, const float*, int);
void eb_f32_bias_act_ukernel__neon(float*, size_t, size_t, const float*, int);

/// Squeeze-and-excite on x: [rows][c], in place. w_reduce: [rd][c], b_reduce: [rd], w_expand: [c][rd],
/// b_expand: [c]; act applies after the reduce, the gate is a sigmoid. scratch: 2*c + rd floats.
/// One build per ISA.
typedef void (*eb_f32_squeeze_excite_fn)(float* x, size_t rows, size_t c, const float* w_reduce,
                                         const float* b_reduce, size_t rd, const float* w_expand,
                                         const float* b_expand, int act, float* scratch);
void eb_f32_squeeze_excite_ukernel__scalar(float*, size_t, size_t, const float*, const float*,
                                           size_t, const float*, const float*, int, float*);
void eb_f32_squeeze_excite_ukernel__avx2(float*, size_t, size_t, const float*, const float*,
                                         size_t, const float*, const float*, int, float*);
void eb_f32_squeeze_excite_ukernel__avx512f(float*, size_t, size_t, const float*, const float*,
                                            size_t, const float*, const float*, int, float*);
void eb_f32_squeeze_excite_ukernel__neon(float*, size_t, size_t, const float*, const float*,
                                         size_t, const float*, const float*, int, float*);

/// y[i] = a[i] + b[i]. y may alias a or b.
void eb_f32_vadd(const float* a, const float* b, float* y, size_t n);
/// y[r][j] = x[r][j] * gate[j] over rows x c (squeeze-and-excite scaling); y may be x.
void eb_f32_mul_channels(const float* x, const float* gate, float* y, size_t rows, size_t c);

/// pixel (uint8, HWC, 3 channels) -> float: y = p * scale[c] + offset[c]; n pixels.
void eb_u8_f32_normalize_rgb(const uint8_t* p, float* y, size_t n, const float* scale, const float* offset);

// Transformer ops (SwinV2), float: f32-transformer/.
/// Float -> int8 at a float/int8 boundary: y[i] = clamp(rint(x[i] / scale) + zero_point, -128, 127).
typedef void (*eb_f32_qs8_quantize_fn)(const float* x, int8_t* y, size_t n, float scale, int32_t zero_point);
/// Int8 -> float at an int8/float boundary: y[i] = (x[i] - zero_point) * scale.
typedef void (*eb_qs8_f32_dequantize_fn)(const int8_t* x, float* y, size_t n, float scale, int32_t zero_point);
/// y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta over rows of c (statistics in float, 16 lanes).
typedef void (*eb_f32_layernorm_fn)(const float* x, float* y, size_t rows, size_t c, const float* gamma, const float* beta,
                                    float eps);
/// LayerNorm from int8 to int8 over rows of c ≤ 33025: statistics exact in integers, then
/// rint(((x − in_zero − mean) · in_scale / sqrt(var + eps)) · g[j] + b[j]) + out_zero, clamped, where g and b
/// are the gain and bias divided by the output scale. The same bytes in every build. y may be x.
typedef void (*eb_qs8_layernorm_fn)(const int8_t* x, int8_t* y, size_t rows, size_t c, int32_t in_zero, float in_scale,
                                    const float* g, const float* b, float eps, int32_t out_zero);
/// GELU, 0.5 x (1 + erf(x / sqrt 2)), erf to about 1e-7; y may be x.
typedef void (*eb_f32_gelu_fn)(const float* x, float* y, size_t n);
/// Bytes of scratch eb_f32_window_attention needs.
size_t eb_f32_window_attention_scratch(size_t tokens, size_t head_dim);
/// SwinV2 cosine attention per window and head. qkv: [windows][tokens][3 * heads * head_dim] (q, k, v);
/// out: [windows][tokens][heads * head_dim]; logit_scale: [heads] (already exp(clamp(..))); bias:
/// [heads][tokens][tokens]; mask: [windows][tokens][tokens] or NULL. With int8 input, qkv8 is it and qkv
/// holds qkv8 − zero_point as floats (tokens and head_dim ≤ 256); the softmax weights are then integers
/// (rint(255 · exp(l − max))) and every sum exact: the same bits in every build. The outputs are
/// multiplied by v_scale (the input scale; 1 for float input, qkv8 NULL). qkv may be NULL with int8 input
/// where the build's eb_f32_window_attention_int8_only says so.
typedef void (*eb_f32_window_attention_fn)(const float* qkv, const int8_t* qkv8, int32_t zero_point, float v_scale, float* out,
                                           size_t windows, size_t tokens, size_t heads, size_t head_dim, const float* logit_scale,
                                           const float* bias, const float* mask, float* scratch);
/// 1 where the build's attention, given int8 input, reads nothing but qkv8 (every sum from the int8 values).
typedef int (*eb_f32_window_attention_int8_only_fn)(size_t tokens, size_t head_dim);
#define EB_DECLARE_F32_TRANSFORMER(isa)                                                                       \
  void eb_f32_layernorm_ukernel__##isa(const float*, float*, size_t, size_t, const float*, const float*, float); \
  void eb_qs8_layernorm_ukernel__##isa(const int8_t*, int8_t*, size_t, size_t, int32_t, float, const float*, const float*, \
                                       float, int32_t);                                                       \
  void eb_f32_gelu_ukernel__##isa(const float*, float*, size_t);                                              \
  void eb_f32_qs8_quantize_ukernel__##isa(const float*, int8_t*, size_t, float, int32_t);                     \
  void eb_qs8_f32_dequantize_ukernel__##isa(const int8_t*, float*, size_t, float, int32_t);                   \
  void eb_f32_window_attention_ukernel__##isa(const float*, const int8_t*, int32_t, float, float*, size_t, size_t,   \
                                              size_t, size_t, const float*, const float*, const float*, float*); \
  int eb_f32_window_attention_int8_only__##isa(size_t, size_t);
EB_DECLARE_F32_TRANSFORMER(scalar)
EB_DECLARE_F32_TRANSFORMER(avx2)
EB_DECLARE_F32_TRANSFORMER(avx512f)
EB_DECLARE_F32_TRANSFORMER(neon)
EB_DECLARE_F32_TRANSFORMER(neondot)
/// [h][w][row] ↔ [windows][window²][row] with a cyclic shift of `shift` (both axes); rows of any byte size.
/// reverse = 0: partition (x is the map); 1: reverse (x holds the windows).
void eb_x8_window_partition(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes, size_t window, size_t shift,
                            int reverse);
/// SwinV2 patch merging gather: [h][w][row] → [h/2][w/2][4 rows], timm's order; h and w even.
void eb_x8_patch_merge(const uint8_t* x, uint8_t* y, size_t h, size_t w, size_t row_bytes);

/// Mean over rows: y[j] = (1/rows) * sum_r x[r][j].
void eb_f32_global_avgpool(const float* x, size_t rows, size_t channels, float* y);

/// im2col for a dense k x k convolution, NHWC: out: [oh*ow][k*k*c], column order (ky, kx, c),
/// zeros where the window falls into padding.
void eb_f32_im2col(const float* x, size_t h, size_t w, size_t c, size_t k, size_t stride,
                   size_t pad_top, size_t pad_left, float* out, size_t oh, size_t ow);

// ---------------------------------------------------------------------------------------------
/// Planar YUV (BT.601 limited range) to packed RGB: chroma planes chroma_w wide, subsampled by
/// 2^shift_x and 2^shift_y (4:2:0: 1, 1; 4:2:2: 1, 0; 4:4:4: 0, 0); u == NULL for monochrome.
void eb_yuv_planar_to_rgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t w, size_t h,
                          size_t chroma_w, int shift_x, int shift_y, uint8_t* rgb);
/// The same with the range chosen: full_range != 0 for full-range (JPEG) YUV, 0 for limited.
void eb_yuv_planar_to_rgb_range(const uint8_t* y, const uint8_t* u, const uint8_t* v, size_t w, size_t h,
                                size_t chroma_w, int shift_x, int shift_y, int full_range, uint8_t* rgb);
/// Packed YUYV (4:2:2, rows `stride` bytes apart, even width) to packed RGB, same coefficients.
void eb_yuyv_to_rgb(const uint8_t* yuyv, size_t stride, size_t w, size_t h, uint8_t* rgb);

// Image resampling (uint8 RGB, HWC). Separable convolution with fixed-point coefficients,
// antialiased on downscale, bit-compatible with Pillow's Image.resize for 8-bit images.
// ---------------------------------------------------------------------------------------------
enum { EB_FILTER_BILINEAR = 0, EB_FILTER_BICUBIC = 1 };

/// Coefficients for resampling `in_size` pixels to `out_size`, window [box0, box1) of the input.
/// bounds: [out_size][2] (first input index, count); coeffs: [out_size][ksize] fixed point.
/// Returns ksize, or 0 if `capacity` (entries of coeffs) is too small.
size_t eb_resample_coeffs(size_t in_size, double box0, double box1, size_t out_size, int filter,
                          int32_t* bounds, int32_t* coeffs, size_t capacity);
/// Upper bound on ksize for eb_resample_coeffs (to size the coefficient buffer).
size_t eb_resample_ksize_max(size_t in_size, double box0, double box1, size_t out_size, int filter);
/// Horizontal pass: in: [rows][in_w][3] -> out: [rows][out_w][3]. isa (EB_ISA_*): AVX2 and up on
/// x86-64, NEON on AArch64 take the SIMD passes, equal byte for byte to the scalar ones.
void eb_u8_resample_horizontal(const uint8_t* in, size_t rows, size_t in_w, uint8_t* out,
                               size_t out_w, const int32_t* bounds, const int32_t* coeffs,
                               size_t ksize, int isa);
/// Vertical pass: in: [in_h][w][3] -> out: [out_h][w][3].
void eb_u8_resample_vertical(const uint8_t* in, size_t w, uint8_t* out, size_t out_h,
                             const int32_t* bounds, const int32_t* coeffs, size_t ksize, int isa);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// Sets flush-to-zero / denormals-are-zero for float math on the calling thread and returns the
/// previous control state (pass it to eb_fp_restore). Denormal activations (deep SiLU tails, tiny SE
/// gates) otherwise cost ~100 cycles per operation without changing any result that matters.
uint64_t eb_fp_flush_denormals(void);
void eb_fp_restore(uint64_t state);
#ifdef __cplusplus
}
#endif
