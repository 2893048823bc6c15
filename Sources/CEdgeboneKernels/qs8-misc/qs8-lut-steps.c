// Step planes of a finely indexed table (see eb_lut_steps_encode in eb_qs8.h): a quantized activation
// on a 12-bit input grid changes by at most one output level between neighbouring entries, and by at
// most a few within 16 entries, so six 256-entry byte planes hold it exactly — and 256-entry planes
// are what two 64-byte permutes look up.
#include <CEdgeboneKernels.h>
#include <string.h>

int eb_lut_steps_encode(const int8_t* lut, size_t entries, int8_t* steps) {
  if (entries == 0 || entries > 4096) return 0;
  int8_t* base = steps;
  int8_t* up = steps + 256;     // four planes: up_j at up + 256 j
  int8_t* down = steps + 1280;
  memset(up, 16, 4 * 256);
  memset(down, 16, 256);
  memset(steps + EB_LUT_STEPS_RISES, 0, EB_LUT_STEPS_BYTES - EB_LUT_STEPS_RISES);
  int most = 0;
  for (size_t b = 0; b < 256; b++) {
    const size_t i0 = 16 * b;
    const int first = lut[i0 < entries ? i0 : entries - 1];
    base[b] = (int8_t)first;
    int prev = first, ups = 0, downs = 0;
    for (size_t l = 1; l < 16; l++) {
      const size_t i = i0 + l;
      const int v = lut[i < entries ? i : entries - 1];
      if (v == prev + 1) {
        if (ups == 4) return 0;
        up[256 * ups++ + b] = (int8_t)l;
      } else if (v == prev - 1) {
        if (downs == 1) return 0;
        down[b] = (int8_t)l;
        downs++;
      } else if (v != prev) {
        return 0;
      }
      prev = v;
    }
    if (ups > most) most = ups;
  }
  steps[EB_LUT_STEPS_RISES] = (int8_t)most;
  return 1;
}

#if defined(__x86_64__)
#include <stdlib.h>
#include <time.h>

static double eb_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Whether step planes pay depends on the core: on Zen 4 a 16-lane gather costs about as much as the
// 40-odd byte operations of a 64-entry lookup from planes costs for four of them, while cores with
// cheaper gathers (measured before on another x86 core: 379 µs gathered, 490 µs from planes) lose.
// So it is measured: an expansion GEMM of B0 (K = 16, N = 96, a SiLU-like walk) run both ways, 7
// interleaved rounds, best of each; about 2 ms, once per process.
double eb_lut_steps_gain(void) {
  const eb_kernel_config* cfg = eb_kernel_config_for(EB_ISA_AVX512VBMI);
  if (cfg == NULL || !eb_isa_supported(EB_ISA_AVX512VBMI, eb_cpu_features())) return 0;
  enum { M = 784, K = 16, N = 96 };
  int8_t* a = aligned_alloc(64, M * 64 + EB_EXTRA_BYTES);
  int8_t* c = aligned_alloc(64, M * N);
  int8_t* w = malloc(N * K);
  int8_t* lut = malloc(4096 + 64);
  int8_t* planes = malloc(EB_LUT_STEPS_BYTES);
  const size_t packed_size = eb_qs8_gemm_packed_size(&cfg->gemm_packing, N, K);
  void* packed = aligned_alloc(64, (packed_size + 63) & ~(size_t)63);
  double gain = 0;
  if (a && c && w && lut && planes && packed) {
    uint32_t s = 12345;
    for (size_t i = 0; i < M * 64 + EB_EXTRA_BYTES; i++) { s = s * 1103515245u + 12345u; a[i] = (int8_t)(s >> 24); }
    for (size_t i = 0; i < N * K; i++) { s = s * 1103515245u + 12345u; w[i] = (int8_t)((s >> 24) % 255 - 127); }
    float scale[N];
    for (size_t j = 0; j < N; j++) scale[j] = 0.004f;
    for (int i = 0; i < 4096 + 64; i++) lut[i] = (int8_t)(i < 4096 ? i / 32 - 64 : 63);  // one rise in 32
    eb_qs8_gemm_pack(&cfg->gemm_packing, N, K, w, NULL, scale, 0, packed);
    if (eb_lut_steps_encode(lut, 4096, planes)) {
      const eb_qs8_requant_params gathered = {0, -2048, 2047, lut, NULL}, stepped = {0, -2048, 2047, lut, planes};
      double best[2] = {1e9, 1e9};
      for (int round = 0; round < 7; round++) {
        for (int way = 0; way < 2; way++) {
          const double t0 = eb_seconds();
          for (int rep = 0; rep < 4; rep++) eb_qs8_gemm_rows(cfg, 0, M, N, K, a, 64, packed, c, N, way ? &stepped : &gathered);
          const double t = eb_seconds() - t0;
          if (t < best[way]) best[way] = t;
        }
      }
      gain = best[0] / best[1];
    }
  }
  free(a); free(c); free(w); free(lut); free(planes); free(packed);
  return gain;
}
#else
double eb_lut_steps_gain(void) { return 0; }
#endif
