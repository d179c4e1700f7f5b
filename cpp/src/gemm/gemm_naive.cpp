// The naive twin of sgemm: the test oracle (accumulates in double).
#include "nncore/gemm.h"

#include <vector>

namespace nncore {

void sgemm_naive(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc, const Epilogue* ep) {
  if (ep && ep->a_row_sums)
    for (int i = 0; i < M; ++i) {
      float acc = 0.f;
      for (int k = 0; k < K; ++k)
        acc += ta == Trans::N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
      ep->a_row_sums[i] += acc;
    }
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) {
        double a = ta == Trans::N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
        double b = tb == Trans::N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
        s += a * b;
      }
      double c = alpha * s;
      if (beta != 0.f) c += double(beta) * C[(size_t)i * ldc + j];
      C[(size_t)i * ldc + j] = float(c);
    }
    if (ep) {
      float* row = C + (size_t)i * ldc;
      if (ep->bias)
        for (int j = 0; j < N; ++j) row[j] += ep->bias[j];
      if (ep->preact)
        for (int j = 0; j < N; ++j) ep->preact[(size_t)i * ldc + j] = row[j];
      act_forward(ep->act, ep->alpha, row, row, N);
    }
  }
}

}  // namespace nncore
