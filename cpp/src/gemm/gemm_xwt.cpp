// sgemm_xwt: Y = X·Wᵀ (+ bias, activation) with W read in place and X packed as Xᵀ, i.e. the
// product computed as Yᵀ = W·Xᵀ with a transposed store. A training forward at a small batch
// then needs no packed copy of W, which the optimizer step would otherwise rewrite (4 B per
// weight through L3) after every update. The kernels live with their ISA (sgemm_xwt_<isa>.cpp).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gemm/gemm_internal.h"
#include "nncore/common.h"
#include "nncore/gemm.h"
#include "nncore/threading.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

bool sgemm_xwt_available() { return gemm::kernel_set(active_isa()).ukr_wt != nullptr; }

bool sgemm_xwt(int n, int N, int K, const float* X, int ldx, const float* W, int ldw, float* Y,
               int ldy, const Epilogue* ep) {
  const gemm::KernelSet& ks = gemm::kernel_set(active_isa());
  if (!ks.ukr_wt || n <= 0 || N <= 0 || K <= 0) return false;
  check(!(ep && ep->act == Act::softmax),
        "sgemm: the epilogue takes elementwise activations only (not softmax)");
  const int mr = ks.mr, nr = ks.nr;
  const int nb = gemm::kc_blocks(K);
  // Per-thread buffers that only grow: a training step calls this every batch and allocates
  // nothing after the first.
  thread_local std::vector<int> kstart;
  kstart.resize(std::size_t(nb) + 1);
  for (int b = 0; b <= nb; ++b) kstart[std::size_t(b)] = gemm::kc_start(K, nb, b);
  const int* ks0 = kstart.data();
  // Xᵀ packed once for every thread: K block b at xt + kstart[b]·npad, sliver s of it at
  // + s·nr·kc (the layout pack_b gives a K block).
  const int npad = (n + nr - 1) / nr * nr, tiles = npad / nr;
  // 64-byte aligned: each packed row of a sliver is then whole cache lines (no split loads).
  thread_local std::vector<float> xt;
  if (xt.size() < (std::size_t)K * npad + 16) xt.resize((std::size_t)K * npad + 16);
  float* xtp = xt.data() + (16 - (reinterpret_cast<std::uintptr_t>(xt.data()) / 4) % 16) % 16;
  for (int b = 0; b < nb; ++b) {
    const int p0 = kstart[std::size_t(b)], kc = kstart[std::size_t(b) + 1] - p0;
    ks.pack_b(Trans::T, X, ldx, p0, kc, 0, n, nr, xtp + (std::ptrdiff_t)p0 * npad);
  }
  const int slivers = (N + mr - 1) / mr;
  // Each thread takes whole slivers of output units, so every element is one thread's: the
  // same bits on any thread count.
  auto run = [&](int s0, int s1) {
    thread_local std::vector<const float*> bblk;
    bblk.resize(std::size_t(nb) * tiles);
    for (int t = 0; t < tiles; ++t)
      for (int b = 0; b < nb; ++b) {
        const int p0 = ks0[b], kc = ks0[b + 1] - p0;
        bblk[std::size_t(t) * nb + b] = xtp + (std::ptrdiff_t)p0 * npad +
                                        (std::ptrdiff_t)t * nr * kc;
      }
    gemm::WtArgs a;
    a.nb = nb;
    a.kstart = ks0;
    a.ldw = ldw;
    a.ldy = ldy;
    for (int s = s0; s < s1; ++s) {
      const int o0 = s * mr;
      a.m = std::min(mr, N - o0);
      a.w = W + (std::ptrdiff_t)o0 * ldw;
      a.bias = ep && ep->bias ? ep->bias + o0 : nullptr;
      for (int t = 0; t < tiles; ++t) {
        const int j0 = t * nr;
        a.n = std::min(nr, n - j0);
        a.bblk = bblk.data() + std::size_t(t) * nb;
        a.y = Y + (std::ptrdiff_t)j0 * ldy + o0;
        a.preact = ep && ep->preact ? ep->preact + (std::ptrdiff_t)j0 * ldy + o0 : nullptr;
        ks.ukr_wt(a);
      }
      // The activation over these output units of every row, while they are in L1.
      if (ep && ep->act != Act::linear)
        for (int j = 0; j < n; ++j) {
          float* yr = Y + (std::ptrdiff_t)j * ldy + o0;
          act_forward(ep->act, ep->alpha, yr, yr, (std::size_t)a.m);
        }
    }
  };
  const double macs = double(n) * N * K;
  const int nt = macs < double(1 << 18) ? 1 : std::min(num_threads(), slivers);
  if (nt <= 1) {
    run(0, slivers);
    return true;
  }
#if NNCORE_HAVE_OPENMP
#pragma omp parallel num_threads(nt)
  {
    const int team = omp_get_num_threads(), t = omp_get_thread_num();
    const int s0 = int((long)slivers * t / team), s1 = int((long)slivers * (t + 1) / team);
    if (s0 < s1) run(s0, s1);
  }
#else
  run(0, slivers);
#endif
  return true;
}

}  // namespace nncore
