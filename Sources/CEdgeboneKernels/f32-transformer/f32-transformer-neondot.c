// Float transformer kernels, NEON build with the dot product (Cortex-A76 and later: Pi 5), selected at
// the neondot level (ISA.swift) for the window attention, whose int8 forms then take every sum from the
// int8 values with sdot (EB_SDOT, f32-attention-sdot.h), and for the int8 LayerNorm (its row sums by
// sdot); the rest is the NEON build's code again.
#include <CEdgeboneKernels.h>
#if defined(__aarch64__)
#include <arm_neon.h>
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#define EB_NAME(name) name##__neondot
#define EB_SDOT 1
#define EB_NEON 1
#include "f32-transformer-body.h"
#pragma clang attribute pop
#endif
