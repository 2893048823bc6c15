// Int8 kernels: signed 8-bit activations with a per-tensor zero point (qs8), signed 8-bit weights
// symmetric per output channel (qc8w, range -127..127), int32 accumulation, fp32 requantization.
//
// Requantization, the one definition every kernel, the reference and the quantizer share:
//   v   = (float)acc * scale                     (scale = s_in * s_w[c] / s_out, fp32)
//   v   = min(max(v, qmin - zp), qmax - zp)      (clamp; both bounds are integers)
//   q   = (int32)round_half_to_even(v) + zp      (out = q, or with a table out = lut[q - qmin])
// or, where the params say `shift` (every channel's scale a power of two, 2^-e), in integers:
//   q   = min(max(acc >> e, qmin - zp), qmax - zp) + zp   (arithmetic shift: floor(acc / 2^e))
// with the per-channel slots holding the int32 counts e (0..30) instead of fp32 scales. Whoever packs
// the bias adds the rounding there (2^(e-1): ties round up), so kernels shift and clamp: one integer
// instruction where the fp32 form takes a conversion, a multiply and a conversion back. With a table
// the bias may also hold the index base, (zp - qmin) * 2^e, with zero_point = qmin: the same results,
// and the shifted values are the table indices but for the clamp (kernels may then skip the add).
//
// Over-read contract: a kernel may read up to EB_EXTRA_BYTES past the last byte of any int8 input
// row it is given (K rounded up to its k-block); the arena planner pads every tensor for it. Packed
// weights are zero there, so the extra bytes never change a result.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EB_EXTRA_BYTES 64

/// Output quantization shared by every int8 kernel. Per-channel scales live in the packed weights.
/// Without a table the result is the int8 q, and -128 <= qmin <= qmax <= 127 (a fused ReLU/ReLU6
/// narrows the clamp). With a table (a fused SiLU, sigmoid…) q is only an index: the requantized
/// pre-activation may then use a finer grid, up to 4096 levels (a 12-bit LUT input), so the
/// activation does not suffer a second, coarse int8 rounding before it.
typedef struct {
  int32_t zero_point;   ///< output (or table-index) zero point
  int32_t qmin, qmax;   ///< clamp of q
  const int8_t* lut;    ///< optional table of qmax - qmin + 1 entries: out = lut[q - qmin]; NULL = none.
                        ///< SIMD kernels gather 4 bytes per entry: keep 3 readable bytes past the end.
  const int8_t* steps;  ///< optional: the same table as step planes (eb_lut_steps_encode), which
                        ///< kernels with byte permutes (AVX-512 VBMI) look up instead of gathering.
                        ///< NULL = none; never changes a result.
  int32_t shift;        ///< 1: the per-channel slots hold shift counts, not scales (see above); 0: fp32.
} eb_qs8_requant_params;

/// Tables of at most this many entries (a 9-bit grid) need no step planes: AVX-512 VBMI kernels look
/// them up directly with byte permutes (`steps` is ignored for them).
#define EB_LUT_DIRECT_MAX 512

/// Bytes of the step planes of a table: six planes of 256 bytes, then a 64-byte trailer whose first
/// byte is how many rise planes a lookup must read (the most rises of any block, 0..4).
#define EB_LUT_STEPS_BYTES 1600
#define EB_LUT_STEPS_RISES 1536

/// Re-expresses a table of at most 4096 entries (missing ones repeat the last) whose neighbours differ
/// by at most one — a quantized activation on a finer input grid — as six planes of 256 bytes, one
/// entry per block of 16: with index i = 16 b + l (l in 0..15),
///   lut[i] = base[b] + #{j < 4 : l >= up_j[b]} - (l >= down[b] ? 1 : 0)
/// (planes base, up_0..up_3, down; a threshold of 16 never counts). A block may rise at most four
/// times and fall at most once; steps[EB_LUT_STEPS_RISES] says how many up planes hold a threshold
/// below 16 (SiLU tables need three, so lookups skip the fourth). Returns 1 and fills `steps`, or 0
/// when the table does not fit.
int eb_lut_steps_encode(const int8_t* lut, size_t entries, int8_t* steps);

/// How many times faster the avx512vbmi GEMM's table epilogue runs from step planes than by gathers on
/// this core (a short measurement, about 2 ms); 0 without AVX-512 VBMI. Above 1, planes pay.
double eb_lut_steps_gain(void);

/// The requantization above for one value, as an int32 q (reference; SIMD kernels match it).
/// `scale` is the channel's slot: with p->shift its bits are the int32 count e.
static inline int32_t eb_qs8_requantize_q(int32_t acc, float scale, const eb_qs8_requant_params* p) {
  if (p->shift) {
    int32_t e;
    memcpy(&e, &scale, sizeof e);
    int32_t q = acc >> e;  // arithmetic on every compiler this builds with (C23 defines it so)
    q = q < p->qmin - p->zero_point ? p->qmin - p->zero_point : q;
    q = q > p->qmax - p->zero_point ? p->qmax - p->zero_point : q;
    return q + p->zero_point;
  }
  float v = (float)acc * scale;
  const float lo = (float)(p->qmin - p->zero_point), hi = (float)(p->qmax - p->zero_point);
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return (int32_t)__builtin_rintf(v) + p->zero_point;
}

/// The requantized output byte (table applied).
static inline int8_t eb_qs8_requantize(int32_t acc, float scale, const eb_qs8_requant_params* p) {
  const int32_t q = eb_qs8_requantize_q(acc, scale, p);
  return p->lut != NULL ? p->lut[q - p->qmin] : (int8_t)q;
}

// ---------------------------------------------------------------------------------------------
// GEMM: C[m][n] = requant(bias[n] + sum_k (A[m][k] - a_zero_point) * W[n][k]), for 1x1 convolutions
// (A = NHWC pixels x channels) and linear layers.
// ---------------------------------------------------------------------------------------------

/// Packed-weight layout of one GEMM micro-kernel family.
typedef struct {
  uint32_t nr;          ///< output channels per tile
  uint32_t nr_tail;     ///< width of the last tile when it has at most this many channels (else nr)
  uint32_t kr;          ///< k values per block, contiguous per channel
  uint32_t welem;       ///< bytes per packed weight: 1 (int8) or 2 (int16)
  uint32_t a_xor;       ///< 1 if the kernel reads A as uint8 (A ^ 0x80; VNNI's u8 x s8), 0 otherwise
} eb_gemm_packing;

/// Bytes of packed weights for n output channels and k inputs.
size_t eb_qs8_gemm_packed_size(const eb_gemm_packing* pk, size_t n, size_t k);

/// Packs W ([n][k] int8, row-major), bias ([n] int32, may be NULL) and scale ([n] fp32) into `out`.
/// Folds -a_zero_point * sum_k W[n][k] (and -128 * sum when a_xor) into the bias.
void eb_qs8_gemm_pack(const eb_gemm_packing* pk, size_t n, size_t k, const int8_t* w,
                      const int32_t* bias, const float* scale, int32_t a_zero_point, void* out);

/// A 1x1 convolution of x · gate as one of x, for one frame's gate (int8, gate_zero, gate_scale): with
/// g[j] = (gate[j] - gate_zero) · gate_scale (in `gates`, k floats of scratch) and per output row r
/// t[j] = w[r][j] · g[j] (float), beta = 127 / max_j |t[j]| (1 for a row of zeros; lowered where needed
/// so that |bias[r]| · beta <= 2^30), w_out[r][j] = rint(t[j] · beta) (within ±127),
/// bias_out[r] = rint(bias[r] · beta), scale_out[r] = scale[r] / beta. w: [n][k]; `scale` is the
/// requantization scale the plain convolution would use. The outputs go to eb_qs8_gemm_pack.
void eb_qs8_gate_fold(size_t n, size_t k, const int8_t* w, const int32_t* bias, const float* scale,
                      const int8_t* gate, int32_t gate_zero, float gate_scale, float* gates,
                      int8_t* w_out, int32_t* bias_out, float* scale_out);

/// A GEMM micro-kernel: computes `mr` (<= MR) rows of C for all `nc` output channels.
/// a: first row of A, a_stride bytes between rows; c: first row of C, c_stride bytes between rows.
typedef void (*eb_qs8_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                        size_t a_stride, const void* w, int8_t* c,
                                        size_t c_stride, const eb_qs8_requant_params* params);

#define EB_DECLARE_GEMM(name)                                                                   \
  void name(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w,   \
            int8_t* c, size_t c_stride, const eb_qs8_requant_params* params);
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_4x4c1__scalar)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_4x8c2__avx2)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4__avx512vnni)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4__avx512vbmi)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_rows_8x32c4__avx512vnni)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_rows_8x32c4__avx512vbmi)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_2x8c16__neon)
EB_DECLARE_GEMM(eb_qs8_qc8w_gemm_fp32_ukernel_4x8c4__neondot)

/// A ^ 0x80 for n bytes (int8 -> the uint8 view VNNI kernels read). y may alias x.
typedef void (*eb_x8_xor80_fn)(const int8_t* x, uint8_t* y, size_t n);
void eb_x8_xor80(const int8_t* x, uint8_t* y, size_t n);
void eb_x8_xor80__avx512skx(const int8_t* x, uint8_t* y, size_t n);

// ---------------------------------------------------------------------------------------------
// Depthwise convolution, NHWC, k x k (3 or 5), any stride and padding (TF "same" included):
// y[oy][ox][c] = requant(bias[c] + sum_taps (x[iy][ix][c] - x_zero_point) * W[ky][kx][c]).
// Taps in the padding read `zero_row` (c + 64 bytes of x_zero_point), so they add nothing.
// ---------------------------------------------------------------------------------------------

/// Packed-weight layout of one depthwise family: per tile of `ct` channels, int32 bias[ct],
/// weights [k*k][ct] of `welem` bytes, fp32 scale[ct]. welem 1: int8; 2: int16; 4: the int16 in the
/// low half of an int32 with a zero high half (what vpmaddwd needs to multiply exactly).
/// tapgroup 4 (VNNI, ct 64, welem 1): taps in groups of four, each channel's four weights in one
/// dword (zero for taps past k*k), the input read as uint8 (x ^ 0x80, -128 * sum folded into the
/// bias), and bias, weights and scales of a tile in the order the kernel's byte interleave
/// produces: accumulator j, dword d holds channel 16 * (d / 4) + 4 * j + d % 4. With exactly 32
/// channels the tile's upper half repeats channels 0..31 (two pixels per pass at stride 1).
/// columns 1 (with tapgroup 4): after all tiles, the weights once more per tile, grouped by kernel
/// column: for kx in 0..k-1, groups of rows 4g..4g+3 (zero past k), 64 bytes per accumulator as
/// above; stride-1 kernels then interleave each input column once for the outputs it reaches.
typedef struct {
  uint32_t ct, welem, tapgroup, columns;
} eb_dwconv_packing;

size_t eb_qs8_dwconv_packed_size(const eb_dwconv_packing* pk, size_t c, size_t taps);
/// w: [taps][c] int8; bias may be NULL. Folds -x_zero_point * sum_taps w into the bias.
void eb_qs8_dwconv_pack(const eb_dwconv_packing* pk, size_t c, size_t taps, const int8_t* w,
                        const int32_t* bias, const float* scale, int32_t x_zero_point, void* out);

/// Computes output rows [oy0, oy1).
typedef void (*eb_qs8_dwconv_ukernel_fn)(const int8_t* x, size_t h, size_t w, size_t c,
                                          const void* packed, size_t k, size_t stride,
                                          size_t pad_top, size_t pad_left, int8_t* y, size_t oh,
                                          size_t ow, size_t oy0, size_t oy1,
                                          const int8_t* zero_row,
                                          const eb_qs8_requant_params* params);
#define EB_DECLARE_DWCONV(name)                                                                 \
  void name(const int8_t* x, size_t h, size_t w, size_t c, const void* packed, size_t k,        \
            size_t stride, size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow,    \
            size_t oy0, size_t oy1, const int8_t* zero_row, const eb_qs8_requant_params* params);
EB_DECLARE_DWCONV(eb_qs8_qc8w_dwconv_fp32_ukernel_4c__scalar)
EB_DECLARE_DWCONV(eb_qs8_qc8w_dwconv_fp32_ukernel_8c__avx2)
EB_DECLARE_DWCONV(eb_qs8_qc8w_dwconv_fp32_ukernel_64c4__avx512vnni)
EB_DECLARE_DWCONV(eb_qs8_qc8w_dwconv_fp32_ukernel_64c4__avx512vbmi)
EB_DECLARE_DWCONV(eb_qs8_qc8w_dwconv_fp32_ukernel_16c__neon)

// ---------------------------------------------------------------------------------------------
// Elementwise int8 kernels (one C body, built per ISA and vectorized by the compiler).
// Float parts are computed without contraction (separate multiply and add) in every build.
// ---------------------------------------------------------------------------------------------

/// Residual add: y = requant((a - a_zero) * a_scale + (b - b_zero) * b_scale) with scale 1,
/// a_scale = s_a / s_y, b_scale = s_b / s_y.
typedef struct {
  int32_t a_zero, b_zero;
  float a_scale, b_scale;
  eb_qs8_requant_params out;
} eb_qs8_add_params;

/// Channel scaling (squeeze-and-excite gate): y[r][j] = requant((x[r][j] - x_zero) * (g[j] - g_zero), scale),
/// then y ^ 0x80 when `flip` (the unsigned copy a GEMM that takes uint8 activations reads: a scaling
/// folded into the GEMM's rows writes it in the same pass).
typedef struct {
  int32_t x_zero, g_zero;
  float scale;  ///< s_x * s_g / s_y
  eb_qs8_requant_params out;
  uint32_t flip;
} eb_qs8_mulc_params;

/// Global average pool: y[j] = requant(sum_r (x[r][j] - x_zero), scale), scale = s_x / (rows * s_y).
typedef struct {
  int32_t x_zero;
  float scale;
  eb_qs8_requant_params out;
} eb_qs8_gavgpool_params;

typedef void (*eb_qs8_vadd_fn)(size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                               const eb_qs8_add_params* p);
typedef void (*eb_qs8_vmulc_fn)(size_t rows, size_t c, const int8_t* x, const int8_t* g,
                                int8_t* y, const eb_qs8_mulc_params* p);
/// acc: c int32 of scratch. With y NULL, acc keeps the sums (sum_r x[r][j] - rows * x_zero) and
/// nothing is requantized: a pool split by rows sums each part so, then eb_qs8_gavgpool_finish.
typedef void (*eb_qs8_gavgpool_fn)(size_t rows, size_t c, const int8_t* x, int8_t* y,
                                   int32_t* acc, const eb_qs8_gavgpool_params* p);
/// The end of a pool split by rows: adds the `parts` sums of c channels at acc (part after part) into
/// the first, then requantizes them into y as the pool kernels do (one build for every ISA: a few
/// hundred channels).
void eb_qs8_gavgpool_finish(size_t c, size_t parts, int32_t* acc, int8_t* y, const eb_qs8_gavgpool_params* p);
/// y[i] = lut[(uint8_t)x[i]]; y may alias x.
typedef void (*eb_x8_lut_fn)(size_t n, const int8_t* x, int8_t* y, const int8_t* lut);

#define EB_DECLARE_ELEMENTWISE(isa)                                                             \
  void eb_qs8_vadd_ukernel__##isa(size_t, const int8_t*, const int8_t*, int8_t*,                \
                                  const eb_qs8_add_params*);                                    \
  void eb_qs8_vmulc_ukernel__##isa(size_t, size_t, const int8_t*, const int8_t*, int8_t*,       \
                                   const eb_qs8_mulc_params*);                                  \
  void eb_qs8_gavgpool_ukernel__##isa(size_t, size_t, const int8_t*, int8_t*, int32_t*,         \
                                      const eb_qs8_gavgpool_params*);                           \
  void eb_x8_lut_ukernel__##isa(size_t, const int8_t*, int8_t*, const int8_t*);
EB_DECLARE_ELEMENTWISE(scalar)
EB_DECLARE_ELEMENTWISE(avx2)
EB_DECLARE_ELEMENTWISE(avx512skx)
EB_DECLARE_ELEMENTWISE(neon)

// ---------------------------------------------------------------------------------------------
// Dense k x k convolution for few input channels (the stem: 3x3, stride 2, 3 channels), without a
// full im2col: patches of up to 8 MR output pixels are gathered into `patches` (eb_qs8_conv_hwc_scratch_size
// bytes) and multiplied by the GEMM micro-kernel of the same table (eb_qs8_gemm_rows).
// Weights are packed for the GEMM with K = k*k*cin in (ky, kx, cin) order.
// ---------------------------------------------------------------------------------------------
struct eb_kernel_config;
/// Computes output rows [oy0, oy1) of y ([oh][ow][cout]).
/// Taps in the padding read pad_values[cin] (for the stem: the pixel value whose normalized value is
/// zero, so padding matches the float model's zero padding).
void eb_qs8_conv_hwc(const struct eb_kernel_config* cfg, const int8_t* x, size_t h, size_t w,
                     size_t cin, size_t cout, const void* packed, size_t k, size_t stride,
                     size_t pad_top, size_t pad_left, int8_t* y, size_t oh, size_t ow, size_t oy0,
                     size_t oy1, const int8_t* pad_values, int8_t* patches,
                     const eb_qs8_requant_params* params);

/// Final linear layer with float output (logits stay float32):
/// y[j] = (float)(bias[j] + sum_k (x[k] - x_zero) * w[j][k]) * scale[j], w packed by eb_qs8_gemv_pack:
/// rows in groups of EB_GEMV_ROWS, each group's K in blocks of EB_GEMV_KBLOCK bytes with the group's
/// rows' blocks side by side, so one group streams from memory as one run of cache lines (a row of
/// B0's classifier is 20 lines: row after row, four rows at once, the hardware prefetcher never caught
/// up when the weights came from DRAM). K is padded with zero weights, n with zero rows. wsum[j] =
/// sum_k w[j][k] (kernels that read x + 128 use it; others ignore it). A call for rows [j0, …) passes
/// w + j0 * eb_qs8_gemv_padded_k(k), wsum + j0, bias + j0, scale + j0, y + j0, j0 a multiple of
/// EB_GEMV_ROWS; it writes y[0 ..< n] only.
#define EB_GEMV_ROWS 4
#define EB_GEMV_KBLOCK 64
typedef void (*eb_qs8_gemv_f32_fn)(size_t k, size_t n, const int8_t* x, int32_t x_zero,
                                   const int8_t* w, const int32_t* wsum, const int32_t* bias,
                                   const float* scale, float* y);
/// K rounded up to EB_GEMV_KBLOCK.
size_t eb_qs8_gemv_padded_k(size_t k);
/// Bytes of packed weights for n rows of k (n rounded up to EB_GEMV_ROWS).
size_t eb_qs8_gemv_packed_size(size_t n, size_t k);
/// Packs w [n][k] into packed (eb_qs8_gemv_packed_size bytes) and writes wsum[0 ..< n].
void eb_qs8_gemv_pack(size_t n, size_t k, const int8_t* w, int8_t* packed, int32_t* wsum);
void eb_qs8_qc8w_gemv_f32__scalar(size_t, size_t, const int8_t*, int32_t, const int8_t*,
                                  const int32_t*, const int32_t*, const float*, float*);
void eb_qs8_qc8w_gemv_f32__avx2(size_t, size_t, const int8_t*, int32_t, const int8_t*,
                                const int32_t*, const int32_t*, const float*, float*);
void eb_qs8_qc8w_gemv_f32__avx512skx(size_t, size_t, const int8_t*, int32_t, const int8_t*,
                                     const int32_t*, const int32_t*, const float*, float*);
void eb_qs8_qc8w_gemv_f32__avx512vnni(size_t, size_t, const int8_t*, int32_t, const int8_t*,
                                      const int32_t*, const int32_t*, const float*, float*);
void eb_qs8_qc8w_gemv_f32__neon(size_t, size_t, const int8_t*, int32_t, const int8_t*,
                                const int32_t*, const int32_t*, const float*, float*);
/// Bytes of patch scratch eb_qs8_conv_hwc needs.
size_t eb_qs8_conv_hwc_scratch_size(const struct eb_kernel_config* cfg, size_t k, size_t cin);

// ---------------------------------------------------------------------------------------------
// Kernel configuration: the table chosen once at load from the CPU probe (hardware-config style).
// ---------------------------------------------------------------------------------------------
enum { EB_ISA_SCALAR = 0, EB_ISA_AVX2 = 1, EB_ISA_AVX512VNNI = 2, EB_ISA_NEON = 3, EB_ISA_NEONDOT = 4, EB_ISA_AVX512VBMI = 5 };

typedef struct eb_kernel_config {
  int isa;                        ///< EB_ISA_*
  const char* name;               ///< "scalar", "avx2", …
  eb_qs8_gemm_ukernel_fn gemm;
  const char* gemm_name;
  uint32_t gemm_mr;
  eb_gemm_packing gemm_packing;
  eb_qs8_dwconv_ukernel_fn dwconv;
  const char* dwconv_name;
  eb_dwconv_packing dwconv_packing;
  eb_qs8_vadd_fn vadd;
  eb_qs8_vmulc_fn vmulc;
  eb_qs8_gavgpool_fn gavgpool;
  eb_x8_lut_fn lut;
  eb_qs8_gemv_f32_fn gemv_f32;
  eb_x8_xor80_fn xor80;           ///< the unsigned copy of a GEMM's A (levels whose packing has a_xor)
  eb_qs8_gemm_ukernel_fn gemm_rows;  ///< `gemm` over any number of rows, set up once; or NULL
} eb_kernel_config;

/// Best ISA level the features (eb_cpu_features()) allow.
int eb_best_isa(uint32_t features);
/// 1 if this CPU (features) can run `isa`.
int eb_isa_supported(int isa, uint32_t features);
/// The kernel table for `isa`, or NULL when this build has no kernels for it.
const eb_kernel_config* eb_kernel_config_for(int isa);

/// Rows [m0, m1) of a GEMM (A rows a_stride bytes apart, C rows c_stride) through cfg's micro-kernel
/// and packing: the one driver the runtime and the benchmark share. For weights larger than L2 it
/// walks column slices of ~16 KB of packed weights outermost.
void eb_qs8_gemm_rows(const eb_kernel_config* cfg, size_t m0, size_t m1, size_t n, size_t k,
                      const int8_t* a, size_t a_stride, const void* packed, int8_t* c,
                      size_t c_stride, const eb_qs8_requant_params* params);

#ifdef __cplusplus
}
#endif
