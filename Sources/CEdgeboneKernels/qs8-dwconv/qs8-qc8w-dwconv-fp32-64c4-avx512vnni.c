// Int8 depthwise convolution 64c4, avx512vnni build of the AVX-512 body.
#if defined(__x86_64__)
#define EB_TARGET_FEATURES "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2"
#define EB_NAME(name) name##__avx512vnni
#define EB_LUT_STEPS 0
#include "qs8-qc8w-dwconv-fp32-64c4-avx512-body.h"
#endif
