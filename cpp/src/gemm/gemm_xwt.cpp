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

bool sgemm_xwt_pays(int n, int N, int K) {
  const gemm::KernelSet& ks = gemm::kernel_set(active_isa());
  // Under a full K block the per-tile transposed store is not amortised: at K = 50, 64 and 128
  // the packed forward of 100 units was 4-25 % faster (bench_gemm "wide", issue33.md#xwt-wide).
  if (!ks.ukr_wt || !ks.vec || n < 64 || N < ks.nr || K < gemm::kKcMax) return false;
  const long mr = ks.mr, nr = ks.nr, vec = ks.vec;
  // Vector FMAs per k. The packed forward: strips of MR rows against NR-column tiles, the last
  // N mod NR columns as whole vectors or, up to cols_max, through the row-vectorised kernel
  // (MR rows × c columns: c half-width FMAs). sgemm_xwt: MR-unit strips of W against the
  // vectors of Xᵀ's n columns.
  const long tail = N % nr;
  const long tail_fmas = tail == 0             ? 0
                         : tail <= ks.cols_max ? (tail + 1) / 2
                                               : (tail + vec - 1) / vec;
  const long packed = (n + mr - 1) / mr * (nr / vec * (N / nr) + tail_fmas);
  const long xwt = (N + mr - 1) / mr * ((n + vec - 1) / vec);
  return 100 * xwt <= 85 * packed;
}

bool sgemm_xwt(int n, int N, int K, const float* X, int ldx, const float* W, int ldw, float* Y,
               int ldy, const Epilogue* ep) {
  const gemm::KernelSet& ks = gemm::kernel_set(active_isa());
  if (!ks.ukr_wt || n <= 0 || N <= 0 || K <= 0) return false;
  check(!(ep && ep->act == Act::softmax),
        "sgemm: the epilogue takes elementwise activations only (not softmax)");
  check(!(ep && ep->a_row_sums), "sgemm_xwt: the epilogue's a_row_sums is sgemm's only");
  const int mr = ks.mr, nr = ks.nr;
  const int nb = gemm::kc_blocks(K);
  // Per-thread buffers that only grow: a training step calls this every batch and allocates
  // nothing after the first.
  thread_local std::vector<int> kstart;
  kstart.resize(std::size_t(nb) + 1);
  for (int b = 0; b <= nb; ++b) kstart[std::size_t(b)] = gemm::kc_start(K, nb, b);
  const int* ks0 = kstart.data();
  const int tiles = (n + nr - 1) / nr, slivers = (N + mr - 1) / mr;
  // Column tiles of Xᵀ packed together: at most kGroupBytes, which stay in L2 while every sliver
  // of W passes over them (a whole Xᵀ of thousands of rows would stream from L3 once per sliver).
  constexpr std::size_t kGroupBytes = std::size_t(512) << 10;
  const int group = std::max(1, int(kGroupBytes / (sizeof(float) * std::size_t(K) * nr)));

  // Packs the column tiles [t0, t1) of Xᵀ into the calling thread's buffer: K block b at
  // + kstart[b]·gpad, tile t0 + i of it at + i·nr·kc (the layout pack_b gives a K block).
  // 64-byte aligned: each packed row of a sliver is then whole cache lines (no split loads).
  auto buffer = [&](int t0, int t1) -> float* {
    thread_local std::vector<float> xt;
    const std::size_t size = (std::size_t)K * (t1 - t0) * nr + 16;
    if (xt.size() < size) xt.resize(size);
    return xt.data() + (16 - (reinterpret_cast<std::uintptr_t>(xt.data()) / 4) % 16) % 16;
  };
  // Packs tiles [u0, u1) of the group [t0, t1) whose packed Xᵀ starts at p.
  auto pack_into = [&](float* p, int t0, int t1, int u0, int u1) {
    const int j0 = u0 * nr, cols = std::min(n, u1 * nr) - j0, gpad = (t1 - t0) * nr;
    for (int b = 0; b < nb; ++b) {
      const int p0 = ks0[b], kc = ks0[b + 1] - p0;
      ks.pack_b(Trans::T, X, ldx, p0, kc, j0, cols, nr,
                p + (std::ptrdiff_t)p0 * gpad + (std::ptrdiff_t)(u0 - t0) * nr * kc);
    }
  };
  auto pack = [&](int t0, int t1) -> float* {
    float* p = buffer(t0, t1);
    pack_into(p, t0, t1, t0, t1);
    return p;
  };
  const bool act = ep && ep->act != Act::linear;
  // Slivers [s0, s1) of output units × the packed column tiles [t0, t1) at xtp; with act_units,
  // the activation over each sliver's units of those rows once they are final.
  auto run = [&](const float* xtp, int t0, int t1, int s0, int s1, bool act_units) {
    const int gpad = (t1 - t0) * nr;
    thread_local std::vector<const float*> bblk;
    bblk.resize(std::size_t(nb) * (t1 - t0));
    for (int t = 0; t < t1 - t0; ++t)
      for (int b = 0; b < nb; ++b) {
        const int p0 = ks0[b], kc = ks0[b + 1] - p0;
        bblk[std::size_t(t) * nb + b] = xtp + (std::ptrdiff_t)p0 * gpad +
                                        (std::ptrdiff_t)t * nr * kc;
      }
    const int r0 = t0 * nr, r1 = std::min(n, t1 * nr);
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
      for (int t = t0; t < t1; ++t) {
        const int j0 = t * nr;
        a.n = std::min(nr, n - j0);
        a.bblk = bblk.data() + std::size_t(t - t0) * nb;
        a.y = Y + (std::ptrdiff_t)j0 * ldy + o0;
        a.preact = ep && ep->preact ? ep->preact + (std::ptrdiff_t)j0 * ldy + o0 : nullptr;
        ks.ukr_wt(a);
      }
      // The activation over these output units of the tiles' rows, while they are in L1.
      if (act && act_units)
        for (int j = r0; j < r1; ++j) {
          float* yr = Y + (std::ptrdiff_t)j * ldy + o0;
          act_forward(ep->act, ep->alpha, yr, yr, (std::size_t)a.m);
        }
    }
  };
  // Tile ranges [t0, t1) in groups, each packed by the thread that multiplies it. The
  // activation then runs over the group's whole rows (still in L2), not 8 units of a row at a
  // time: an elementwise activation gives the same bits either way.
  auto run_tiles = [&](int t0, int t1) {
    for (int g = t0; g < t1; g += group) {
      const int g1 = std::min(t1, g + group);
      run(pack(g, g1), g, g1, 0, slivers, false);
      if (!act) continue;
      const int r0 = g * nr, r1 = std::min(n, g1 * nr);
      if (ldy == N) {
        float* y = Y + (std::ptrdiff_t)r0 * ldy;
        act_forward(ep->act, ep->alpha, y, y, (std::size_t)(r1 - r0) * N);
      } else {
        for (int j = r0; j < r1; ++j) {
          float* y = Y + (std::ptrdiff_t)j * ldy;
          act_forward(ep->act, ep->alpha, y, y, (std::size_t)N);
        }
      }
    }
  };
  const double macs = double(n) * N * K;
  const int nt = macs < double(1 << 18) ? 1 : num_threads();
  // Every element is one thread's (whole tiles or whole slivers of it): the same bits on any
  // thread count. A batch whose Xᵀ fits one group splits the slivers of W over one Xᵀ that the
  // threads pack together (each reads half of W once; splitting the tiles had each thread stream
  // all of W: AVX2 bs-128 step 1.05x, issue33.md#xwt-avx2); a larger one splits the groups of
  // tiles, each thread packing its own.
  const bool by_tiles = tiles > group;
  auto on_this_thread = [&] {
    if (by_tiles)
      run_tiles(0, tiles);
    else
      run(pack(0, tiles), 0, tiles, 0, slivers, true);
  };
  if (nt <= 1 || (!by_tiles && slivers < 2)) {
    on_this_thread();
    return true;
  }
#if NNCORE_HAVE_OPENMP
  if (by_tiles) {
#pragma omp parallel num_threads(std::min(nt, tiles))
    {
      const int team = omp_get_num_threads(), t = omp_get_thread_num();
      const int t0 = int((long)tiles * t / team), t1 = int((long)tiles * (t + 1) / team);
      if (t0 < t1) run_tiles(t0, t1);
    }
  } else {
    float* xtp = buffer(0, tiles);
#pragma omp parallel num_threads(std::min(nt, slivers))
    {
      const int team = omp_get_num_threads(), t = omp_get_thread_num();
      const int u0 = int((long)tiles * t / team), u1 = int((long)tiles * (t + 1) / team);
      if (u0 < u1) pack_into(xtp, 0, tiles, u0, u1);
#pragma omp barrier
      const int s0 = int((long)slivers * t / team), s1 = int((long)slivers * (t + 1) / team);
      if (s0 < s1) run(xtp, 0, tiles, s0, s1, true);
    }
  }
#else
  on_this_thread();
#endif
  return true;
}

}  // namespace nncore
