// NEON (aarch64 Advanced SIMD) micro-kernel: an 8×12 tile in 24 of the 32 q registers, A and B
// from packed slivers (the portable packing). Built only on aarch64 (baseline flags: Advanced
// SIMD and its fused multiply-add are mandatory there).
//
// Per element the same FMA chain as every other kernel (vfmaq_laneq_f32 is one fused, singly
// rounded a·b + acc), then the contract's finalisation: the same bits as the reference kernel.
#include <arm_neon.h>

#include "gemm/gemm_internal.h"

namespace nncore::neon {

namespace {

// One 4-column group of a full row, vectorised with the same operations as ref::finalise_tile.
// kUnit >= 0: alpha = 1, beta = 0 or 1 (bit 2: 1), bias (bit 1) and preact (bit 0) known at
// compile time, so a full tile's 24 stores run without per-store tests (as the x86 kernels,
// bench/results/issue33.md#unit-epilogue); kUnit = -1 tests them at run time.
template <int kUnit>
inline void finalise4(float32x4_t acc, float* cp, const float* bias, float* pp,
                      const gemm::UkrEpi& e) {
  constexpr bool generic = kUnit < 0;
  float32x4_t r = !generic || e.alpha == 1.f ? acc : vmulq_n_f32(acc, e.alpha);
  if (generic ? e.beta != 0.f : (kUnit & 4) != 0) {
    const float32x4_t old = vld1q_f32(cp);
    r = vaddq_f32(r, !generic || e.beta == 1.f ? old : vmulq_n_f32(old, e.beta));
  }
  if (generic ? bias != nullptr : (kUnit & 2) != 0) r = vaddq_f32(r, vld1q_f32(bias));
  if (generic ? pp != nullptr : (kUnit & 1) != 0) vst1q_f32(pp, r);
  vst1q_f32(cp, r);
}

template <int kUnit>
void finalise_full(const float32x4_t (&rows)[kMR][3], float* c, std::ptrdiff_t ldc,
                   const gemm::UkrEpi& e) {
  for (int i = 0; i < kMR; ++i)
    for (int q = 0; q < 3; ++q)
      finalise4<kUnit>(rows[i][q], c + i * ldc + 4 * q, e.bias ? e.bias + 4 * q : nullptr,
                       e.preact ? e.preact + i * e.ldp + 4 * q : nullptr, e);
}

}  // namespace

// c (m×n, ldc) <- finalise(a_sliver (kc×8) · b_sliver (kc×12)), m <= 8, n <= 12
void sgemm_ukr_neon(int m, int n, int kc, const float* a, const float* b, float* c,
                    std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  float32x4_t c00 = vdupq_n_f32(0.f), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00,
              c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00, c40 = c00,
              c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00, c60 = c00, c61 = c00,
              c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (int k = 0; k < kc; ++k) {
    const float* ak = a + (std::ptrdiff_t)k * kMR;
    const float* bk = b + (std::ptrdiff_t)k * kNR;
    const float32x4_t a0 = vld1q_f32(ak), a1 = vld1q_f32(ak + 4);
    const float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8);
    c00 = vfmaq_laneq_f32(c00, b0, a0, 0);
    c01 = vfmaq_laneq_f32(c01, b1, a0, 0);
    c02 = vfmaq_laneq_f32(c02, b2, a0, 0);
    c10 = vfmaq_laneq_f32(c10, b0, a0, 1);
    c11 = vfmaq_laneq_f32(c11, b1, a0, 1);
    c12 = vfmaq_laneq_f32(c12, b2, a0, 1);
    c20 = vfmaq_laneq_f32(c20, b0, a0, 2);
    c21 = vfmaq_laneq_f32(c21, b1, a0, 2);
    c22 = vfmaq_laneq_f32(c22, b2, a0, 2);
    c30 = vfmaq_laneq_f32(c30, b0, a0, 3);
    c31 = vfmaq_laneq_f32(c31, b1, a0, 3);
    c32 = vfmaq_laneq_f32(c32, b2, a0, 3);
    c40 = vfmaq_laneq_f32(c40, b0, a1, 0);
    c41 = vfmaq_laneq_f32(c41, b1, a1, 0);
    c42 = vfmaq_laneq_f32(c42, b2, a1, 0);
    c50 = vfmaq_laneq_f32(c50, b0, a1, 1);
    c51 = vfmaq_laneq_f32(c51, b1, a1, 1);
    c52 = vfmaq_laneq_f32(c52, b2, a1, 1);
    c60 = vfmaq_laneq_f32(c60, b0, a1, 2);
    c61 = vfmaq_laneq_f32(c61, b1, a1, 2);
    c62 = vfmaq_laneq_f32(c62, b2, a1, 2);
    c70 = vfmaq_laneq_f32(c70, b0, a1, 3);
    c71 = vfmaq_laneq_f32(c71, b1, a1, 3);
    c72 = vfmaq_laneq_f32(c72, b2, a1, 3);
  }
  const float32x4_t rows[kMR][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22},
                                    {c30, c31, c32}, {c40, c41, c42}, {c50, c51, c52},
                                    {c60, c61, c62}, {c70, c71, c72}};
  if (m == kMR && n == kNR) {
    if (e.alpha == 1.f && (e.beta == 0.f || e.beta == 1.f)) {
      switch ((e.beta != 0.f) << 2 | (e.bias != nullptr) << 1 | (e.preact != nullptr)) {
        case 0: return finalise_full<0>(rows, c, ldc, e);
        case 1: return finalise_full<1>(rows, c, ldc, e);
        case 2: return finalise_full<2>(rows, c, ldc, e);
        case 3: return finalise_full<3>(rows, c, ldc, e);
        case 4: return finalise_full<4>(rows, c, ldc, e);
        case 5: return finalise_full<5>(rows, c, ldc, e);
        case 6: return finalise_full<6>(rows, c, ldc, e);
        default: return finalise_full<7>(rows, c, ldc, e);
      }
    }
    return finalise_full<-1>(rows, c, ldc, e);
  }
  float t[kMR][kNR];
  for (int i = 0; i < kMR; ++i)
    for (int q = 0; q < 3; ++q) vst1q_f32(&t[i][4 * q], rows[i][q]);
  ref::finalise_tile(m, n, &t[0][0], kNR, c, ldc, e);
}

}  // namespace nncore::neon
