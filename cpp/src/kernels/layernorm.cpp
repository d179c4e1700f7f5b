// Layer-norm kernels (see nncore/layernorm.h): dispatch to the ISA context's row and column
// kernels (layernorm_impl.inc) and the threading. The forward and dx own whole rows (a row is
// one task's alone), the parameter gradients whole column ranges (each column summed over the
// rows in row order), so no sum is split across threads and the bits do not depend on their count.
#include "nncore/layernorm.h"

#include <algorithm>
#include <cstddef>

#include "isa/context.h"
#include "layernorm_blocks.h"
#include "nncore/threading.h"

namespace nncore {

namespace {
constexpr std::size_t kChunk = 1 << 14;  // elements per row task
inline bool parallel_ok(int n, int c) { return long(n) * c > (1L << 15); }

// Rows per task: whole rows of about kChunk elements.
inline int row_step(int c) { return int(std::max<std::size_t>(1, kChunk / std::size_t(c))); }

// The columns of the parameter gradients split into ranges of 64-multiples of at most kWide
// features, at least one range per thread when there are enough columns.
struct ColumnRanges {
  int width, count;
};
ColumnRanges column_ranges(int c) {
  using ln_blocks::kBlock;
  const int blocks = (c + kBlock - 1) / kBlock;
  const int per = (blocks + num_threads() - 1) / num_threads();
  const int width = std::min(ln_blocks::kWide, std::max(1, per) * kBlock);
  return {width, (c + width - 1) / width};
}
}  // namespace

void ln_forward(float* y, float* mean, float* mean_lo, float* rstd, const float* x,
                const float* gamma, const float* beta, int n, int c, float eps) {
  const auto f = isa::active().ln.forward;
  const int step = row_step(c), tasks = (n + step - 1) / step;
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
  for (int t = 0; t < tasks; ++t)
    f(y, mean, mean_lo, rstd, x, gamma, beta, c, eps, t * step, std::min(n, (t + 1) * step));
}

void ln_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                 const float* mean, const float* mean_lo, const float* rstd, const float* gamma,
                 int n, int c) {
  const isa::LnKernels& k = isa::active().ln;
  if (dx) {
    const int step = row_step(c), tasks = (n + step - 1) / step;
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c)) schedule(static)
    for (int t = 0; t < tasks; ++t)
      k.backward(dx, dy, x, mean, mean_lo, rstd, gamma, c, t * step, std::min(n, (t + 1) * step));
  }
  if (!dgamma && !dbeta) return;
  const ColumnRanges r = column_ranges(c);
  // Each thread owns whole columns of dgamma and dbeta: no reduction crosses threads.
#pragma omp parallel for num_threads(num_threads()) if (parallel_ok(n, c) && r.count > 1) \
    schedule(static)
  for (int b = 0; b < r.count; ++b) {
    const int j0 = b * r.width;
    k.param_grads(dgamma, dbeta, dy, x, mean, mean_lo, rstd, n, c, j0,
                  std::min(c, j0 + r.width) - j0);
  }
}

}  // namespace nncore
