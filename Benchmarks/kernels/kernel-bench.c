// Kernel benchmark: time, GMAC/s and fraction of the measured single-core int8 peak for the real
// GEMM (1x1 convolution / linear) shapes of EfficientNet-B0 (224) and SwinV2-Tiny (256, window 8),
// and GB/s moved for B0's depthwise shapes, per ISA level; then SwinV2-T's window attention per float
// build (`kernel-bench.sh attention` for that alone). Not a test: it prints numbers.
// Build and run: Benchmarks/kernel-bench.sh  (x86-64 here; the same file builds for AArch64).
#include <CEdgeboneKernels.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
#include <immintrin.h>
// Independent vpdpbusd chains without loads: the int8 multiply-add ceiling of one core. Every chain
// is summed into the result, so the compiler cannot drop any (an earlier version tied only 8 of 16
// chains to the loop and the compiler removed 7: it counted 16 while running 9, and overstated the
// peak by 16/9). 12 and 16 chains are measured (vpdpbusd needs about 12 in flight) and the best kept.
#define EB_PEAK_CHAINS(N)                                                                          \
  __attribute__((target("avx512f,avx512vnni"), noinline)) static double vnni_peak_##N(void) {     \
    __m512i acc[N];                                                                                \
    for (int i = 0; i < N; i++) acc[i] = _mm512_set1_epi32(i);                                    \
    const __m512i a = _mm512_set1_epi32(0x01020304), b = _mm512_set1_epi32(0x05060708);         \
    const long iters = 10000000;                                                                   \
    double best = 0;                                                                               \
    for (int rep = 0; rep < 5; rep++) {                                                            \
      const double t0 = now();                                                                     \
      for (long i = 0; i < iters; i++) {                                                           \
        for (int j = 0; j < N; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);                   \
        __asm__ volatile("" ::: "memory");                                                         \
      }                                                                                            \
      const double g = (double)iters * N * 64 / (now() - t0) / 1e9;                               \
      if (g > best) best = g;                                                                      \
    }                                                                                              \
    __m512i sum = acc[0];                                                                          \
    for (int j = 1; j < N; j++) sum = _mm512_add_epi32(sum, acc[j]);                              \
    int32_t sink[16];                                                                              \
    _mm512_storeu_si512(sink, sum);                                                                \
    if (sink[0] == 42) printf(" ");                                                                \
    return best;                                                                                   \
  }
EB_PEAK_CHAINS(12)
EB_PEAK_CHAINS(16)

static double vnni_peak_gmacs(void) {
  const double p12 = vnni_peak_12(), p16 = vnni_peak_16();
  return p12 > p16 ? p12 : p16;
}
#endif

typedef struct { const char* net; int m, k, n, count; } gemm_shape;
typedef struct { int h, w, c, k, s, count; } dw_shape;

static const gemm_shape gemms[] = {
    // EfficientNet-B0 at 224: pixels x in -> out, and how many layers have that shape.
    {"B0", 12544, 32, 16, 1}, {"B0", 12544, 16, 96, 1}, {"B0", 3136, 96, 24, 1}, {"B0", 3136, 24, 144, 2},
    {"B0", 3136, 144, 24, 1}, {"B0", 784, 144, 40, 1}, {"B0", 784, 40, 240, 2}, {"B0", 784, 240, 40, 1},
    {"B0", 196, 240, 80, 1}, {"B0", 196, 80, 480, 3}, {"B0", 196, 480, 80, 2}, {"B0", 196, 480, 112, 1},
    {"B0", 196, 112, 672, 3}, {"B0", 196, 672, 112, 2}, {"B0", 49, 672, 192, 1}, {"B0", 49, 192, 1152, 4},
    {"B0", 49, 1152, 192, 3}, {"B0", 49, 1152, 320, 1}, {"B0", 49, 320, 1280, 1},
    // SwinV2-Tiny, 256x256, window 8: tokens x in -> out per linear layer.
    {"SwinV2-T", 4096, 96, 288, 2}, {"SwinV2-T", 4096, 96, 96, 2}, {"SwinV2-T", 4096, 96, 384, 2}, {"SwinV2-T", 4096, 384, 96, 2},
    {"SwinV2-T", 1024, 384, 192, 1}, {"SwinV2-T", 1024, 192, 576, 2}, {"SwinV2-T", 1024, 192, 192, 2}, {"SwinV2-T", 1024, 192, 768, 2},
    {"SwinV2-T", 1024, 768, 192, 2}, {"SwinV2-T", 256, 768, 384, 1}, {"SwinV2-T", 256, 384, 1152, 6}, {"SwinV2-T", 256, 384, 384, 6},
    {"SwinV2-T", 256, 384, 1536, 6}, {"SwinV2-T", 256, 1536, 384, 6}, {"SwinV2-T", 64, 1536, 768, 1}, {"SwinV2-T", 64, 768, 2304, 2},
    {"SwinV2-T", 64, 768, 768, 2}, {"SwinV2-T", 64, 768, 3072, 2}, {"SwinV2-T", 64, 3072, 768, 2},
};

static const dw_shape dws[] = {
    {112, 112, 32, 3, 1, 1}, {112, 112, 96, 3, 2, 1}, {56, 56, 144, 3, 1, 1}, {56, 56, 144, 5, 2, 1},
    {28, 28, 240, 5, 1, 1}, {28, 28, 240, 3, 2, 1}, {14, 14, 480, 3, 1, 2}, {14, 14, 480, 5, 1, 1},
    {14, 14, 672, 5, 1, 2}, {14, 14, 672, 5, 2, 1}, {7, 7, 1152, 5, 1, 3}, {7, 7, 1152, 3, 1, 1},
};

// Activations, outputs and packed weights 64-byte aligned, as the runtime's arena and persistent
// buffer place them (split loads would otherwise be timed).
static void* alloc64(size_t n) { return aligned_alloc(64, (n + 63) / 64 * 64); }

// Median of 7 timings of run(ctx), each repeating it for at least 10 ms.
static double median_time(void (*run)(const void*), const void* ctx) {
  double samples[7];
  for (int r = 0; r < 7; r++) {
    int inner = 0;
    const double t0 = now();
    double t1;
    do {
      run(ctx);
      inner++;
      t1 = now();
    } while (t1 - t0 < 0.01);
    samples[r] = (t1 - t0) / inner;
  }
  for (int i = 0; i < 7; i++)
    for (int j = i + 1; j < 7; j++)
      if (samples[j] < samples[i]) { const double t = samples[i]; samples[i] = samples[j]; samples[j] = t; }
  return samples[3];
}

typedef struct {
  const eb_kernel_config* cfg;
  const gemm_shape* s;
  const int8_t* a;
  const void* packed;
  int8_t* c;
  const eb_qs8_requant_params* p;
} gemm_run;

static void run_gemm(const void* ctx) {
  const gemm_run* g = ctx;
  eb_qs8_gemm_rows(g->cfg, 0, g->s->m, g->s->n, g->s->k, g->a, g->s->k, g->packed, g->c, g->s->n, g->p);
}

static double time_gemm(const eb_kernel_config* cfg, const gemm_shape* s, int8_t* a, void* packed, int8_t* c,
                        const eb_qs8_requant_params* p) {
  const gemm_run g = {cfg, s, a, packed, c, p};
  return median_time(run_gemm, &g);
}

typedef struct {
  const eb_kernel_config* cfg;
  const dw_shape* s;
  const int8_t* x;
  const void* packed;
  int8_t* y;
  size_t pad, oh, ow;
  const int8_t* zero;
  const eb_qs8_requant_params* p;
} dw_run;

static void run_dw(const void* ctx) {
  const dw_run* d = ctx;
  d->cfg->dwconv(d->x, d->s->h, d->s->w, d->s->c, d->packed, d->s->k, d->s->s, d->pad, d->pad, d->y, d->oh, d->ow, 0,
                 d->oh, d->zero, d->p);
}

// Entry j of a SiLU-like table on the 12-bit grid (a rise every few entries, one dip).
static int8_t silu_like_entry(int j) {
  return (int8_t)(j < 1800 ? (j < 1700 ? -100 : -101) : -100 + (j - 1800) / 9 > 127 ? 127 : -100 + (j - 1800) / 9);
}

// That table on the 12-bit grid and its step planes.
static void silu_like_table(int8_t* lut, int8_t* planes, int* has_planes) {
  for (int i = 0; i < 4096 + 64; i++) lut[i] = silu_like_entry(i < 4096 ? i : 4095);
  *has_planes = eb_lut_steps_encode(lut, 4096, planes);
}

// The same on the 9-bit grid (every eighth entry), which AVX-512 VBMI looks up directly.
static void silu_like_table9(int8_t* lut9) {
  for (int i = 0; i < 512 + 64; i++) lut9[i] = silu_like_entry(i < 512 ? 8 * i : 4095);
}

// The activation layers (B0's expansions and depthwise with SiLU, SwinV2-T's fc1 with GELU) timed
// without a table, with the 12-bit table gathered, (where the level has them) from step planes, and
// with the 9-bit table (gathered, or looked up directly where the level has byte permutes).
static void table_epilogues(const eb_kernel_config* cfg) {
  static int8_t lut[4096 + 64], planes[EB_LUT_STEPS_BYTES], lut9[512 + 64];
  int has_planes;
  silu_like_table(lut, planes, &has_planes);
  silu_like_table9(lut9);
  const eb_qs8_requant_params plain = {0, -128, 127, NULL, NULL}, gathered = {0, -2048, 2047, lut, NULL},
                              stepped = {0, -2048, 2047, lut, has_planes ? planes : NULL},
                              direct = {0, -256, 255, lut9, NULL}, shifted = {-256, -256, 255, lut9, NULL, 1};
  const int planes_differ = cfg->isa == EB_ISA_AVX512VBMI;
  printf("\ntable epilogues (us): plain / gathered%s / 9-bit / 9-bit shifted\n", planes_differ ? " / step planes" : "");
  double totals[5] = {0, 0, 0, 0, 0};
  for (size_t i = 0; i < sizeof gemms / sizeof *gemms; i++) {
    const gemm_shape* s = &gemms[i];
    if (s->n <= s->k || (s->net[0] == 'S' && s->n != 4 * s->k)) continue;  // expansions; SwinV2 fc1 only
    int8_t* a = alloc64((size_t)s->m * s->k + EB_EXTRA_BYTES);
    int8_t* w = malloc((size_t)s->n * s->k);
    float* scale = malloc(s->n * 4);
    for (size_t j = 0; j < (size_t)s->m * s->k + EB_EXTRA_BYTES; j++) a[j] = (int8_t)(j * 37 + 11);
    for (size_t j = 0; j < (size_t)s->n * s->k; j++) w[j] = (int8_t)((j * 53 + 7) % 255 - 127);
    for (int j = 0; j < s->n; j++) scale[j] = 2e-3f;
    void* packed = alloc64(eb_qs8_gemm_packed_size(&cfg->gemm_packing, s->n, s->k));
    eb_qs8_gemm_pack(&cfg->gemm_packing, s->n, s->k, w, NULL, scale, 3, packed);
    int8_t* c = alloc64((size_t)s->m * s->n);
    double t[5];
    t[0] = time_gemm(cfg, s, a, packed, c, &plain);
    t[1] = time_gemm(cfg, s, a, packed, c, &gathered);
    t[2] = planes_differ ? time_gemm(cfg, s, a, packed, c, &stepped) : t[1];
    t[3] = time_gemm(cfg, s, a, packed, c, &direct);
    for (int j = 0; j < s->n; j++) memcpy(&scale[j], &(int32_t){9}, 4);  // 2^-9, about the scale above
    eb_qs8_gemm_pack(&cfg->gemm_packing, s->n, s->k, w, NULL, scale, 3, packed);
    t[4] = time_gemm(cfg, s, a, packed, c, &shifted);
    for (int j = 0; j < 5; j++) totals[j] += t[j] * s->count;
    printf("%-9s %6d %5d %5d %4d %9.1f %9.1f", s->net, s->m, s->k, s->n, s->count, t[0] * 1e6, t[1] * 1e6);
    if (planes_differ) printf(" %9.1f", t[2] * 1e6);
    printf(" %9.1f %9.1f\n", t[3] * 1e6, t[4] * 1e6);
    free(a); free(w); free(scale); free(packed); free(c);
  }
  printf("total (counts applied): %.1f / %.1f", totals[0] * 1e6, totals[1] * 1e6);
  if (planes_differ) printf(" / %.1f", totals[2] * 1e6);
  printf(" / %.1f / %.1f us\n", totals[3] * 1e6, totals[4] * 1e6);
}

// SwinV2-T's window attention (256 input, window 8: 64 tokens, head_dim 32), all twelve blocks with
// int8 input as the runtime runs them (one window per call; every other block shifted, with a mask), per
// float build; the int8 values alone where the build reads nothing else, else with their float copy.
typedef struct {
  eb_f32_window_attention_fn f;
  int alone;
  int8_t* q8[4];
  float* qf[4];
  float *out, *bias, *mask, *scale, *scratch;
} attention_run;

static const size_t att_windows[4] = {64, 16, 4, 1}, att_heads[4] = {3, 6, 12, 24}, att_blocks[4] = {2, 2, 6, 2};

static void run_attention(const void* ctx) {
  const attention_run* a = ctx;
  const size_t n = 64, d = 32;
  for (int s = 0; s < 4; s++) {
    const size_t c = att_heads[s] * d, stride = 3 * c;
    for (size_t b = 0; b < att_blocks[s]; b++) {
      for (size_t w = 0; w < att_windows[s]; w++) {
        a->f(a->alone ? NULL : a->qf[s] + w * n * stride, a->q8[s] + w * n * stride, -3, 0.05f, a->out + w * n * c, 1, n, att_heads[s], d,
             a->scale, a->bias, b % 2 ? a->mask + w * n * n : NULL, a->scratch);
      }
    }
  }
}

static void attention_bench(const char* name, eb_f32_window_attention_fn f, eb_f32_window_attention_int8_only_fn only) {
  const size_t n = 64, d = 32;
  attention_run a = {f, only(n, d), {0}, {0}, 0, 0, 0, 0, 0};
  for (int s = 0; s < 4; s++) {
    const size_t count = att_windows[s] * n * 3 * att_heads[s] * d;
    a.q8[s] = alloc64(count);
    a.qf[s] = alloc64(count * sizeof(float));
    for (size_t i = 0; i < count; i++) {
      a.q8[s][i] = (int8_t)((i * 2654435761u) >> 13);
      a.qf[s][i] = (float)(a.q8[s][i] + 3);
    }
  }
  a.out = alloc64(64 * n * 3 * 32 * sizeof(float));
  a.bias = alloc64(24 * n * n * sizeof(float));
  a.mask = alloc64(64 * n * n * sizeof(float));
  a.scale = alloc64(24 * sizeof(float));
  a.scratch = alloc64(eb_f32_window_attention_scratch(n, d));
  for (size_t i = 0; i < 24 * n * n; i++) a.bias[i] = (float)((i * 40503u) % 1000) / 100.0f - 5.0f;
  for (size_t i = 0; i < 64 * n * n; i++) a.mask[i] = i % 7 == 0 ? -100.0f : 0.0f;
  for (int h = 0; h < 24; h++) a.scale[h] = 10.0f + (float)h;
  printf("%-8s SwinV2-T attention, 12 blocks, int8 input%s: %.3f ms\n", name, a.alone ? " (int8 values alone)" : "",
         median_time(run_attention, &a) * 1e3);
  for (int s = 0; s < 4; s++) {
    free(a.q8[s]);
    free(a.qf[s]);
  }
  free(a.out); free(a.bias); free(a.mask); free(a.scale); free(a.scratch);
}

int main(int argc, char** argv) {
  const uint32_t f = eb_cpu_features();
  double peak = 0;
#if defined(__x86_64__)
  if (f & EB_CPU_X86_AVX512VNNI) {
    peak = vnni_peak_gmacs();
    printf("measured single-core peak (12 or 16 chains of vpdpbusd zmm, best): %.1f GMAC/s\n\n", peak);
  }
#endif
  const char* only = argc > 1 ? argv[1] : NULL;
  for (int isa = EB_ISA_SCALAR; isa <= EB_ISA_AVX512VBMI; isa++) {
    const eb_kernel_config* cfg = eb_kernel_config_for(isa);
    if (cfg == NULL || !eb_isa_supported(isa, f)) continue;
    if (only != NULL && strcmp(only, cfg->name) != 0) continue;
    printf("== %s: %s\n", cfg->name, cfg->gemm_name);
    printf("%-9s %6s %5s %5s %4s %10s %8s %7s\n", "net", "M", "K", "N", "x", "time_us", "GMAC/s", "%peak");
    double total_macs[2] = {0, 0}, total_time[2] = {0, 0};
    for (size_t i = 0; i < sizeof gemms / sizeof *gemms; i++) {
      const gemm_shape* s = &gemms[i];
      int8_t* a = alloc64((size_t)s->m * s->k + EB_EXTRA_BYTES);
      int8_t* w = malloc((size_t)s->n * s->k);
      int32_t* bias = calloc(s->n, 4);
      float* scale = malloc(s->n * 4);
      for (size_t j = 0; j < (size_t)s->m * s->k + EB_EXTRA_BYTES; j++) a[j] = (int8_t)(j * 37 + 11);
      for (size_t j = 0; j < (size_t)s->n * s->k; j++) w[j] = (int8_t)((j * 53 + 7) % 255 - 127);
      for (int j = 0; j < s->n; j++) scale[j] = 1e-4f;
      void* packed = alloc64(eb_qs8_gemm_packed_size(&cfg->gemm_packing, s->n, s->k));
      eb_qs8_gemm_pack(&cfg->gemm_packing, s->n, s->k, w, bias, scale, 3, packed);
      int8_t* c = alloc64((size_t)s->m * s->n);
      eb_qs8_requant_params p = {0, -128, 127, NULL};
      const double t = time_gemm(cfg, s, a, packed, c, &p);
      const double macs = (double)s->m * s->k * s->n;
      const double g = macs / t / 1e9;
      const int net = s->net[0] == 'B' ? 0 : 1;
      total_macs[net] += macs * s->count;
      total_time[net] += t * s->count;
      if (peak > 0) printf("%-9s %6d %5d %5d %4d %10.1f %8.1f %6.0f%%\n", s->net, s->m, s->k, s->n, s->count, t * 1e6, g, 100 * g / peak);
      else printf("%-9s %6d %5d %5d %4d %10.1f %8.1f %7s\n", s->net, s->m, s->k, s->n, s->count, t * 1e6, g, "-");
      free(a); free(w); free(bias); free(scale); free(packed); free(c);
    }
    printf("all B0 1x1 layers: %.3f ms (%.1f GMAC/s); all SwinV2-T linear layers: %.3f ms (%.1f GMAC/s)\n",
           total_time[0] * 1e3, total_macs[0] / total_time[0] / 1e9, total_time[1] * 1e3, total_macs[1] / total_time[1] / 1e9);

    // B0's depthwise layers all end in SiLU: timed plain and with the 9-bit table too, requantized by
    // fp32 scales and by shifts (the quantizer's default for table layers).
    static int8_t dw_lut9[512 + 64];
    silu_like_table9(dw_lut9);
    printf("\n%s: depthwise (B0 shapes)\n%-16s %3s %2s %4s %10s %8s %8s %10s %10s\n", cfg->dwconv_name, "HxWxC", "k", "s", "x", "time_us",
           "GB/s", "GMAC/s", "9-bit_us", "shifted_us");
    double dw_total = 0, dw_total9 = 0, dw_total9s = 0;
    for (size_t i = 0; i < sizeof dws / sizeof *dws; i++) {
      const dw_shape* s = &dws[i];
      const size_t oh = (s->h + s->s - 1) / s->s, ow = (s->w + s->s - 1) / s->s, taps = s->k * s->k;
      const size_t pad = (s->k - 1) / 2;
      int8_t* x = alloc64((size_t)s->h * s->w * s->c + EB_EXTRA_BYTES);
      int8_t* wt = malloc(taps * s->c);
      int32_t* bias = calloc(s->c, 4);
      float* scale = malloc(s->c * 4);
      int8_t* zero = calloc(s->c + EB_EXTRA_BYTES, 1);
      for (size_t j = 0; j < (size_t)s->h * s->w * s->c; j++) x[j] = (int8_t)(j * 29 + 5);
      for (size_t j = 0; j < taps * s->c; j++) wt[j] = (int8_t)((j * 31) % 255 - 127);
      for (int j = 0; j < s->c; j++) scale[j] = 1e-3f;
      const size_t psize = eb_qs8_dwconv_packed_size(&cfg->dwconv_packing, s->c, taps);
      void* packed = alloc64(psize);
      eb_qs8_dwconv_pack(&cfg->dwconv_packing, s->c, taps, wt, bias, scale, 0, packed);
      int8_t* y = alloc64(oh * ow * s->c);
      eb_qs8_requant_params p = {0, -128, 127, NULL};
      const dw_run d = {cfg, s, x, packed, y, pad, oh, ow, zero, &p};
      const double t = median_time(run_dw, &d);
      eb_qs8_requant_params p9 = {0, -256, 255, dw_lut9, NULL};
      const dw_run d9 = {cfg, s, x, packed, y, pad, oh, ow, zero, &p9};
      const double t9 = median_time(run_dw, &d9);
      dw_total9 += t9 * s->count;
      for (int j = 0; j < s->c; j++) memcpy(&scale[j], &(int32_t){10}, 4);  // 2^-10, about the scale above
      eb_qs8_dwconv_pack(&cfg->dwconv_packing, s->c, taps, wt, bias, scale, 0, packed);
      eb_qs8_requant_params p9s = {-256, -256, 255, dw_lut9, NULL, 1};  // zero point qmin: the base in the bias, as the runtime packs it
      const dw_run d9s = {cfg, s, x, packed, y, pad, oh, ow, zero, &p9s};
      const double t9s = median_time(run_dw, &d9s);
      dw_total9s += t9s * s->count;
      const double bytes = (double)s->h * s->w * s->c + (double)oh * ow * s->c + (double)psize;
      const double macs = (double)oh * ow * s->c * taps;
      dw_total += t * s->count;
      char dims[32];
      snprintf(dims, sizeof dims, "%dx%dx%d", s->h, s->w, s->c);
      printf("%-16s %3d %2d %4d %10.1f %8.2f %8.2f %10.1f %10.1f\n", dims, s->k, s->s, s->count, t * 1e6, bytes / t / 1e9, macs / t / 1e9,
             t9 * 1e6, t9s * 1e6);
      free(x); free(wt); free(bias); free(scale); free(zero); free(packed); free(y);
    }
    printf("all B0 depthwise layers: %.3f ms (with the 9-bit table: %.3f ms; shifted: %.3f ms)\n", dw_total * 1e3, dw_total9 * 1e3,
           dw_total9s * 1e3);
    table_epilogues(cfg);
    printf("\n");
  }
  if (only == NULL || strcmp(only, "attention") == 0) {
    attention_bench("scalar", eb_f32_window_attention_ukernel__scalar, eb_f32_window_attention_int8_only__scalar);
#if defined(__x86_64__)
    if (eb_isa_supported(EB_ISA_AVX2, f))
      attention_bench("avx2", eb_f32_window_attention_ukernel__avx2, eb_f32_window_attention_int8_only__avx2);
    if (eb_isa_supported(EB_ISA_AVX512VNNI, f))
      attention_bench("avx512f", eb_f32_window_attention_ukernel__avx512f, eb_f32_window_attention_int8_only__avx512f);
#elif defined(__aarch64__)
    attention_bench("neon", eb_f32_window_attention_ukernel__neon, eb_f32_window_attention_int8_only__neon);
    if (eb_isa_supported(EB_ISA_NEONDOT, f))
      attention_bench("neondot", eb_f32_window_attention_ukernel__neondot, eb_f32_window_attention_int8_only__neondot);
#endif
  }
  return 0;
}
