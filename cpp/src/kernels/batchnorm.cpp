// Batch-norm kernels (see batchnorm.h). Column blocks of kBlock features are the unit of work:
// each reduction over rows runs in double, in row order, vectorised across the block's features.
// Two passes (mean, then centred squares) keep the variance accurate for large means.
#include "nncore/batchnorm.h"

#include <algorithm>
#include <cmath>

#include "nncore/threading.h"

namespace nncore {

namespace {
constexpr int kBlock = 64;

inline bool parallel_ok(int n, int c) { return (long)n * c > (1L << 15) && c > kBlock; }
inline int nblocks(int c) { return (c + kBlock - 1) / kBlock; }
}  // namespace

void bn_forward_train(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                      const float* beta, int n, int c, float eps, float momentum,
                      float* running_mean, float* running_var) {
  const int nb = nblocks(c);
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < nb; ++b) {
    const int j0 = b * kBlock, w = std::min(c, j0 + kBlock) - j0;
    double s[kBlock], q[kBlock];
    float mu[kBlock], is[kBlock], sc[kBlock], sh[kBlock];
    for (int j = 0; j < w; ++j) s[j] = q[j] = 0;
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) s[j] += xr[j];
    }
    double md[kBlock];
    for (int j = 0; j < w; ++j) md[j] = s[j] / n;
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) {
        const double d = double(xr[j]) - md[j];
        q[j] += d * d;
      }
    }
    for (int j = 0; j < w; ++j) {
      const double var = q[j] / n;
      mu[j] = float(md[j]);
      is[j] = float(1.0 / std::sqrt(var + double(eps)));
      sc[j] = gamma ? is[j] * gamma[j0 + j] : is[j];
      sh[j] = beta ? beta[j0 + j] : 0.f;
      mean[j0 + j] = mu[j];
      invstd[j0 + j] = is[j];
      if (running_mean) {
        const double m = momentum;
        running_mean[j0 + j] = float((1 - m) * running_mean[j0 + j] + m * md[j]);
        const double unbiased = n > 1 ? q[j] / (n - 1) : var;
        running_var[j0 + j] = float((1 - m) * running_var[j0 + j] + m * unbiased);
      }
    }
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
      float* yr = y + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) yr[j] = (xr[j] - mu[j]) * sc[j] + sh[j];
    }
  }
}

void bn_forward_eval(float* y, float* invstd, const float* x, const float* gamma, const float* beta,
                     const float* running_mean, const float* running_var, int n, int c, float eps) {
  const int nb = nblocks(c);
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < nb; ++b) {
    const int j0 = b * kBlock, w = std::min(c, j0 + kBlock) - j0;
    float mu[kBlock], sc[kBlock], sh[kBlock];
    for (int j = 0; j < w; ++j) {
      const float is = float(1.0 / std::sqrt(double(running_var[j0 + j]) + double(eps)));
      invstd[j0 + j] = is;
      mu[j] = running_mean[j0 + j];
      sc[j] = gamma ? is * gamma[j0 + j] : is;
      sh[j] = beta ? beta[j0 + j] : 0.f;
    }
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
      float* yr = y + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) yr[j] = (xr[j] - mu[j]) * sc[j] + sh[j];
    }
  }
}

void bn_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                 const float* mean, const float* invstd, const float* gamma, int n, int c,
                 bool training) {
  const int nb = nblocks(c);
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < nb; ++b) {
    const int j0 = b * kBlock, w = std::min(c, j0 + kBlock) - j0;
    double sdy[kBlock], sdyx[kBlock];
    float mu[kBlock], is[kBlock];
    for (int j = 0; j < w; ++j) {
      sdy[j] = sdyx[j] = 0;
      mu[j] = mean[j0 + j];
      is[j] = invstd[j0 + j];
    }
    // Σ dy and Σ dy·x̂ per feature.
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
      const float* gr = dy + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) {
        sdy[j] += gr[j];
        sdyx[j] += double(gr[j]) * ((double(xr[j]) - mu[j]) * is[j]);
      }
    }
    if (dbeta)
      for (int j = 0; j < w; ++j) dbeta[j0 + j] += float(sdy[j]);
    if (dgamma)
      for (int j = 0; j < w; ++j) dgamma[j0 + j] += float(sdyx[j]);
    if (!dx) continue;
    if (!training) {
      float sc[kBlock];
      for (int j = 0; j < w; ++j) sc[j] = gamma ? is[j] * gamma[j0 + j] : is[j];
      for (int i = 0; i < n; ++i) {
        const float* gr = dy + std::size_t(i) * c + j0;
        float* dr = dx + std::size_t(i) * c + j0;
#pragma omp simd
        for (int j = 0; j < w; ++j) dr[j] = gr[j] * sc[j];
      }
      continue;
    }
    // dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂))
    double sc[kBlock], a[kBlock], bq[kBlock];
    for (int j = 0; j < w; ++j) {
      sc[j] = double(gamma ? gamma[j0 + j] : 1.f) * is[j];
      a[j] = sdy[j] / n;
      bq[j] = sdyx[j] / n;
    }
    for (int i = 0; i < n; ++i) {
      const float* xr = x + std::size_t(i) * c + j0;
      const float* gr = dy + std::size_t(i) * c + j0;
      float* dr = dx + std::size_t(i) * c + j0;
#pragma omp simd
      for (int j = 0; j < w; ++j) {
        const double xh = (double(xr[j]) - mu[j]) * is[j];
        dr[j] = float(sc[j] * (double(gr[j]) - a[j] - xh * bq[j]));
      }
    }
  }
}

}  // namespace nncore
