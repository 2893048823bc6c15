// The kernel table per ISA level, chosen once at load (XNNPACK's hardware-config idea, small).
#include <CEdgeboneKernels.h>
#include <stddef.h>

int eb_isa_supported(int isa, uint32_t f) {
  switch (isa) {
    case EB_ISA_SCALAR: return 1;
#if defined(__x86_64__)
    case EB_ISA_AVX2: return (f & EB_CPU_X86_AVX2) != 0;
    case EB_ISA_AVX512VNNI: return (f & EB_CPU_X86_AVX512VNNI) != 0;
    case EB_ISA_AVX512VBMI: return (f & EB_CPU_X86_AVX512VNNI) != 0 && (f & EB_CPU_X86_AVX512VBMI) != 0;
#elif defined(__aarch64__)
    case EB_ISA_NEON: return (f & EB_CPU_ARM_NEON) != 0;
    case EB_ISA_NEONDOT: return (f & EB_CPU_ARM_NEONDOT) != 0;
#endif
    default: return 0;
  }
}

int eb_best_isa(uint32_t f) {
  const int order[] = {EB_ISA_AVX512VBMI, EB_ISA_AVX512VNNI, EB_ISA_AVX2, EB_ISA_NEONDOT, EB_ISA_NEON};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    if (eb_isa_supported(order[i], f)) return order[i];
  }
  return EB_ISA_SCALAR;
}

static const eb_kernel_config eb_configs[] = {
    {EB_ISA_SCALAR, "scalar", eb_qs8_qc8w_gemm_fp32_ukernel_4x4c1__scalar,
     "qs8_qc8w_gemm_fp32_4x4c1__scalar", 4, {4, 4, 1, 1, 0},
     eb_qs8_qc8w_dwconv_fp32_ukernel_4c__scalar, "qs8_qc8w_dwconv_fp32_4c__scalar", {4, 1, 0},
     eb_qs8_vadd_ukernel__scalar, eb_qs8_vmulc_ukernel__scalar, eb_qs8_gavgpool_ukernel__scalar, eb_x8_lut_ukernel__scalar,
     eb_qs8_qc8w_gemv_f32__scalar, eb_x8_xor80},
#if defined(__x86_64__)
    {EB_ISA_AVX2, "avx2", eb_qs8_qc8w_gemm_fp32_ukernel_4x8c2__avx2,
     "qs8_qc8w_gemm_fp32_4x8c2__avx2", 4, {8, 8, 2, 2, 0},
     eb_qs8_qc8w_dwconv_fp32_ukernel_8c__avx2, "qs8_qc8w_dwconv_fp32_8c__avx2", {8, 4, 0},
     eb_qs8_vadd_ukernel__avx2, eb_qs8_vmulc_ukernel__avx2, eb_qs8_gavgpool_ukernel__avx2, eb_x8_lut_ukernel__avx2,
     eb_qs8_qc8w_gemv_f32__avx2, eb_x8_xor80},
    {EB_ISA_AVX512VNNI, "avx512vnni", eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4__avx512vnni,
     "qs8_qc8w_gemm_fp32_8x32c4__avx512vnni", 8, {32, 16, 4, 1, 1},
     eb_qs8_qc8w_dwconv_fp32_ukernel_64c4__avx512vnni, "qs8_qc8w_dwconv_fp32_64c4__avx512vnni", {64, 1, 4, 1},
     eb_qs8_vadd_ukernel__avx512skx, eb_qs8_vmulc_ukernel__avx512skx, eb_qs8_gavgpool_ukernel__avx512skx, eb_x8_lut_ukernel__avx512skx,
     eb_qs8_qc8w_gemv_f32__avx512vnni, eb_x8_xor80__avx512skx, eb_qs8_qc8w_gemm_fp32_rows_8x32c4__avx512vnni},
    // The same kernels, but table epilogues look up step planes with byte permutes instead of gathering.
    {EB_ISA_AVX512VBMI, "avx512vbmi", eb_qs8_qc8w_gemm_fp32_ukernel_8x32c4__avx512vbmi,
     "qs8_qc8w_gemm_fp32_8x32c4__avx512vbmi", 8, {32, 16, 4, 1, 1},
     eb_qs8_qc8w_dwconv_fp32_ukernel_64c4__avx512vbmi, "qs8_qc8w_dwconv_fp32_64c4__avx512vbmi", {64, 1, 4, 1},
     eb_qs8_vadd_ukernel__avx512skx, eb_qs8_vmulc_ukernel__avx512skx, eb_qs8_gavgpool_ukernel__avx512skx, eb_x8_lut_ukernel__avx512skx,
     eb_qs8_qc8w_gemv_f32__avx512vnni, eb_x8_xor80__avx512skx, eb_qs8_qc8w_gemm_fp32_rows_8x32c4__avx512vbmi},
#endif
#if defined(__aarch64__)
    {EB_ISA_NEON, "neon", eb_qs8_qc8w_gemm_fp32_ukernel_2x8c16__neon,
     "qs8_qc8w_gemm_fp32_2x8c16__neon", 2, {8, 8, 16, 1, 0},
     eb_qs8_qc8w_dwconv_fp32_ukernel_16c__neon, "qs8_qc8w_dwconv_fp32_16c__neon", {16, 1, 0},
     eb_qs8_vadd_ukernel__neon, eb_qs8_vmulc_ukernel__neon, eb_qs8_gavgpool_ukernel__neon, eb_x8_lut_ukernel__neon,
     eb_qs8_qc8w_gemv_f32__neon, eb_x8_xor80},
    {EB_ISA_NEONDOT, "neondot", eb_qs8_qc8w_gemm_fp32_ukernel_4x8c4__neondot,
     "qs8_qc8w_gemm_fp32_4x8c4__neondot", 4, {8, 8, 4, 1, 0},
     eb_qs8_qc8w_dwconv_fp32_ukernel_16c__neon, "qs8_qc8w_dwconv_fp32_16c__neon", {16, 1, 0},
     eb_qs8_vadd_ukernel__neon, eb_qs8_vmulc_ukernel__neon, eb_qs8_gavgpool_ukernel__neon, eb_x8_lut_ukernel__neon,
     eb_qs8_qc8w_gemv_f32__neon, eb_x8_xor80},
#endif
};

const eb_kernel_config* eb_kernel_config_for(int isa) {
  for (size_t i = 0; i < sizeof eb_configs / sizeof eb_configs[0]; i++) {
    if (eb_configs[i].isa == isa) return &eb_configs[i];
  }
  return NULL;
}
