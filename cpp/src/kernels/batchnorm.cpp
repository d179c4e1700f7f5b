// Batch-norm kernels (see batchnorm.h): dispatch to the ISA context's column-block kernels
// (batchnorm_impl.inc) and threading over column blocks of 64 features (or wider ranges, and
// then the elementwise passes over rows: rows_split). Each reduction over rows runs in double, in
// row order, vectorised across the block's features; two passes (mean, then centred squares) keep
// the variance accurate for large means.
#include "nncore/batchnorm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "batchnorm_blocks.h"
#include "isa/context.h"
#include "nncore/common.h"
#include "nncore/threading.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

namespace {
using bn_blocks::kBlock;
using bn_blocks::kWide;
inline bool parallel_ok(int n, int c) { return (long)n * c > (1L << 15) && c > kBlock; }
inline int nblocks(int c) { return (c + kBlock - 1) / kBlock; }

// From this many rows the training kernels sweep whole rows of up to 512 features instead of
// 64-feature column blocks. A block reads 256 B per row at the row stride; at n = 2048, c = 512
// that is 512 KB per array at a 2 KB stride, which maps onto 1/8 of L2's sets, so every pass after
// the first re-reads the block from L3 (bench/results/design_choices.md#bn-row-sweep). Each column
// is reduced in row order with the same operations either way, so the bits do not change with the
// choice.
std::atomic<int> g_row_sweep_rows{1024};

// How the training kernels split the features: width ranges of width columns (the last may be
// narrower). Column blocks of 64, or for the row sweep 64-multiples of at most 512 features,
// at least one range per thread.
struct ColumnRanges {
  bool wide;
  int width, count;
};
ColumnRanges train_ranges(int n, int c) {
  const bool wide = n >= g_row_sweep_rows.load(std::memory_order_relaxed);
  const int per = (nblocks(c) + num_threads() - 1) / num_threads();
  const int width = wide ? std::min(kWide, std::max(1, per) * kBlock) : kBlock;
  return {wide, width, (c + width - 1) / width};
}

// Whether the row sweep on several threads splits its elementwise pass by rows: the reductions
// keep one thread per column range (each column summed in row order, as on one thread), then,
// after a barrier, each thread normalises (or computes dx for) its rows across every column.
// Column halves at a 2 KB row stride read 1 KB of every 2, which the hardware prefetchers
// stream past; whole rows read one contiguous range per thread
// (bench/results/issue33.md#bn-row-split).
bool rows_split(const ColumnRanges& r, int n, int c) {
  return NNCORE_HAVE_OPENMP && r.wide && num_threads() > 1 && parallel_ok(n, c);
}

// stats(j0, w) over the column ranges, one thread each; then, once all are done, rows(r0, r1)
// over each thread's share of the n rows.
template <class Stats, class Rows>
void columns_then_rows(const ColumnRanges& r, int n, int c, Stats stats, Rows rows) {
#if NNCORE_HAVE_OPENMP
#pragma omp parallel num_threads(num_threads())
  {
    const int team = omp_get_num_threads(), t = omp_get_thread_num();
    for (int b = t; b < r.count; b += team) {
      const int j0 = b * r.width;
      stats(j0, std::min(c, j0 + r.width) - j0);
    }
#pragma omp barrier
    rows(int((long)n * t / team), int((long)n * (t + 1) / team));
  }
#else
  for (int b = 0; b < r.count; ++b)
    stats(b * r.width, std::min(c, (b + 1) * r.width) - b * r.width);
  rows(0, n);
#endif
}

}  // namespace

int bn_set_row_sweep_rows(int rows) {
  check(rows >= 1, "bn_set_row_sweep_rows: rows must be >= 1");
  return g_row_sweep_rows.exchange(rows);
}

void bn_forward_train(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                      const float* beta, int n, int c, float eps, float momentum,
                      float* running_mean, float* running_var, bool relu) {
  const auto f = isa::active().bn.train;
  const ColumnRanges r = train_ranges(n, c);
  if (rows_split(r, n, c)) {
    const auto apply = isa::active().bn.apply;
    columns_then_rows(
        r, n, c,
        [&](int j0, int w) {
          f(nullptr, mean, invstd, x, gamma, beta, n, c, eps, momentum, running_mean, running_var,
            j0, w, relu, true);
        },
        [&](int r0, int r1) { apply(y, x, mean, invstd, gamma, beta, c, r0, r1, relu); });
    return;
  }
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < r.count; ++b) {
    const int j0 = b * r.width;
    f(y, mean, invstd, x, gamma, beta, n, c, eps, momentum, running_mean, running_var, j0,
      std::min(c, j0 + r.width) - j0, relu, r.wide);
  }
}

void bn_forward_eval(float* y, float* invstd, const float* x, const float* gamma, const float* beta,
                     const float* running_mean, const float* running_var, int n, int c, float eps,
                     bool relu) {
  const auto f = isa::active().bn.eval;
  const int nb = nblocks(c);
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < nb; ++b) {
    const int j0 = b * kBlock;
    f(y, invstd, x, gamma, beta, running_mean, running_var, n, c, eps, j0,
      std::min(c, j0 + kBlock) - j0, relu);
  }
}

void bn_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                 const float* mean, const float* invstd, const float* gamma, int n, int c,
                 bool training, const float* relu_y) {
  const auto f = isa::active().bn.backward;
  const ColumnRanges r = train_ranges(n, c);
  if (training && dx && rows_split(r, n, c)) {
    const auto dx_rows = isa::active().bn.dx;
    thread_local std::vector<double> sums;  // Σ dy and Σ dy·x̂ per column
    sums.resize(2 * std::size_t(c));
    double* s = sums.data();
    columns_then_rows(
        r, n, c,
        [&](int j0, int w) {
          f(nullptr, dgamma, dbeta, dy, relu_y, x, mean, invstd, gamma, n, c, training, j0, w, true,
            s);
        },
        [&](int r0, int r1) { dx_rows(dx, dy, relu_y, x, mean, invstd, gamma, s, n, c, r0, r1); });
    return;
  }
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int b = 0; b < r.count; ++b) {
    const int j0 = b * r.width;
    f(dx, dgamma, dbeta, dy, relu_y, x, mean, invstd, gamma, n, c, training, j0,
      std::min(c, j0 + r.width) - j0, r.wide, nullptr);
  }
}

}  // namespace nncore
