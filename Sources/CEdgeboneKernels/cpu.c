// CPU feature probe: cpuid/xgetbv on x86-64, getauxval on AArch64 Linux. Called once at load.
#include <CEdgeboneKernels.h>

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t eb_xgetbv0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

uint32_t eb_cpu_features(void) {
  uint32_t eax, ebx, ecx, edx, features = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  const int osxsave = (ecx >> 27) & 1, fma = (ecx >> 12) & 1;
  if (!osxsave) return 0;
  const uint64_t xcr0 = eb_xgetbv0();
  const int ymm_os = (xcr0 & 0x6) == 0x6;
  const int zmm_os = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_max(0, 0) < 7) return 0;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const int avx2 = (ebx >> 5) & 1;
  const int avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1;
  const int avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
  const int vnni = (ecx >> 11) & 1, vbmi = (ecx >> 1) & 1;
  if (ymm_os && avx2 && fma) features |= EB_CPU_X86_AVX2;
  if (zmm_os && (features & EB_CPU_X86_AVX2) && avx512f && avx512dq && avx512bw && avx512vl) {
    features |= EB_CPU_X86_AVX512F;
    if (vnni) features |= EB_CPU_X86_AVX512VNNI;
    if (vbmi) features |= EB_CPU_X86_AVX512VBMI;
  }
  return features;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif

uint32_t eb_cpu_features(void) {
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  uint32_t features = EB_CPU_ARM_NEON;  // Advanced SIMD is mandatory on AArch64
  if (hwcap & HWCAP_ASIMDDP) features |= EB_CPU_ARM_NEONDOT;
  if (hwcap2 & HWCAP2_I8MM) features |= EB_CPU_ARM_I8MM;
  return features;
}

#else
uint32_t eb_cpu_features(void) { return 0; }
#endif

#if defined(__x86_64__)
#include <immintrin.h>
uint64_t eb_fp_flush_denormals(void) {
  const unsigned int old = _mm_getcsr();
  _mm_setcsr(old | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
  return old;
}
void eb_fp_restore(uint64_t state) { _mm_setcsr((unsigned int)state); }
#elif defined(__aarch64__)
uint64_t eb_fp_flush_denormals(void) {
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  __asm__ volatile("msr fpcr, %0" ::"r"(fpcr | (1ull << 24)));  // FZ
  return fpcr;
}
void eb_fp_restore(uint64_t state) { __asm__ volatile("msr fpcr, %0" ::"r"(state)); }
#else
uint64_t eb_fp_flush_denormals(void) { return 0; }
void eb_fp_restore(uint64_t state) { (void)state; }
#endif
