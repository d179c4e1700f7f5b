// Batch-norm kernels for block passes (see batchnorm.h, "Block passes"): the reductions over
// rows of bn_forward_train and bn_backward as separate steps, and the passes that use their
// global results. Threads own column blocks of 64 features, so no sum depends on the thread count.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "batchnorm_blocks.h"
#include "nncore/batchnorm.h"
#include "nncore/threading.h"

namespace nncore {

namespace {
using bn_blocks::kBlock;
inline bool parallel_ok(int n, int c) { return (long)n * c > (1L << 15) && c > kBlock; }
inline int nblocks(int c) { return (c + kBlock - 1) / kBlock; }

// Runs f(j0, j1) over the column blocks of c features, on threads when the work pays for it.
template <class F>
void over_column_blocks(int n, int c, F f) {
  const int nb = nblocks(c);
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < nb; ++b) f(b * kBlock, std::min(c, (b + 1) * kBlock));
}

// dy of row i masked by the fused ReLU's output (as the activation kernel: ry > 0 ? dy : 0).
inline float grad_at(const float* dy, const float* ry, std::size_t k) {
  return ry ? (ry[k] > 0.f ? dy[k] : 0.f) : dy[k];
}
}  // namespace

void bn_sum_rows(double* s, const float* x, int n, int c) {
  over_column_blocks(n, c, [&](int j0, int j1) {
    double acc[kBlock] = {};
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c;
#pragma omp simd
      for (int j = j0; j < j1; ++j) acc[j - j0] += xr[j];
    }
    for (int j = j0; j < j1; ++j) s[j] = acc[j - j0];
  });
}

void bn_sum_squared_deviations(double* q, const float* x, const double* mean, int n, int c) {
  over_column_blocks(n, c, [&](int j0, int j1) {
    double acc[kBlock] = {};
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c;
#pragma omp simd
      for (int j = j0; j < j1; ++j) {
        const double d = double(xr[j]) - mean[j];
        acc[j - j0] += d * d;
      }
    }
    for (int j = j0; j < j1; ++j) q[j] = acc[j - j0];
  });
}

void bn_normalize(float* y, const float* x, const float* mean, const float* invstd,
                  const float* gamma, const float* beta, int n, int c, bool relu) {
  over_column_blocks(n, c, [&](int j0, int j1) {
    float sc[kBlock], sh[kBlock];
    for (int j = j0; j < j1; ++j) {
      sc[j - j0] = gamma ? invstd[j] * gamma[j] : invstd[j];
      sh[j - j0] = beta ? beta[j] : 0.f;
    }
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c;
      float* yr = y + std::size_t(i) * c;
#pragma omp simd
      for (int j = j0; j < j1; ++j) {
        const float v = (xr[j] - mean[j]) * sc[j - j0] + sh[j - j0];
        yr[j] = relu ? (v > 0.f ? v : 0.f) : v;
      }
    }
  });
}

void bn_sum_grads(double* sums, const float* dy, const float* relu_y, const float* x,
                  const float* mean, const float* invstd, int n, int c) {
  over_column_blocks(n, c, [&](int j0, int j1) {
    double sdy[kBlock] = {}, sdyx[kBlock] = {};
    for (int i = 0; i < n; ++i) {
      const std::size_t r = std::size_t(i) * c;
      for (int j = j0; j < j1; ++j) {
        const float g = grad_at(dy, relu_y, r + j);
        sdy[j - j0] += g;
        sdyx[j - j0] += double(g) * ((double(x[r + j]) - mean[j]) * invstd[j]);
      }
    }
    for (int j = j0; j < j1; ++j) {
      sums[j] = sdy[j - j0];
      sums[c + j] = sdyx[j - j0];
    }
  });
}

void bn_backward_dx(float* dx, const float* dy, const float* relu_y, const float* x,
                    const float* mean, const float* invstd, const float* gamma, const double* sums,
                    double count, int n, int c) {
  over_column_blocks(n, c, [&](int j0, int j1) {
    double sc[kBlock], a[kBlock], bq[kBlock];
    for (int j = j0; j < j1; ++j) {
      sc[j - j0] = double(gamma ? gamma[j] : 1.f) * invstd[j];
      a[j - j0] = sums[j] / count;
      bq[j - j0] = sums[c + j] / count;
    }
    for (int i = 0; i < n; ++i) {
      const std::size_t r = std::size_t(i) * c;
      for (int j = j0; j < j1; ++j) {
        const double xh = (double(x[r + j]) - mean[j]) * invstd[j];
        const double g = grad_at(dy, relu_y, r + j);
        dx[r + j] = float(sc[j - j0] * (g - a[j - j0] - xh * bq[j - j0]));
      }
    }
  });
}

}  // namespace nncore
