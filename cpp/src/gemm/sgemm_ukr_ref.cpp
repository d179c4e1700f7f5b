// Portable reference micro-kernel (4×16 tile, baseline flags): always registered.
// Uses std::fma per element in the same order as the SIMD kernels, so every ISA gives the same
// bits; it is slow (fmaf is a library call without -mfma) and meant as the fallback/oracle path.
#include <cmath>

#include "gemm/gemm_internal.h"

namespace nncore::ref {

// The contract's finalisation of the m×n corner of an accumulator tile t (row stride ldt),
// element by element; also the edge-tile path of kernels built with baseline flags (NEON).
void finalise_tile(int m, int n, const float* t, int ldt, float* c, std::ptrdiff_t ldc,
                   const gemm::UkrEpi& e) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      const float acc = t[i * ldt + j];
      float r = e.alpha == 1.f ? acc : e.alpha * acc;
      float* cp = c + i * ldc + j;
      if (e.beta != 0.f) r = r + (e.beta == 1.f ? *cp : e.beta * *cp);
      if (e.bias) r = r + e.bias[j];
      if (e.preact) e.preact[i * e.ldp + j] = r;
      *cp = r;
    }
}

// c (m×n, ldc) <- finalise(a_sliver (kc×MR) · b_sliver (kc×NR)), m <= MR, n <= NR
void sgemm_ukr_ref(int m, int n, int kc, const float* a, const float* b, float* c,
                   std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; ++k)
    for (int i = 0; i < m; ++i) {
      const float av = a[k * kMR + i];
      for (int j = 0; j < n; ++j) acc[i][j] = std::fma(av, b[k * kNR + j], acc[i][j]);
    }
  finalise_tile(m, n, &acc[0][0], kNR, c, ldc, e);
}

}  // namespace nncore::ref
