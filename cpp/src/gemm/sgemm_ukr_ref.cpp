// Portable reference micro-kernel (4×16 tile, baseline flags): always registered.
// Uses std::fma per element in the same order as the SIMD kernels, so every ISA gives the same
// bits; it is slow (fmaf is a library call without -mfma) and meant as the fallback/oracle path.
#include <cmath>

#include "gemm/gemm_internal.h"

namespace nncore::ref {

// c (m×n, ldc) <- finalise(a_sliver (kc×MR) · b_sliver (kc×NR)), m <= MR, n <= NR
void sgemm_ukr_ref(int m, int n, int kc, const float* a, const float* b, float* c,
                   std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; ++k)
    for (int i = 0; i < m; ++i) {
      const float av = a[k * kMR + i];
      for (int j = 0; j < n; ++j) acc[i][j] = std::fma(av, b[k * kNR + j], acc[i][j]);
    }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float r = e.alpha == 1.f ? acc[i][j] : e.alpha * acc[i][j];
      float* cp = c + i * ldc + j;
      if (e.beta != 0.f) r = r + (e.beta == 1.f ? *cp : e.beta * *cp);
      if (e.bias) r = r + e.bias[j];
      if (e.preact) e.preact[i * e.ldp + j] = r;
      *cp = r;
    }
}

}  // namespace nncore::ref
