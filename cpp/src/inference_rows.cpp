// predict's folded path over a whole batch: row blocks through all the plan's steps, so a block's
// values stay in L2 from one layer to the next, and on several threads one team per call whose
// threads take whole blocks. Leaves out the plan itself (inference.cpp) and the layer path.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "inference_plan.h"
#include "nncore/threading.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

namespace {
// Rows per block: the bench model's largest values (512 wide) then take 1 MB per buffer, so a
// block's input, its output and the layer's packed weights share L2
// (bench/results/design_choices.md#predict-row-blocks).
int plan_block_rows() {
  static const int rows = [] {
    const char* s = std::getenv("NNCORE_PLAN_ROWS");  // for tuning runs
    const int v = s ? std::atoi(s) : 0;
    return v > 0 ? v : 512;
  }();
  return rows;
}
// Fewer rows per thread than this split each layer's columns instead (every thread then streams
// only its share of the weights, which a batch of a few rows is bound by).
constexpr int kRowsPerThreadMin = 64;
}  // namespace

void Network::run_plan_rows(const float* x, std::int64_t n, float* out, EvalWorkspace& ws) {
  const std::size_t d = input_dim_, k = output_dim_;
  const int threads = num_threads();
  // Writes rows [r0, r0 + rows) of out from the plan's output y.
  auto finish = [&](const float* y, std::int64_t r0, int rows) {
    float* o = out + r0 * std::int64_t(k);
    if (output_transform_ != Act::linear)
      act_forward(output_transform_, 0.f, y, o, std::size_t(rows) * k, k);
    else
      std::memcpy(o, y, sizeof(float) * std::size_t(rows) * k);
  };
  if (ws.plan_bufs.empty()) ws.plan_bufs.resize(1);
  if (threads <= 1 || n < std::int64_t(threads) * kRowsPerThreadMin) {
    // One team per GEMM (columns split between threads when there are several).
    const int block = int(std::min<std::int64_t>(n, plan_block_rows()));
    size_plan_bufs(ws.plan_bufs[0], block);
    const bool reverse = n == 1 && (ws.reverse = !ws.reverse);
    for (std::int64_t r0 = 0; r0 < n; r0 += block) {
      const int rows = int(std::min<std::int64_t>(block, n - r0));
      finish(run_plan(x + r0 * std::int64_t(d), rows, ws.plan_bufs[0], reverse), r0, rows);
    }
    return;
  }
  // Each thread runs whole row blocks through every step on its own: one fork per call and no
  // barrier between layers; dynamic, so a thread slowed by another process takes fewer blocks.
  // A row's bits do not depend on the thread or block that ran it (the GEMM's do not depend on M).
  // Blocks: at least two per thread, a multiple of 8 rows, at most plan_block_rows().
  const std::int64_t per = (n + 2 * threads - 1) / (2 * threads);
  const int block = int(std::min<std::int64_t>(plan_block_rows(), (per + 7) / 8 * 8));
  const std::int64_t nblocks = (n + block - 1) / block;
  if (ws.plan_bufs.size() < std::size_t(threads)) ws.plan_bufs.resize(std::size_t(threads));
  for (int t = 0; t < threads; ++t) size_plan_bufs(ws.plan_bufs[std::size_t(t)], block);
#if NNCORE_HAVE_OPENMP
#pragma omp parallel num_threads(threads)
  {
    SerialScope serial;
    std::vector<fvec>& bufs = ws.plan_bufs[std::size_t(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t b = 0; b < nblocks; ++b) {
      const std::int64_t r0 = b * block;
      const int rows = int(std::min<std::int64_t>(block, n - r0));
      finish(run_plan(x + r0 * std::int64_t(d), rows, bufs), r0, rows);
    }
  }
#endif
}

}  // namespace nncore
