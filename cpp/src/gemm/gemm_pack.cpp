// Portable packing of A and B blocks into the micro-kernel's sliver layout (gemm_internal.h).
// Transposes are handled here, so one micro-kernel serves every layout. Leaves out SIMD
// transposes (the ISA files bring their own B packing for the weight re-pack).
#include <algorithm>
#include <cstring>

#include "gemm/gemm_internal.h"

namespace nncore::gemm {

// dst: ceil(m/mr) slivers of kc×mr; op(A)(i, k) = ta==N ? A[i*lda + k] : A[k*lda + i]
void pack_a_generic(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                    int mr, float* dst) {
  for (int s = 0; s < m; s += mr) {
    const int rows = std::min(mr, m - s);
    float* d = dst + (std::ptrdiff_t)s * kc;  // sliver s/mr starts at (s/mr)*kc*mr
    if (ta == Trans::T) {
      const float* src = A + (std::ptrdiff_t)p0 * lda + i0 + s;
      for (int k = 0; k < kc; ++k)
        std::memcpy(d + (std::ptrdiff_t)k * mr, src + k * lda, sizeof(float) * rows);
    } else {
      // 4 source rows at a time: reads stay sequential, writes land in one cache line per k.
      int r = 0;
      for (; r + 4 <= rows; r += 4) {
        const float* s0 = A + (std::ptrdiff_t)(i0 + s + r) * lda + p0;
        const float* s1 = s0 + lda;
        const float* s2 = s1 + lda;
        const float* s3 = s2 + lda;
        float* dd = d + r;
        for (int k = 0; k < kc; ++k) {
          dd[(std::ptrdiff_t)k * mr + 0] = s0[k];
          dd[(std::ptrdiff_t)k * mr + 1] = s1[k];
          dd[(std::ptrdiff_t)k * mr + 2] = s2[k];
          dd[(std::ptrdiff_t)k * mr + 3] = s3[k];
        }
      }
      for (; r < rows; ++r) {
        const float* s0 = A + (std::ptrdiff_t)(i0 + s + r) * lda + p0;
        for (int k = 0; k < kc; ++k) d[(std::ptrdiff_t)k * mr + r] = s0[k];
      }
    }
  }
}

// dst: ceil(n/nr) slivers of kc×nr (zero-padded); op(B)(k, j) = tb==N ? B[k*ldb + j] : B[j*ldb + k]
void pack_b_generic(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0, int n,
                    int nr, float* dst) {
  for (int s = 0; s < n; s += nr) {
    const int cols = std::min(nr, n - s);
    float* d = dst + (std::ptrdiff_t)s * kc;
    if (tb == Trans::N) {
      const float* src = B + (std::ptrdiff_t)p0 * ldb + j0 + s;
      for (int k = 0; k < kc; ++k) {
        std::memcpy(d + (std::ptrdiff_t)k * nr, src + k * ldb, sizeof(float) * cols);
        if (cols < nr)
          std::memset(d + (std::ptrdiff_t)k * nr + cols, 0, sizeof(float) * (nr - cols));
      }
    } else {
      for (int c = 0; c < cols; ++c) {
        const float* src = B + (std::ptrdiff_t)(j0 + s + c) * ldb + p0;
        for (int k = 0; k < kc; ++k) d[(std::ptrdiff_t)k * nr + c] = src[k];
      }
      if (cols < nr)
        for (int k = 0; k < kc; ++k)
          std::memset(d + (std::ptrdiff_t)k * nr + cols, 0, sizeof(float) * (nr - cols));
    }
  }
}

}  // namespace nncore::gemm
