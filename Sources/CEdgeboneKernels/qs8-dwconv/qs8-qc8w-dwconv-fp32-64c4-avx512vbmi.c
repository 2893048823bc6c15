// Int8 depthwise convolution 64c4, avx512vbmi build of the AVX-512 body (table epilogues from step planes).
#if defined(__x86_64__)
#define EB_TARGET_FEATURES "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,avx2"
#define EB_NAME(name) name##__avx512vbmi
#define EB_LUT_STEPS 1
#include "qs8-qc8w-dwconv-fp32-64c4-avx512-body.h"
#endif
