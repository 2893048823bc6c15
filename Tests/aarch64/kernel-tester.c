// Exact-match tester for the AArch64 kernels, cross-compiled and run under qemu-aarch64 (see
// run.sh): every variant this CPU model runs against a naive reference, plus the dispatch check.
// usage: kernel-tester EXPECTED_BEST_ISA   (scalar | neon | neondot; on x86-64 hosts, also
// avx2 | avx512vnni | avx512vbmi)
#include <CEdgeboneKernels.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 1;
static uint64_t rnd(void) {
  rng_state += 0x9E3779B97F4A7C15ull;
  uint64_t z = rng_state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint64_t)(hi - lo + 1)); }
static float rnd_f(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() >> 40) / (float)(1 << 24); }

static int failures = 0, cases = 0;

// When set, test_gemm and test_dwconv run shift requantization: each scale becomes the count of the
// nearest 2^-e (e in 0..30), held in its slot.
static int shift_requant = 0;
static void to_shift_counts(float* scale, size_t n) {
  for (size_t j = 0; j < n && shift_requant; j++) {
    int32_t e = (int32_t)__builtin_lrintf(-__builtin_log2f(scale[j]));
    e = e < 0 ? 0 : e > 30 ? 30 : e;
    memcpy(&scale[j], &e, sizeof e);
  }
}

// A table for the requantization: with_lut 1 random bytes; 2 a walk like a quantized activation on a
// fine grid (per block of 16 at most four rises and one fall, by one) with its step planes in `steps`.
static const int8_t* fill_table(int8_t* lut, int8_t* steps, int with_lut) {
  if (with_lut != 2) {
    for (int i = 0; i < 4096; i++) lut[i] = (int8_t)rnd_in(-128, 127);
    return NULL;
  }
  int v = rnd_in(-128, 0), rises = 0, fell = 0;
  for (int i = 0; i < 4096; i++) {
    if (i % 16 == 0) {
      rises = fell = 0;
    } else {
      const int r = rnd_in(0, 15);
      if (r < 3 && rises < 4 && v < 127) { v++; rises++; }
      else if (r == 3 && !fell && v > -128) { v--; fell = 1; }
    }
    lut[i] = (int8_t)v;
  }
  if (!eb_lut_steps_encode(lut, 4096, steps)) {
    printf("FAIL eb_lut_steps_encode refused a walk within its limits\n");
    failures++;
    return NULL;
  }
  return steps;
}

static void test_gemm(const eb_kernel_config* cfg, size_t m, size_t n, size_t k, int32_t a_zero,
                      int32_t zp, int32_t qmin, int32_t qmax, float scale_hi, int with_lut) {
  const size_t a_stride = k + 3, c_stride = n + 5;
  int8_t* a = malloc(m * a_stride + EB_EXTRA_BYTES);
  int8_t* w = malloc(n * k);
  int32_t* bias = malloc(n * 4);
  float* scale = malloc(n * 4);
  int8_t lut[4096 + 64], steps[EB_LUT_STEPS_BYTES];
  for (size_t i = 0; i < m * a_stride + EB_EXTRA_BYTES; i++) a[i] = (int8_t)rnd_in(-128, 127);
  for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)rnd_in(-127, 127);
  const int32_t span = 64 / scale_hi < 1000000.0f ? (int32_t)(64 / scale_hi) : 1000000;
  for (size_t j = 0; j < n; j++) { bias[j] = rnd_in(-span, span); scale[j] = rnd_f(scale_hi / 4, scale_hi); }
  const int8_t* planes = fill_table(lut, steps, with_lut);
  to_shift_counts(scale, n);
  eb_qs8_requant_params p = {zp, qmin, qmax, with_lut ? lut : NULL, planes, shift_requant};

  int8_t* expected = malloc(m * n);
  for (size_t r = 0; r < m; r++)
    for (size_t j = 0; j < n; j++) {
      int32_t acc = bias[j];
      for (size_t i = 0; i < k; i++) acc += ((int32_t)a[r * a_stride + i] - a_zero) * w[j * k + i];
      expected[r * n + j] = eb_qs8_requantize(acc, scale[j], &p);
    }
  const size_t packed_size = eb_qs8_gemm_packed_size(&cfg->gemm_packing, n, k);
  void* packed = malloc(packed_size);
  eb_qs8_gemm_pack(&cfg->gemm_packing, n, k, w, bias, scale, a_zero, packed);
  if (cfg->gemm_packing.a_xor) eb_x8_xor80(a, (uint8_t*)a, m * a_stride);
  int8_t* c = malloc(m * c_stride);
  memset(c, 0x5A, m * c_stride);
  // Through the shared driver (row blocks; column slices when the weights outgrow L1).
  eb_qs8_gemm_rows(cfg, 0, m, n, k, a, a_stride, packed, c, c_stride, &p);
  int bad = 0;
  for (size_t r = 0; r < m && !bad; r++)
    for (size_t j = 0; j < c_stride && !bad; j++) {
      const int8_t want = j < n ? expected[r * n + j] : 0x5A;
      if (c[r * c_stride + j] != want) {
        printf("FAIL %s m%zu n%zu k%zu a_zp %d zp %d clamp [%d,%d] lut %d: row %zu col %zu expected %d got %d\n",
               cfg->gemm_name, m, n, k, a_zero, zp, qmin, qmax, with_lut, r, j, want, c[r * c_stride + j]);
        bad = 1;
      }
    }
  failures += bad;
  cases++;
  free(a); free(w); free(bias); free(scale); free(expected); free(packed); free(c);
}

static void test_gemm_family(const eb_kernel_config* cfg) {
  const size_t kr = cfg->gemm_packing.kr, nr = cfg->gemm_packing.nr, mr = cfg->gemm_mr;
  const size_t ks[] = {1, 2, 3, kr - 1, kr, kr + 1, 2 * kr - 1, 2 * kr, 2 * kr + 1, 15, 16, 17, 33, 64, 67, 144};
  const size_t ns[] = {1, 2, 7, nr - 1, nr, nr + 1, 2 * nr - 1, 2 * nr + 1, 16, 17, 24, 40};
  const size_t ms[] = {1, 2, mr - 1, mr, mr + 1, 2 * mr + 3};
  for (size_t a = 0; a < sizeof ks / sizeof *ks; a++)
    for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
      for (size_t c = 0; c < sizeof ms / sizeof *ms; c++) {
        if (ks[a] == 0 || ns[b] == 0 || ms[c] == 0) continue;
        const float s = 40.0f / (8192.0f * __builtin_sqrtf((float)ks[a]));
        test_gemm(cfg, ms[c], ns[b], ks[a], rnd_in(-128, 127), rnd_in(-128, 127), -128, 127, s, 0);
      }
  test_gemm(cfg, 3, 37, 19, -128, -128, -128, 127, 1e-5f, 0);
  test_gemm(cfg, 3, 37, 19, 127, 127, -128, 127, 4.0f, 0);
  test_gemm(cfg, mr + 1, 37, 19, -128, 127, -128, 127, 1e-2f, 1);
  test_gemm(cfg, 5, 9, 2, 0, 0, -128, 127, 0.5f, 0);
  test_gemm(cfg, 5, 9, 2, 0, -5, -5, 127, 0.01f, 0);
  test_gemm(cfg, 5, 64, 200, -17, 20, 0, 20, 2e-3f, 1);
  test_gemm(cfg, mr + 1, 37, 19, 7, 300, -2048, 2047, 0.1f, 1);
  test_gemm(cfg, 4 * mr + 3, 1000, 300, 9, -3, -128, 127, 4e-4f, 0);  // column slices (> 256 KB)
  test_gemm(cfg, 3 * mr, 4100, 64, -2, 0, -2048, 2047, 2e-3f, 1);
  test_gemm(cfg, 2 * mr + 3, 80, 33, 4, -300, -2048, 2047, 2e-2f, 2);  // step planes
  test_gemm(cfg, mr - 1, 17, 16, -9, 1000, -2048, 2047, 1e-2f, 2);
  shift_requant = 1;  // the same epilogues shifting: int8, clamps, tables of 9 and 12 bits, counts 0..30
  test_gemm(cfg, 3, 37, 19, -128, -128, -128, 127, 1e-5f, 0);
  test_gemm(cfg, 3, 37, 19, 127, 127, -128, 127, 4.0f, 0);
  test_gemm(cfg, 5, 9, 2, 0, -5, -5, 127, 0.01f, 0);
  test_gemm(cfg, 5, 64, 200, -17, 20, 0, 20, 2e-3f, 1);
  test_gemm(cfg, mr + 1, 37, 19, 7, 100, -256, 255, 0.1f, 1);
  test_gemm(cfg, 2 * mr + 3, 80, 33, 4, -300, -2048, 2047, 2e-2f, 2);
  test_gemm(cfg, 2 * mr + 1, 50, 24, 4, 0, -128, 127, 1e-9f, 0);
  test_gemm(cfg, mr + 1, 37, 19, 7, -256, -256, 255, 0.1f, 1);  // zero point = qmin: shifted values are indices
  shift_requant = 0;
}

// When set, test_dwconv fills inputs with -128 and weights with -127/127: the largest products, which
// kernels that sum two of them in int16 must still get exact.
static int dwconv_extremes = 0;

static void test_dwconv(const eb_kernel_config* cfg, size_t h, size_t w, size_t c, size_t k,
                        size_t stride, int same, int32_t xz, int32_t zp, int32_t qmin, int32_t qmax,
                        int with_lut) {
  size_t oh, ow, pt, pl;
  if (same) {
    oh = (h + stride - 1) / stride; ow = (w + stride - 1) / stride;
    const ptrdiff_t th = (ptrdiff_t)((oh - 1) * stride + k) - (ptrdiff_t)h;
    const ptrdiff_t tw = (ptrdiff_t)((ow - 1) * stride + k) - (ptrdiff_t)w;
    pt = th > 0 ? (size_t)th / 2 : 0; pl = tw > 0 ? (size_t)tw / 2 : 0;
  } else {
    const size_t p = ((stride - 1) + (k - 1)) / 2;
    pt = pl = p;
    oh = (h + 2 * p - k) / stride + 1; ow = (w + 2 * p - k) / stride + 1;
  }
  const size_t taps = k * k;
  int8_t* x = malloc(h * w * c + EB_EXTRA_BYTES);
  int8_t* wt = malloc(taps * c);
  int32_t* bias = malloc(c * 4);
  float* scale = malloc(c * 4);
  int8_t lut[4096 + 64], steps[EB_LUT_STEPS_BYTES];
  int8_t* zero = malloc(c + EB_EXTRA_BYTES);
  for (size_t i = 0; i < h * w * c + EB_EXTRA_BYTES; i++) x[i] = (int8_t)rnd_in(-128, 127);
  for (size_t i = 0; i < taps * c; i++) wt[i] = (int8_t)rnd_in(-127, 127);
  if (dwconv_extremes) {
    for (size_t i = 0; i < h * w * c; i++) x[i] = -128;
    for (size_t i = 0; i < taps * c; i++) wt[i] = (int8_t)(rnd_in(0, 1) ? 127 : -127);
  }
  const float typical = 40.0f / (8192.0f * __builtin_sqrtf((float)taps));
  for (size_t j = 0; j < c; j++) { scale[j] = rnd_f(typical / 2, typical * 2); bias[j] = rnd_in(-(int32_t)(32 / typical), (int32_t)(32 / typical)); }
  const int8_t* planes = fill_table(lut, steps, with_lut);
  memset(zero, (int8_t)xz, c + EB_EXTRA_BYTES);
  to_shift_counts(scale, c);
  eb_qs8_requant_params p = {zp, qmin, qmax, with_lut ? lut : NULL, planes, shift_requant};
  int8_t* expected = malloc(oh * ow * c);
  for (size_t oy = 0; oy < oh; oy++)
    for (size_t ox = 0; ox < ow; ox++)
      for (size_t ch = 0; ch < c; ch++) {
        int32_t acc = bias[ch];
        for (size_t ky = 0; ky < k; ky++)
          for (size_t kx = 0; kx < k; kx++) {
            const ptrdiff_t iy = (ptrdiff_t)(oy * stride + ky) - (ptrdiff_t)pt;
            const ptrdiff_t ix = (ptrdiff_t)(ox * stride + kx) - (ptrdiff_t)pl;
            const int32_t xv = (iy >= 0 && iy < (ptrdiff_t)h && ix >= 0 && ix < (ptrdiff_t)w) ? x[((size_t)iy * w + (size_t)ix) * c + ch] : xz;
            acc += (xv - xz) * wt[(ky * k + kx) * c + ch];
          }
        expected[(oy * ow + ox) * c + ch] = eb_qs8_requantize(acc, scale[ch], &p);
      }
  void* packed = malloc(eb_qs8_dwconv_packed_size(&cfg->dwconv_packing, c, taps));
  eb_qs8_dwconv_pack(&cfg->dwconv_packing, c, taps, wt, bias, scale, xz, packed);
  int8_t* y = malloc(oh * ow * c + 64);
  memset(y, 0x33, oh * ow * c + 64);
  cfg->dwconv(x, h, w, c, packed, k, stride, pt, pl, y, oh, ow, 0, oh / 2, zero, &p);
  cfg->dwconv(x, h, w, c, packed, k, stride, pt, pl, y, oh, ow, oh / 2, oh, zero, &p);
  int bad = 0;
  for (size_t i = 0; i < oh * ow * c + 64 && !bad; i++) {
    const int8_t want = i < oh * ow * c ? expected[i] : 0x33;
    if (y[i] != want) {
      printf("FAIL %s %zux%zux%zu k%zu s%zu same %d xz %d zp %d: byte %zu expected %d got %d\n", cfg->dwconv_name,
             h, w, c, k, stride, same, xz, zp, i, want, y[i]);
      bad = 1;
    }
  }
  failures += bad;
  cases++;
  free(x); free(wt); free(bias); free(scale); free(zero); free(expected); free(packed); free(y);
}

static void test_dwconv_family(const eb_kernel_config* cfg) {
  const size_t ct = cfg->dwconv_packing.ct;
  const size_t cs[] = {1, ct - 1, ct, ct + 1, 2 * ct + 3, 24, 32};
  const size_t hw[][2] = {{1, 1}, {2, 3}, {7, 7}, {8, 6}, {5, 12}};
  for (size_t k = 3; k <= 5; k += 2)
    for (size_t s = 1; s <= 2; s++)
      for (int same = 0; same <= 1; same++)
        for (size_t g = 0; g < 5; g++)
          for (size_t ci = 0; ci < 7; ci++)
            if (cs[ci] > 0)
              test_dwconv(cfg, hw[g][0], hw[g][1], cs[ci], k, s, same, rnd_in(-128, 127), rnd_in(-128, 127), -128, 127, 0);
  test_dwconv(cfg, 9, 10, 19, 5, 2, 1, -128, -128, -128, 127, 0);
  test_dwconv(cfg, 9, 13, 32, 3, 1, 1, 5, -2048, -2048, 2047, 1);  // 32 channels, pixel pairs, table
  test_dwconv(cfg, 9, 10, 19, 5, 2, 1, 127, 127, -128, 127, 1);
  test_dwconv(cfg, 9, 10, 19, 3, 1, 0, 0, -10, -10, 127, 0);
  test_dwconv(cfg, 9, 10, 19, 3, 2, 1, -5, 30, 0, 30, 1);
  test_dwconv(cfg, 9, 10, 19, 5, 1, 0, 3, 700, -2048, 2047, 1);
  for (size_t ci = 0; ci < 7; ci++)  // step planes, around the 64-wide tile and its 32-wide tail
    test_dwconv(cfg, 6, 7, (size_t[]){16, 32, 33, 64, 96, 97, 144}[ci], 3 + 2 * (ci % 2), 1 + ci / 4, ci % 3 == 0, rnd_in(-128, 127),
                rnd_in(-2048, 2047), -2048, 2047, 2);
  dwconv_extremes = 1;
  test_dwconv(cfg, 9, 10, 35, 5, 1, 1, -128, 0, -128, 127, 0);
  test_dwconv(cfg, 9, 10, 35, 3, 1, 1, 127, 0, -128, 127, 0);
  test_dwconv(cfg, 9, 10, 35, 3, 2, 0, 0, 0, -2048, 2047, 1);
  dwconv_extremes = 0;
  shift_requant = 1;
  for (size_t ci = 0; ci < 7; ci++)  // shift requantization: int8, a clamp, 9- and 12-bit tables
    test_dwconv(cfg, 6, 7, (size_t[]){16, 32, 33, 64, 96, 97, 144}[ci], 3 + 2 * (ci % 2), 1 + ci / 4, ci % 3 == 0, rnd_in(-128, 127),
                ci % 4 == 0 ? 0 : rnd_in(-256, 255), ci % 4 == 0 ? 0 : -256, ci % 4 == 0 ? 127 : 255, ci % 4 == 0 ? 0 : 1);
  test_dwconv(cfg, 9, 10, 19, 3, 2, 1, -5, 30, 0, 30, 1);
  test_dwconv(cfg, 9, 10, 19, 3, 1, 0, 0, -10, -10, 127, 0);
  test_dwconv(cfg, 9, 13, 32, 3, 1, 1, 5, -2048, -2048, 2047, 2);
  shift_requant = 0;
}

// Elementwise kernels and the stem convolution: each variant against the scalar build (which the
// x86 testers check against independent references).
static void test_elementwise_family(const eb_kernel_config* cfg) {
  const eb_kernel_config* ref = eb_kernel_config_for(EB_ISA_SCALAR);
  int8_t lut[256];
  for (int i = 0; i < 256; i++) lut[i] = (int8_t)rnd_in(-128, 127);
  const size_t ns[] = {1, 7, 16, 17, 63, 64, 65, 1000};
  for (size_t t = 0; t < 8; t++) {
    const size_t n = ns[t], rows = 1 + n % 7, c = n;
    int8_t* a = malloc(rows * c + 64); int8_t* b = malloc(rows * c + 64);
    int8_t* y0 = malloc(rows * c + 64); int8_t* y1 = malloc(rows * c + 64);
    int32_t* acc = malloc(c * 4);
    for (size_t i = 0; i < rows * c + 64; i++) { a[i] = (int8_t)rnd_in(-128, 127); b[i] = (int8_t)rnd_in(-128, 127); }
    eb_qs8_add_params ap = {rnd_in(-128, 127), rnd_in(-128, 127), rnd_f(0.01f, 2), rnd_f(0.01f, 2), {rnd_in(-128, 127), -128, 127, (t & 1) ? lut : NULL}};
    ref->vadd(n, a, b, y0, &ap); cfg->vadd(n, a, b, y1, &ap);
    int bad = memcmp(y0, y1, n) != 0;
    eb_qs8_mulc_params mp = {rnd_in(-128, 127), -128, rnd_f(1e-4f, 1e-2f), {rnd_in(-128, 127), -128, 127, NULL}};
    ref->vmulc(rows, c, a, b, y0, &mp); cfg->vmulc(rows, c, a, b, y1, &mp);
    bad |= memcmp(y0, y1, rows * c) != 0;
    eb_qs8_gavgpool_params gp = {rnd_in(-128, 127), rnd_f(0.5f, 2) / (float)rows, {rnd_in(-128, 127), -128, 127, NULL}};
    ref->gavgpool(rows, c, a, y0, acc, &gp); cfg->gavgpool(rows, c, a, y1, acc, &gp);
    bad |= memcmp(y0, y1, c) != 0;
    ref->lut(n, a, y0, lut); cfg->lut(n, a, y1, lut);
    bad |= memcmp(y0, y1, n) != 0;
    if (bad) printf("FAIL %s elementwise n%zu\n", cfg->name, n);
    failures += bad; cases++;
    free(a); free(b); free(y0); free(y1); free(acc);
  }
  // Channel scaling (the squeeze-and-excite gate) over wider rows, flat runs and the body's fallback
  // (gates wider than the stack copy), plain, with a narrowed clamp, and through a table.
  const size_t mulc_shapes[][2] = {{9, 48}, {49, 1152}, {13, 672}, {2, 2100}, {37, 8}, {5, 3}, {196, 240}, {3, 17}};
  for (size_t t = 0; t < sizeof mulc_shapes / sizeof *mulc_shapes; t++) {
    const size_t rows = mulc_shapes[t][0], c = mulc_shapes[t][1];
    int8_t* a = malloc(rows * c + 64); int8_t* g = malloc(c + 64);
    int8_t* y0 = malloc(rows * c + 64); int8_t* y1 = malloc(rows * c + 64);
    for (size_t i = 0; i < rows * c + 64; i++) a[i] = (int8_t)rnd_in(-128, 127);
    for (size_t i = 0; i < c + 64; i++) g[i] = (int8_t)rnd_in(-128, 127);
    for (int mode = 0; mode < 3; mode++) {
      const int32_t qmin = mode == 1 ? rnd_in(-128, 0) : -128, qmax = mode == 1 ? rnd_in(1, 127) : 127;
      eb_qs8_mulc_params mp = {rnd_in(-128, 127), rnd_in(-128, 127), mode == 2 ? rnd_f(1e-2f, 0.5f) : rnd_f(1e-4f, 1e-2f),
                               {rnd_in(-128, 127), qmin, qmax, mode == 2 ? lut : NULL}, (uint32_t)(rows % 2)};  // odd rows: flipped
      memset(y0, 0x11, rows * c + 64); memset(y1, 0x11, rows * c + 64);
      ref->vmulc(rows, c, a, g, y0, &mp); cfg->vmulc(rows, c, a, g, y1, &mp);
      const int bad = memcmp(y0, y1, rows * c + 64) != 0;
      if (bad) printf("FAIL %s vmulc %zux%zu mode %d\n", cfg->name, rows, c, mode);
      failures += bad; cases++;
    }
    free(a); free(g); free(y0); free(y1);
  }
  // Pools over more rows than an int16 sum holds, random and at the extremes.
  const size_t pool_shapes[][2] = {{700, 64}, {1030, 32}, {520, 80}, {257, 16}, {300, 1152}, {12544, 32}, {90, 24}};
  for (size_t t = 0; t < sizeof pool_shapes / sizeof *pool_shapes; t++) {
    const size_t rows = pool_shapes[t][0], c = pool_shapes[t][1];
    int8_t* a = malloc(rows * c); int32_t* acc0 = malloc(c * 4); int32_t* acc1 = malloc(c * 4);
    int8_t y0[1152], y1[1152];
    for (int fill = 0; fill < 3; fill++) {
      for (size_t i = 0; i < rows * c; i++) a[i] = fill == 0 ? (int8_t)rnd_in(-128, 127) : fill == 1 ? -128 : 127;
      eb_qs8_gavgpool_params gp = {rnd_in(-128, 127), rnd_f(0.5f, 2) / (float)rows, {rnd_in(-128, 127), -128, 127, NULL}};
      ref->gavgpool(rows, c, a, y0, acc0, &gp); cfg->gavgpool(rows, c, a, y1, acc1, &gp);
      const int bad = memcmp(y0, y1, c) != 0 || memcmp(acc0, acc1, c * 4) != 0;
      if (bad) printf("FAIL %s gavgpool %zux%zu fill %d\n", cfg->name, rows, c, fill);
      failures += bad; cases++;
    }
    free(a); free(acc0); free(acc1);
  }
  // The classifier's GEMV on packed rows: K and n with and without tails, past the int16 staging.
  const size_t gemv_shapes[][2] = {{1, 1}, {17, 5}, {64, 8}, {65, 9}, {1280, 37}, {4097, 6}};
  for (size_t t = 0; t < sizeof gemv_shapes / sizeof *gemv_shapes; t++) {
    const size_t k = gemv_shapes[t][0], n = gemv_shapes[t][1];
    int8_t* x = malloc(k); int8_t* w = malloc(n * k); int8_t* packed = malloc(eb_qs8_gemv_packed_size(n, k));
    int32_t* wsum = malloc(n * 4); int32_t* bias = malloc(n * 4); float* scale = malloc(n * 4);
    float* y0 = malloc((n + 1) * 4); float* y1 = malloc((n + 1) * 4);
    for (size_t i = 0; i < k; i++) x[i] = (int8_t)rnd_in(-128, 127);
    for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)rnd_in(-127, 127);
    for (size_t j = 0; j < n; j++) { bias[j] = rnd_in(-100000, 100000); scale[j] = rnd_f(1e-5f, 1e-2f); }
    eb_qs8_gemv_pack(n, k, w, packed, wsum);
    const int32_t xz = t % 2 ? -128 : rnd_in(-128, 127);
    y0[n] = y1[n] = -1.5f;
    ref->gemv_f32(k, n, x, xz, packed, wsum, bias, scale, y0); cfg->gemv_f32(k, n, x, xz, packed, wsum, bias, scale, y1);
    const int bad = memcmp(y0, y1, (n + 1) * 4) != 0;
    if (bad) printf("FAIL %s gemv k%zu n%zu\n", cfg->name, k, n);
    failures += bad; cases++;
    free(x); free(w); free(packed); free(wsum); free(bias); free(scale); free(y0); free(y1);
  }
  // Stem: 3x3 stride 2 on 3 channels, TF-same and symmetric, against the scalar table.
  for (int same = 0; same <= 1; same++) {
    const size_t h = 17, w = 15, cin = 3, cout = 32, k = 3, s = 2;
    const size_t oh = same ? (h + 1) / 2 : (h + 2 - 3) / 2 + 1, ow = same ? (w + 1) / 2 : (w + 2 - 3) / 2 + 1;
    const size_t pt = same ? ((oh - 1) * s + k - h) / 2 : 1, pl = same ? ((ow - 1) * s + k - w) / 2 : 1;
    const size_t kc = k * k * cin;
    int8_t* x = malloc(h * w * cin + 64); int8_t* wt = malloc(cout * kc);
    int32_t bias[32]; float scale[32];
    for (size_t i = 0; i < h * w * cin + 64; i++) x[i] = (int8_t)rnd_in(-128, 127);
    for (size_t i = 0; i < cout * kc; i++) wt[i] = (int8_t)rnd_in(-127, 127);
    for (size_t j = 0; j < cout; j++) { bias[j] = rnd_in(-3000, 3000); scale[j] = rnd_f(1e-3f, 1e-2f); }
    const int32_t xz = rnd_in(-128, 127);
    eb_qs8_requant_params p = {rnd_in(-128, 127), -128, 127, NULL};
    int8_t* y0 = malloc(oh * ow * cout); int8_t* y1 = malloc(oh * ow * cout);
    const eb_kernel_config* cfgs[2] = {ref, cfg};
    int8_t* outs[2] = {y0, y1};
    for (int v = 0; v < 2; v++) {
      void* packed = malloc(eb_qs8_gemm_packed_size(&cfgs[v]->gemm_packing, cout, kc));
      eb_qs8_gemm_pack(&cfgs[v]->gemm_packing, cout, kc, wt, bias, scale, xz, packed);
      int8_t* patches = malloc(eb_qs8_conv_hwc_scratch_size(cfgs[v], k, cin));
      const int8_t pads[3] = {(int8_t)xz, (int8_t)(xz + 1), (int8_t)(xz - 1)};
      eb_qs8_conv_hwc(cfgs[v], x, h, w, cin, cout, packed, k, s, pt, pl, outs[v], oh, ow, 0, oh, pads, patches, &p);
      free(packed); free(patches);
    }
    const int bad = memcmp(y0, y1, oh * ow * cout) != 0;
    if (bad) printf("FAIL %s conv_hwc same %d\n", cfg->name, same);
    failures += bad; cases++;
    free(x); free(wt); free(y0); free(y1);
  }
}

// Resampling passes at `isa` against the scalar ones (EB_ISA_SCALAR) on random images: down- and
// upscaling, bilinear and bicubic, windows touching both image edges.
static void test_resample_family(int isa) {
  const size_t sizes[][3] = {{640, 480, 224}, {37, 29, 64}, {300, 451, 224}, {49, 48, 48}, {1023, 17, 96}, {16, 700, 33}};
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    const size_t in_w = sizes[t][0], in_h = sizes[t][1], out = sizes[t][2];
    const int filter = t % 2 ? EB_FILTER_BILINEAR : EB_FILTER_BICUBIC;
    const size_t kh = eb_resample_ksize_max(in_w, 0, (double)in_w, out, filter), kv = eb_resample_ksize_max(in_h, 0, (double)in_h, out, filter);
    int32_t* hb = malloc(out * 2 * 4); int32_t* hc = malloc(out * kh * 4);
    int32_t* vb = malloc(out * 2 * 4); int32_t* vc = malloc(out * kv * 4);
    const size_t hk = eb_resample_coeffs(in_w, 0, (double)in_w, out, filter, hb, hc, out * kh);
    const size_t vk = eb_resample_coeffs(in_h, 0, (double)in_h, out, filter, vb, vc, out * kv);
    uint8_t* img = malloc(in_w * in_h * 3);
    for (size_t i = 0; i < in_w * in_h * 3; i++) img[i] = (uint8_t)rnd();
    uint8_t* h0 = malloc(in_h * out * 3); uint8_t* h1 = malloc(in_h * out * 3);
    uint8_t* v0 = malloc(out * out * 3); uint8_t* v1 = malloc(out * out * 3);
    eb_u8_resample_horizontal(img, in_h, in_w, h0, out, hb, hc, hk, EB_ISA_SCALAR);
    eb_u8_resample_horizontal(img, in_h, in_w, h1, out, hb, hc, hk, isa);
    eb_u8_resample_vertical(h0, out, v0, out, vb, vc, vk, EB_ISA_SCALAR);
    eb_u8_resample_vertical(h0, out, v1, out, vb, vc, vk, isa);
    const int bad = memcmp(h0, h1, in_h * out * 3) != 0 || memcmp(v0, v1, out * out * 3) != 0;
    if (bad) printf("FAIL resample isa %d %zux%zu -> %zu\n", isa, in_w, in_h, out);
    failures += bad; cases++;
    free(hb); free(hc); free(vb); free(vc); free(img); free(h0); free(h1); free(v0); free(v1);
  }
}

// YUV to RGB (portable C, vectorized by the compiler for the target) against the BT.601 formula.
static uint8_t yuv_ref(int32_t y, int32_t u, int32_t v, int ch) {
  const int32_t c = 298 * (y - 16), cu = u - 128, cv = v - 128;
  const int32_t t = ch == 0 ? c + 409 * cv + 128 : ch == 1 ? c - 100 * cu - 208 * cv + 128 : c + 516 * cu + 128;
  return (uint8_t)((t >> 8) < 0 ? 0 : (t >> 8) > 255 ? 255 : (t >> 8));
}

static void test_yuv(void) {
  const size_t w = 150, h = 7, cw = 75, stride = 2 * w + 8;
  uint8_t* y = malloc(w * h); uint8_t* u = malloc(cw * h); uint8_t* v = malloc(cw * h);
  uint8_t* yuyv = malloc(stride * h); uint8_t* out = malloc(w * h * 3);
  for (size_t i = 0; i < w * h; i++) y[i] = (uint8_t)rnd();
  for (size_t i = 0; i < cw * h; i++) { u[i] = (uint8_t)rnd(); v[i] = (uint8_t)rnd(); }
  for (size_t i = 0; i < stride * h; i++) yuyv[i] = (uint8_t)rnd();
  int bad = 0;
  eb_yuv_planar_to_rgb(y, u, v, w, h, cw, 1, 1, out);  // 4:2:0
  for (size_t r = 0; r < h; r++) for (size_t c = 0; c < w; c++) for (int ch = 0; ch < 3; ch++)
    bad |= out[(r * w + c) * 3 + ch] != yuv_ref(y[r * w + c], u[(r >> 1) * cw + (c >> 1)], v[(r >> 1) * cw + (c >> 1)], ch);
  eb_yuyv_to_rgb(yuyv, stride, w, h, out);
  for (size_t r = 0; r < h; r++) for (size_t c = 0; c < w; c++) for (int ch = 0; ch < 3; ch++) {
    const uint8_t* q = yuyv + r * stride + (c / 2) * 4;
    bad |= out[(r * w + c) * 3 + ch] != yuv_ref(q[(c % 2) * 2], q[1], q[3], ch);
  }
  printf("yuv to rgb (4:2:0, YUYV): %s\n", bad ? "MISMATCH" : "exact");
  failures += bad; cases++;
  free(y); free(u); free(v); free(yuyv); free(out);
}

// The window attention with int8 input (the int8 forms: VNNI on AVX-512, sdot on NEON with the dot
// product, the float forms elsewhere) against the scalar build, bit for bit; where the build reads the
// int8 values alone, also with no float input.
static void test_attention(const char* name, eb_f32_window_attention_fn f, eb_f32_window_attention_int8_only_fn only) {
  static const size_t shapes[][5] = {{3, 16, 2, 16, 1}, {2, 64, 3, 32, 1}, {1, 9, 1, 16, 1}, {1, 70, 2, 48, 0}, {1, 256, 1, 32, 1},
                                     {1, 70, 1, 32, 1}, {2, 21, 2, 64, 0}, {1, 49, 4, 16, 1}, {2, 5, 1, 32, 1}, {1, 9, 1, 5, 1}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const size_t windows = shapes[s][0], n = shapes[s][1], heads = shapes[s][2], d = shapes[s][3], c = heads * d;
    const size_t count = windows * n * 3 * c, outs = windows * n * c;
    const int32_t z = rnd_in(-128, 127);
    int8_t* q8 = malloc(count);
    float* qf = malloc(count * sizeof(float));
    for (size_t i = 0; i < count; i++) {
      q8[i] = (int8_t)rnd_in(-128, 127);
      qf[i] = (float)(q8[i] - z);
    }
    float* scale = malloc(heads * sizeof(float));
    for (size_t h = 0; h < heads; h++) scale[h] = rnd_f(1.0f, 30.0f);
    float* bias = malloc(heads * n * n * sizeof(float));
    for (size_t i = 0; i < heads * n * n; i++) bias[i] = rnd_f(-8.0f, 8.0f);
    float* mask = NULL;
    if (shapes[s][4]) {
      mask = malloc(windows * n * n * sizeof(float));
      for (size_t i = 0; i < windows * n * n; i++) mask[i] = i % 7 == 0 ? -100.0f : 0.0f;
    }
    float* scratch = malloc(eb_f32_window_attention_scratch(n, d));
    float* want = malloc(outs * sizeof(float));
    float* got = malloc(outs * sizeof(float));
    eb_f32_window_attention_ukernel__scalar(qf, q8, z, 0.043f, want, windows, n, heads, d, scale, bias, mask, scratch);
    for (int alone = 0; alone < 2; alone++) {
      if (alone && !only(n, d)) break;
      cases++;
      f(alone ? NULL : qf, q8, z, 0.043f, got, windows, n, heads, d, scale, bias, mask, scratch);
      if (memcmp(got, want, outs * sizeof(float)) != 0) {
        failures++;
        printf("FAIL %s attention windows %zu tokens %zu heads %zu d %zu zero %d%s\n", name, windows, n, heads, d, z,
               alone ? " (int8 values alone)" : "");
      }
    }
    free(q8); free(qf); free(scale); free(bias); free(mask); free(scratch); free(want); free(got);
  }
}

// LayerNorm from int8 to int8 against the scalar build, byte for byte (its row sums by vpdpbusd or sdot
// where the build has them).
static void test_layernorm8(const char* name, eb_qs8_layernorm_fn f) {
  static const size_t widths[] = {1, 7, 16, 63, 64, 65, 96, 200, 768, 1000};
  for (size_t s = 0; s < sizeof widths / sizeof widths[0]; s++) {
    const size_t rows = 5, c = widths[s];
    const int32_t in_zero = s % 3 == 0 ? -128 : s % 3 == 1 ? 127 : rnd_in(-128, 127), out_zero = rnd_in(-128, 127);
    int8_t* x = malloc(rows * c);
    for (size_t i = 0; i < rows * c; i++) x[i] = (int8_t)rnd_in(-128, 127);
    float* g = malloc(c * sizeof(float));
    float* b = malloc(c * sizeof(float));
    for (size_t j = 0; j < c; j++) {
      g[j] = rnd_f(-60.0f, 60.0f);
      b[j] = rnd_f(-40.0f, 40.0f);
    }
    int8_t* want = malloc(rows * c);
    int8_t* got = malloc(rows * c);
    eb_qs8_layernorm_ukernel__scalar(x, want, rows, c, in_zero, 0.037f, g, b, 1e-5f, out_zero);
    f(x, got, rows, c, in_zero, 0.037f, g, b, 1e-5f, out_zero);
    cases++;
    if (memcmp(got, want, rows * c) != 0) {
      failures++;
      printf("FAIL %s int8 layernorm c %zu zero %d\n", name, c, in_zero);
    }
    free(x); free(g); free(b); free(want); free(got);
  }
}

static void test_attention_family(const uint32_t f) {
  const int before = failures;
#if defined(__aarch64__)
  test_layernorm8("neon", eb_qs8_layernorm_ukernel__neon);
  if (eb_isa_supported(EB_ISA_NEONDOT, f)) test_layernorm8("neondot", eb_qs8_layernorm_ukernel__neondot);
#elif defined(__x86_64__)
  if (eb_isa_supported(EB_ISA_AVX2, f)) test_layernorm8("avx2", eb_qs8_layernorm_ukernel__avx2);
  if (eb_isa_supported(EB_ISA_AVX512VNNI, f)) test_layernorm8("avx512f", eb_qs8_layernorm_ukernel__avx512f);
#endif
#if defined(__aarch64__)
  test_attention("neon", eb_f32_window_attention_ukernel__neon, eb_f32_window_attention_int8_only__neon);
  if (eb_isa_supported(EB_ISA_NEONDOT, f))
    test_attention("neondot", eb_f32_window_attention_ukernel__neondot, eb_f32_window_attention_int8_only__neondot);
#elif defined(__x86_64__)
  if (eb_isa_supported(EB_ISA_AVX2, f))
    test_attention("avx2", eb_f32_window_attention_ukernel__avx2, eb_f32_window_attention_int8_only__avx2);
  if (eb_isa_supported(EB_ISA_AVX512VNNI, f))
    test_attention("avx512f", eb_f32_window_attention_ukernel__avx512f, eb_f32_window_attention_int8_only__avx512f);
#else
  (void)f;
#endif
  printf("int8 window attention and LayerNorm: %s\n", failures == before ? "exact" : "MISMATCH");
}

int main(int argc, char** argv) {
  const uint32_t f = eb_cpu_features();
  const int best = eb_best_isa(f);
  const eb_kernel_config* best_cfg = eb_kernel_config_for(best);
  printf("features 0x%x, best ISA %s\n", f, best_cfg ? best_cfg->name : "?");
  if (argc > 1 && strcmp(argv[1], best_cfg->name) != 0) {
    printf("FAIL dispatch: expected %s, chose %s\n", argv[1], best_cfg->name);
    return 1;
  }
  for (int isa = EB_ISA_SCALAR; isa <= EB_ISA_AVX512VBMI; isa++) {
    const eb_kernel_config* cfg = eb_kernel_config_for(isa);
    if (cfg == NULL || !eb_isa_supported(isa, f)) continue;
    const int before = failures;
    test_gemm_family(cfg);
    printf("%-12s %s: %s\n", cfg->name, cfg->gemm_name, failures == before ? "exact" : "MISMATCH");
    const int before_dw = failures;
    test_dwconv_family(cfg);
    printf("%-12s %s: %s\n", cfg->name, cfg->dwconv_name, failures == before_dw ? "exact" : "MISMATCH");
    const int before_ew = failures;
    test_elementwise_family(cfg);
    printf("%-12s vadd/vmulc/gavgpool/lut/gemv/conv_hwc: %s\n", cfg->name, failures == before_ew ? "exact" : "MISMATCH");
    const int before_rs = failures;
    test_resample_family(isa);
    printf("%-12s resample (Pillow-exact passes): %s\n", cfg->name, failures == before_rs ? "exact" : "MISMATCH");
  }
  test_yuv();
  test_attention_family(f);
  printf("%d cases, %d failed\n", cases, failures);
  return failures == 0 ? 0 : 1;
}
