// One row against a pre-packed B (sgemv_packed, see gemm.h): the batch-1 predict kernel. It reuses
// the ISA's micro-kernels (ukr_row where the set has one, else ukr on a 1-row sliver), so each
// element is the same FMA chain, K block by K block, as in sgemm_packed. Leaves out threads.
#include <algorithm>

#include "gemm/gemm_internal.h"

namespace nncore {

void sgemv_packed(const float* x, const PackedB& B, float* y, const Epilogue* ep, bool reverse) {
  check(!B.empty(), "sgemv_packed: B was never packed");
  check(!(ep && (ep->act == Act::softmax || ep->preact)),
        "sgemv_packed: the epilogue takes elementwise activations and no preact");
  const PackedB::Impl& im = *B.impl();
  const gemm::KernelSet& ks = *im.ks;
  const int K = im.K, N = im.N, nr = ks.nr;
  if (N <= 0) return;
  if (K <= 0) {  // y = bias (+ activation), as sgemm's K == 0 path
    for (int j = 0; j < N; ++j) y[j] = ep && ep->bias ? 0.f + ep->bias[j] : 0.f;
    if (ep && ep->act != Act::linear) act_forward(ep->act, ep->alpha, y, y, std::size_t(N));
    return;
  }
  const int nb = gemm::kc_blocks(K);
  // A kernel set without in-place rows reads x from a packed 1-row sliver (MR floats per k).
  thread_local fvec abuf;
  if (!ks.a_row && abuf.size() < std::size_t(gemm::kKcMax + 8) * ks.mr)
    abuf.resize(std::size_t(gemm::kKcMax + 8) * ks.mr);
  // Columns go in groups of the slivers ukr_row takes at once (one sliver without it).
  const int group = nr * (ks.ukr_row ? ks.row_slivers : 1);
  const int ngroups = (N + group - 1) / group;
  for (int gi = 0; gi < ngroups; ++gi) {
    const int g = reverse ? ngroups - 1 - gi : gi;
    const int j0 = g * group, j1 = std::min(N, j0 + group);
    for (int blk = 0; blk < nb; ++blk) {
      const int p0 = gemm::kc_start(K, nb, blk), p1 = gemm::kc_start(K, nb, blk + 1);
      if (p0 >= p1) break;
      const int kc = p1 - p0;
      const bool last = p1 >= K;
      gemm::UkrEpi e;
      e.beta = blk == 0 ? 0.f : 1.f;
      e.a_row = ks.a_row;
      const float* a = x + p0;
      if (!ks.a_row) {
        ks.pack_a(Trans::N, x, K, 0, 1, p0, kc, ks.mr, abuf.data());
        a = abuf.data();
      }
      const float* bp = im.data.data() + std::ptrdiff_t(p0) * im.npad;
      if (ks.ukr_row && j1 - j0 == group) {
        e.bias = last && ep && ep->bias ? ep->bias + j0 : nullptr;
        ks.ukr_row(kc, a, bp + std::ptrdiff_t(j0) * kc, y + j0, e);
        continue;
      }
      for (int j = j0; j < j1; j += nr) {
        e.bias = last && ep && ep->bias ? ep->bias + j : nullptr;
        ks.ukr(1, std::min(nr, j1 - j), kc, a, bp + std::ptrdiff_t(j) * kc, y + j, N, e);
      }
    }
    if (ep && ep->act != Act::linear)
      act_forward(ep->act, ep->alpha, y + j0, y + j0, std::size_t(j1 - j0));
  }
}

}  // namespace nncore
