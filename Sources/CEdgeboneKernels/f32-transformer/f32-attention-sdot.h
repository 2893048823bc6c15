// The int8 forms of the window attention for NEON with the dot product (Cortex-A76, Pi 5), included by
// the transformer body when EB_SDOT is set (f32-transformer-neondot.c). Every sum is taken from the
// int8 values with sdot (signed × signed, four products per lane): the same integers the float path adds
// up from x − z, so the same bits as every other build. Head dimensions a multiple of 16.
//   logits: Σ (q − z)(k − z) = Σ q k − z Σ k − z Σ q + d z², as raw − ccol[j] − crow[i];
//   outputs: Σ u (v − z) = Σ (u − 128) v + 128 Σ v − z Σ u (the weights u ≤ 255 enter as u − 128).
#include <arm_neon.h>  // (eb_exp255x4: f32-attention-neon.h)

// One head's row statistics (scale / |q_i|, 1 / |k_j|, crow, ccol; eb_att_stats8's formulas without the
// flip), each row summed on its own, and the keys four features per dword: kt4 [d / 4][n16][4].
static inline __attribute__((always_inline)) void EB_NAME(eb_att_stats_sdot)(const int8_t* q8, const int8_t* k8, size_t stride, size_t n,
                                                                             size_t n16, size_t d, int32_t z, float s, float* restrict qs,
                                                                             float* restrict ki, int32_t* restrict crow,
                                                                             int32_t* restrict ccol, int8_t* restrict kt4) {
  const int8x16_t ones = vdupq_n_s8(1);
  const int32_t dzz = (int32_t)d * z * z;
  for (size_t i = 0; i < n; i++) {
    const int8_t* qi = q8 + i * stride;
    const int8_t* kr = k8 + i * stride;
    int32x4_t qq = vdupq_n_s32(0), q1 = qq, kk = qq, k1 = qq;
    for (size_t e = 0; e < d; e += 16) {
      const int8x16_t x = vld1q_s8(qi + e), y = vld1q_s8(kr + e);
      qq = vdotq_s32(qq, x, x);
      q1 = vdotq_s32(q1, x, ones);
      kk = vdotq_s32(kk, y, y);
      k1 = vdotq_s32(k1, y, ones);
      for (size_t g = 0; g < 4; g++) memcpy(kt4 + ((e / 4 + g) * n16 + i) * 4, kr + e + 4 * g, 4);
    }
    const int32_t sq = vaddvq_s32(q1), sk = vaddvq_s32(k1);
    const int32_t xq = vaddvq_s32(qq) - 2 * z * sq + dzz, xk = vaddvq_s32(kk) - 2 * z * sk + dzz;
    const float qinv = 1.0f / fmaxf(sqrtf((float)xq), 1e-12f);
    qs[i] = s * qinv;
    ki[i] = 1.0f / fmaxf(sqrtf((float)xk), 1e-12f);
    crow[i] = z * sq - dzz;
    ccol[i] = z * sk;
  }
}

// Logits of query rows r0 … (EB_ATT_ROWS computed, past `rows` repeating the last) against keys j0 … j0 + 15
// (those below n stored): 4 rows × 16 keys of int32 lanes, one sdot per row and 4 keys for each 4 features.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_logits_sdot)(const int8_t* q8, size_t stride, const int8_t* restrict kt4,
                                                                              size_t n, size_t n16, size_t d, size_t r0, size_t rows,
                                                                              size_t j0, const int32_t* restrict crow,
                                                                              const int32_t* restrict ccol, const float* restrict qs,
                                                                              const float* restrict ki, const float* restrict bh,
                                                                              const float* restrict mw, float* restrict p) {
  int32x4_t acc[EB_ATT_ROWS][4];
  const int8_t* qr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) {
    qr[r] = q8 + (r0 + (r < rows ? r : rows - 1)) * stride;
    for (size_t v = 0; v < 4; v++) acc[r][v] = vdupq_n_s32(0);
  }
  for (size_t e0 = 0; e0 < d; e0 += 16) {
    int8x16_t qv[EB_ATT_ROWS];
    for (size_t r = 0; r < EB_ATT_ROWS; r++) qv[r] = vld1q_s8(qr[r] + e0);
#define EB_SDOT_GROUP(l)                                                                  \
  {                                                                                       \
    const int8_t* kg = kt4 + ((e0 / 4 + (l)) * n16 + j0) * 4;                             \
    const int8x16_t k0 = vld1q_s8(kg), k1 = vld1q_s8(kg + 16);                            \
    const int8x16_t k2 = vld1q_s8(kg + 32), k3 = vld1q_s8(kg + 48);                       \
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {                                            \
      acc[r][0] = vdotq_laneq_s32(acc[r][0], k0, qv[r], l);                               \
      acc[r][1] = vdotq_laneq_s32(acc[r][1], k1, qv[r], l);                               \
      acc[r][2] = vdotq_laneq_s32(acc[r][2], k2, qv[r], l);                               \
      acc[r][3] = vdotq_laneq_s32(acc[r][3], k3, qv[r], l);                               \
    }                                                                                     \
  }
    EB_SDOT_GROUP(0)
    EB_SDOT_GROUP(1)
    EB_SDOT_GROUP(2)
    EB_SDOT_GROUP(3)
#undef EB_SDOT_GROUP
  }
  if (j0 + 16 <= n) {
    // Sixteen keys inside: the accumulators stay in registers (every loop unrolled, no tail).
    _Pragma("clang loop unroll(full)")
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      if (r < rows) {
        const size_t i = r0 + r;
        const float32x4_t f = vdupq_n_f32(qs[i]);
        const int32x4_t ci = vdupq_n_s32(crow[i]);
        const float* br = bh + i * n + j0;
        const float* mr = mw != NULL ? mw + i * n + j0 : NULL;
        float* pr = p + r * n + j0;
        _Pragma("clang loop unroll(full)")
        for (size_t v = 0; v < 4; v++) {
          const int32x4_t dot = vsubq_s32(vsubq_s32(acc[r][v], vld1q_s32(ccol + j0 + 4 * v)), ci);
          float32x4_t t = vmulq_f32(vcvtq_f32_s32(dot), vld1q_f32(ki + j0 + 4 * v));
          t = vmulq_f32(t, f);
          t = vaddq_f32(t, vld1q_f32(br + 4 * v));
          if (mr != NULL) t = vaddq_f32(t, vld1q_f32(mr + 4 * v));
          vst1q_f32(pr + 4 * v, t);
        }
      }
    }
    return;
  }
  for (size_t r = 0; r < rows; r++) {
    const size_t i = r0 + r;
    const float32x4_t f = vdupq_n_f32(qs[i]);
    const int32x4_t ci = vdupq_n_s32(crow[i]);
    for (size_t v = 0; v < 4 && j0 + 4 * v < n; v++) {
      const size_t j = j0 + 4 * v;
      const int32x4_t dot = vsubq_s32(vsubq_s32(acc[r][v], vld1q_s32(ccol + j)), ci);
      float32x4_t t = vmulq_f32(vcvtq_f32_s32(dot), vld1q_f32(ki + j));
      t = vmulq_f32(t, f);
      float* pr = p + r * n + j;
      if (n - j >= 4) {
        t = vaddq_f32(t, vld1q_f32(bh + i * n + j));
        if (mw != NULL) t = vaddq_f32(t, vld1q_f32(mw + i * n + j));
        vst1q_f32(pr, t);
      } else {
        float lanes[4];
        vst1q_f32(lanes, t);
        for (size_t l = 0; l < n - j; l++) {
          pr[l] = lanes[l] + bh[i * n + j + l];
          if (mw != NULL) pr[l] += mw[i * n + j + l];
        }
      }
    }
  }
}

// The integer softmax of a block of rows of logits in p (eb_att_weights' exact form: u = rint(eb_exp255(l −
// max)), the maximum exact, Σ u exact in any order) written straight out as the weights u − 128 (wb rows
// n16 apart), with rs[r] = vs / Σ u and zu[r] = z Σ u: one pass for the maximum, one for the rest (16
// weights at a time, the last n % 16 one by one).
static inline __attribute__((always_inline)) void EB_NAME(eb_att_softmax_sdot)(const float* restrict p, size_t n, size_t rows, float vs,
                                                                               int32_t z, int8_t* restrict wb, size_t n16,
                                                                               float* restrict rs, int32_t* restrict zu) {
  for (size_t r = 0; r < rows; r++) {
    const float* pr = p + r * n;
    int8_t* w = wb + r * n16;
    const float m = EB_NAME(eb_row_max_neon)(pr, n);
    size_t j;
    const float32x4_t mv = vdupq_n_f32(m);
    float32x4_t total = vdupq_n_f32(0.0f);
    for (j = 0; j + 16 <= n; j += 16) {
      // 16 weights at a time: u ≤ 255 narrows exactly to a byte, and u − 128 is that byte with its top bit flipped.
      float32x4_t u[4];
      for (size_t q = 0; q < 4; q++) {
        u[q] = vrndnq_f32(EB_NAME(eb_exp255x4)(vsubq_f32(vld1q_f32(pr + j + 4 * q), mv)));
        total = vaddq_f32(total, u[q]);
      }
      const uint16x8_t lo = vcombine_u16(vmovn_u32(vcvtq_u32_f32(u[0])), vmovn_u32(vcvtq_u32_f32(u[1])));
      const uint16x8_t hi = vcombine_u16(vmovn_u32(vcvtq_u32_f32(u[2])), vmovn_u32(vcvtq_u32_f32(u[3])));
      const uint8x16_t bytes = veorq_u8(vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)), vdupq_n_u8(0x80));
      vst1q_s8(w + j, vreinterpretq_s8_u8(bytes));
    }
    float sum = vaddvq_f32(total);
    for (; j < n; j++) {
      const float u = __builtin_rintf(EB_NAME(eb_exp255)(pr[j] - m));
      sum += u;
      w[j] = (int8_t)((int32_t)u - 128);
    }
    rs[r] = vs / sum;
    zu[r] = z * (int32_t)sum;
  }
}

// vt4 [n4 / 4][d][4]: tokens 4g … 4g + 3 of the values (past n, the zero row) interleaved so that each
// dword holds one feature's four tokens, in feature order; and vsum[e] = Σ_j v_j[e].
static inline __attribute__((always_inline)) void EB_NAME(eb_att_pack_values_sdot)(const int8_t* v8, size_t stride, size_t n, size_t n4,
                                                                                   size_t d, const int8_t* zero, int8_t* restrict vt4,
                                                                                   int32_t* restrict vsum) {
  const int8x16_t ones = vdupq_n_s8(1);
  for (size_t e = 0; e < d; e += 4) vst1q_s32(vsum + e, vdupq_n_s32(0));
  for (size_t g = 0; g < n4 / 4; g++) {
    const int8_t* row[4];
    for (size_t t = 0; t < 4; t++) row[t] = 4 * g + t < n ? v8 + (4 * g + t) * stride : zero;
    for (size_t e0 = 0; e0 < d; e0 += 16) {
      const int8x16_t x0 = vld1q_s8(row[0] + e0), x1 = vld1q_s8(row[1] + e0);
      const int8x16_t x2 = vld1q_s8(row[2] + e0), x3 = vld1q_s8(row[3] + e0);
      const int16x8_t lo01 = vreinterpretq_s16_s8(vzip1q_s8(x0, x1)), hi01 = vreinterpretq_s16_s8(vzip2q_s8(x0, x1));
      const int16x8_t lo23 = vreinterpretq_s16_s8(vzip1q_s8(x2, x3)), hi23 = vreinterpretq_s16_s8(vzip2q_s8(x2, x3));
      const int8x16_t f[4] = {vreinterpretq_s8_s16(vzip1q_s16(lo01, lo23)), vreinterpretq_s8_s16(vzip2q_s16(lo01, lo23)),
                              vreinterpretq_s8_s16(vzip1q_s16(hi01, hi23)), vreinterpretq_s8_s16(vzip2q_s16(hi01, hi23))};
      int8_t* out = vt4 + (g * d + e0) * 4;
      for (size_t m = 0; m < 4; m++) {
        vst1q_s8(out + 16 * m, f[m]);
        vst1q_s32(vsum + e0 + 4 * m, vdotq_s32(vld1q_s32(vsum + e0 + 4 * m), f[m], ones));
      }
    }
  }
}

// Outputs of a block of rows for all d features from the weights as u − 128 (wb: [EB_ATT_ROWS][n16],
// rows past `rows` repeating the last) and vt4: (Σ (u − 128) v + 128 Σ v − z Σ u) · rs[r]; zu[r] = z Σ u.
static inline __attribute__((always_inline)) void EB_NAME(eb_att_values_sdot)(const int8_t* restrict wb, size_t n4, size_t n16,
                                                                              const int8_t* restrict vt4, const int32_t* restrict vsum,
                                                                              size_t d, size_t rows, const int32_t* restrict zu,
                                                                              const float* restrict rs, float* restrict o, size_t c) {
  const int8_t* wr[EB_ATT_ROWS];
  for (size_t r = 0; r < EB_ATT_ROWS; r++) wr[r] = wb + (r < rows ? r : rows - 1) * n16;
  for (size_t e0 = 0; e0 < d; e0 += 16) {
    int32x4_t acc[EB_ATT_ROWS][4];
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {
      for (size_t m = 0; m < 4; m++) acc[r][m] = vdupq_n_s32(0);
    }
    for (size_t j0 = 0; j0 < n4; j0 += 16) {
      int8x16_t w[EB_ATT_ROWS];
      for (size_t r = 0; r < EB_ATT_ROWS; r++) w[r] = vld1q_s8(wr[r] + j0);
#define EB_SDOT_TOKENS(l)                                                                 \
  if (j0 + 4 * (l) < n4) {                                                                \
    const int8_t* vg = vt4 + ((j0 / 4 + (l)) * d + e0) * 4;                               \
    const int8x16_t v0 = vld1q_s8(vg), v1 = vld1q_s8(vg + 16);                            \
    const int8x16_t v2 = vld1q_s8(vg + 32), v3 = vld1q_s8(vg + 48);                       \
    for (size_t r = 0; r < EB_ATT_ROWS; r++) {                                            \
      acc[r][0] = vdotq_laneq_s32(acc[r][0], v0, w[r], l);                                \
      acc[r][1] = vdotq_laneq_s32(acc[r][1], v1, w[r], l);                                \
      acc[r][2] = vdotq_laneq_s32(acc[r][2], v2, w[r], l);                                \
      acc[r][3] = vdotq_laneq_s32(acc[r][3], v3, w[r], l);                                \
    }                                                                                     \
  }
      EB_SDOT_TOKENS(0)
      EB_SDOT_TOKENS(1)
      EB_SDOT_TOKENS(2)
      EB_SDOT_TOKENS(3)
#undef EB_SDOT_TOKENS
    }
    for (size_t r = 0; r < rows; r++) {
      const int32x4_t zc = vdupq_n_s32(zu[r]);
      const float32x4_t f = vdupq_n_f32(rs[r]);
      for (size_t m = 0; m < 4; m++) {
        const int32x4_t sum = vsubq_s32(vaddq_s32(acc[r][m], vshlq_n_s32(vld1q_s32(vsum + e0 + 4 * m), 7)), zc);
        vst1q_f32(o + r * c + e0 + 4 * m, vmulq_f32(vcvtq_f32_s32(sum), f));
      }
    }
  }
}
