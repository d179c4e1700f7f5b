// BLIS-style SGEMM framework: cache blocking (jc/pc/ic), packing of A and B slivers (transposes
// handled in packing, so one micro-kernel per ISA serves every layout), macro-kernel loops, the
// fused epilogue, OpenMP over output blocks (K is never split), and the pre-packed B operand.
// Leaves out: the micro-kernels themselves (sgemm_ukr_<isa>.cpp) and the ISA table
// (gemm_kernels_*.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "gemm/gemm_internal.h"
#include "nncore/common.h"
#include "nncore/finite_bound.h"
#include "nncore/threading.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

namespace gemm {
int kc_blocks(int K) { return K <= 0 ? 0 : (K + kKcMax - 1) / kKcMax; }
int kc_start(int K, int nb, int b) {
  if (b >= nb) return K;
  const int base = ((K + nb - 1) / nb + 7) / 8 * 8;
  const long s = (long)b * base;
  return s < K ? (int)s : K;
}
}  // namespace gemm

using gemm::KernelSet;

PackedB::PackedB() : impl_(new Impl) {}
PackedB::~PackedB() = default;
PackedB::PackedB(PackedB&&) noexcept = default;
PackedB& PackedB::operator=(PackedB&&) noexcept = default;
int PackedB::K() const { return impl_->K; }
int PackedB::N() const { return impl_->N; }
bool PackedB::empty() const { return impl_->ks == nullptr; }

namespace {

// Below this many multiply-adds a call stays on one thread (a fork costs a few µs).
constexpr double kParallelMacs = 1 << 18;
// Up to this many rows per thread a plain B is read in place (see run_block); past it only when
// B's row stride is not a multiple of 4 KB: a 4 KB-multiple stride puts a K block's rows on a
// fraction of L2's sets, other strides gain from skipping the packing pass
// (bench/results/design_choices.md#gemm-b-in-place).
constexpr int kDirectBMaxRows = 512;
bool in_place_b_pays(std::ptrdiff_t ldb, int rows) {
  const std::ptrdiff_t stride = ldb * (std::ptrdiff_t)sizeof(float);
  return rows <= kDirectBMaxRows || stride < 4096 || stride % 4096 != 0;
}

struct ThreadBuffers {
  fvec a, b, sums;
};
float* grow(fvec& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}
ThreadBuffers& thread_buffers() {
  thread_local ThreadBuffers buf;
  return buf;
}

struct Problem {
  const KernelSet* ks;
  Trans ta, tb;
  int M, N, K;
  float alpha, beta;
  const float* A;
  std::ptrdiff_t lda;
  const float* B;  // unpacked B, or null when pb is set
  std::ptrdiff_t ldb;
  const PackedB::Impl* pb;
  float* C;
  std::ptrdiff_t ldc;
  const Epilogue* ep;
  GemmSplit split = GemmSplit::auto_;
  gemm::Blocking bk{};  // set by run()
};

// sums[i] += op(A)[ic + i][p0 + k] over k = 0..kc-1 in order, i < mc, from the packed block (MR
// rows per sliver, k-major; the padding rows of a last sliver are summed but not stored) or, for
// one row read in place, from A.
template <int MR>
void add_packed_row_sums(const float* abuf, int mc, int kc, float* sums) {
  for (int ir = 0; ir < mc; ir += MR) {
    const float* a = abuf + (std::ptrdiff_t)ir * kc;
    float acc[MR];
    const int m = std::min(MR, mc - ir);
    for (int i = 0; i < MR; ++i) acc[i] = i < m ? sums[ir + i] : 0.f;
    for (int k = 0; k < kc; ++k)
      for (int i = 0; i < MR; ++i) acc[i] += a[k * MR + i];
    for (int i = 0; i < m; ++i) sums[ir + i] = acc[i];
  }
}
void add_row_sums(const Problem& p, int ic, int mc, int p0, int kc, int mr, bool a_row,
                  const float* abuf, float* sums) {
  if (a_row) {
    const float* a = p.A + (std::ptrdiff_t)ic * p.lda + p0;
    for (int k = 0; k < kc; ++k) sums[0] += a[k];
  } else if (mr == 8) {
    add_packed_row_sums<8>(abuf, mc, kc, sums);
  } else if (mr == 6) {
    add_packed_row_sums<6>(abuf, mc, kc, sums);
  } else {  // the scalar reference set
    for (int ir = 0; ir < mc; ir += mr)
      for (int k = 0; k < kc; ++k)
        for (int i = 0; i < std::min(mr, mc - ir); ++i)
          sums[ir + i] += abuf[(std::ptrdiff_t)ir * kc + (std::ptrdiff_t)k * mr + i];
  }
}

// One (ic, K block) step of the macro-kernel: packs rows [ic, ic + mc) × K block [p0, p0 + kc) of
// A and multiplies it by the packed B block bp (kc × nc, columns from jc) into C.
// bstride: 0 when bp is a packed block, else the row stride of B read in place.
// row_sums: where this block's rows' A sums go (Epilogue::a_row_sums; row ic at row_sums[0]), or
// null when this call does not sum them.
void macro_step(const Problem& p, int ic, int mc, int jc, int nc, int blk, int p0, int kc,
                const float* bp, std::ptrdiff_t bstride, float* abuf, float* row_sums) {
  const KernelSet& ks = *p.ks;
  const int mr = ks.mr, nr = ks.nr;
  const Epilogue* ep = p.ep;
  const bool act = ep && ep->act != Act::linear;
  const bool last = p0 + kc >= p.K;
  // Rows [row, row + m) × columns [col, col + w) of C, finished: the epilogue's finiteness check.
  auto check_finite = [&](int row, int m, int col, int w) {
    if (!(last && ep && ep->nonfinite)) return;
    const float* c = p.C + (std::ptrdiff_t)row * p.ldc + col;
    // Whole rows (a weight gradient's strip) are one contiguous range: one scan.
    const int scans = w == p.ldc ? 1 : m;
    const std::size_t len = w == p.ldc ? (std::size_t)m * w : (std::size_t)w;
    for (int i = 0; i < scans; ++i)
      if (!std::isfinite(max_abs(c + (std::ptrdiff_t)i * p.ldc, len)))
        ep->nonfinite->store(true, std::memory_order_relaxed);
  };
  gemm::UkrEpi e;
  e.alpha = p.alpha;
  e.beta = blk == 0 ? p.beta : 1.f;
  e.ldp = p.ldc;
  e.bstride = bstride;
  const std::ptrdiff_t b_sliver = bstride ? 1 : kc;  // distance between B slivers, per column
  // A single row (batch-1 predict) is read in place: packing it wrote a mostly unused sliver
  // whose lines the streamed B had evicted.
  e.a_row = mc == 1 && p.ta == Trans::N && ks.a_row;
  const float* ablk = e.a_row ? p.A + (std::ptrdiff_t)ic * p.lda + p0 : abuf;
  if (!e.a_row) ks.pack_a(p.ta, p.A, p.lda, ic, mc, p0, kc, mr, abuf);
  if (row_sums) add_row_sums(p, ic, mc, p0, kc, mr, e.a_row, abuf, row_sums);
  // Points the epilogue's bias and preact at C's (row, col); they apply in the last K block only.
  auto epilogue_at = [&](int row, int col) {
    e.bias = last && ep && ep->bias ? ep->bias + col : nullptr;
    e.preact = last && ep && ep->preact ? ep->preact + (std::ptrdiff_t)row * p.ldc + col : nullptr;
  };
  // A last sliver of at most cols_max columns (a 100-wide layer is 48 + 48 + 4 on AVX-512), or a
  // whole chunk that narrow, runs for all rows of the block in one call, vectorised over the rows.
  // It goes first, so the per-strip activation below covers it as well. Fewer rows than one
  // sliver (batch-1 predict) stay on the tiles: there the row vectors would be mostly padding.
  const int tail = nc % nr;
  const int nmain = tail > 0 && tail <= p.bk.cols_max && mc >= mr ? nc - tail : nc;
  if (nmain < nc) {
    float* cblk = p.C + (std::ptrdiff_t)ic * p.ldc + jc + nmain;
    epilogue_at(ic, jc + nmain);
    ks.ukr_cols(mc, nc - nmain, kc, ablk, bp + (std::ptrdiff_t)nmain * b_sliver,
                bstride ? bstride : nr, cblk, p.ldc, e);
    if (nmain == 0 && last && act && p.ldc == nc) {
      // Contiguous rows of 1-12 floats: one activation pass instead of a call per row.
      act_forward(ep->act, ep->alpha, cblk, cblk, (std::size_t)mc * nc);
      check_finite(ic, mc, jc, nc);
      return;
    }
  }
  // The B slivers go in groups of at most bk.group_cols columns, each group under every A sliver
  // in turn: a group of the packed panel stays in L2 while the row block's slivers pass over it
  // (a whole 2064-column panel is 2 MB and would stream from L3 once per A sliver).
  // One A sliver (batch-1) has nothing to reuse a group for.
  const int group = mc <= mr ? std::max(nmain, nr) : std::max(nr, p.bk.group_cols);
  int jg = 0;
  do {  // at least once: with nmain == 0 the narrow columns still need their activation
    const int jend = std::min(nmain, jg + group);
    // The last group's activation also covers the narrow columns the ukr_cols call wrote.
    const int act_end = jend == nmain ? nc : jend;
    for (int ir = 0; ir < mc; ir += mr) {
      const int m = std::min(mr, mc - ir);
      float* crow = p.C + (std::ptrdiff_t)(ic + ir) * p.ldc;
      // A single row (batch-1 predict), or the few rows of a last sliver, takes several packed
      // slivers at a time when the kernel set can.
      const int rs = bstride                         ? 0
                     : m == 1 && ks.ukr_row          ? ks.row_slivers
                     : m > 1 && m <= ks.few_rows_max ? ks.few_slivers
                                                     : 0;
      // Full rows against the group's full packed slivers: one call for the whole strip where
      // the kernel set can (KernelSet::ukr_strip); the loop below takes what is left.
      int jstart = jg;
      if (m == mr && !e.a_row && ks.ukr_strip && jend - jg >= nr) {
        const int ns = (jend - jg) / nr, col = jc + jg;
        epilogue_at(ic + ir, col);
        ks.ukr_strip(ns, kc, ablk + (std::ptrdiff_t)ir * kc, bp + (std::ptrdiff_t)jg * b_sliver,
                     crow + col, p.ldc, e);
        jstart += ns * nr;
      }
      for (int jr = jstart; jr < jend; jr += nr) {
        const int n = std::min(nr, jend - jr);
        const int col = jc + jr;
        epilogue_at(ic + ir, col);
        if (rs && jr + rs * nr <= jend) {
          const float* a = ablk + (std::ptrdiff_t)ir * kc;
          if (m == 1)
            ks.ukr_row(kc, a, bp + (std::ptrdiff_t)jr * kc, crow + col, e);
          else
            ks.ukr_few(m, kc, a, bp + (std::ptrdiff_t)jr * kc, crow + col, p.ldc, e);
          jr += (rs - 1) * nr;
          continue;
        }
        ks.ukr(m, n, kc, ablk + (std::ptrdiff_t)ir * kc, bp + (std::ptrdiff_t)jr * b_sliver,
               crow + col, p.ldc, e);
      }
      // The activation runs over the MR-row strip of the group just written, while in L1.
      if (last && act)
        for (int i = 0; i < m; ++i)
          act_forward(ep->act, ep->alpha, crow + (std::ptrdiff_t)i * p.ldc + jc + jg,
                      crow + (std::ptrdiff_t)i * p.ldc + jc + jg, (std::size_t)(act_end - jg));
      check_finite(ic + ir, m, jc + jg, act_end - jg);
    }
    jg = jend;
  } while (jg < nmain);
}

// Rows of the row block starting at ic (of rows up to m1): MC, except that a remainder of up to a
// quarter of MC joins the block before it. M = 128 with the AVX2 set's MC of 126 would otherwise
// end in a 2-row block, a whole pass over the packed B for two rows.
int block_rows(int ic, int m1, int mc) {
  const int rest = m1 - ic;
  return rest <= mc + mc / 4 ? rest : mc;
}

// Rows [m0, m1) × columns [n0, n1) of C, all of K; m0 a multiple of MR, n0 of NR.
// With one row block or one K block, the BLIS order (jc, K block, ic): each packed B block is
// used by every row block while it sits in L2. With several of both, the C block would be read
// and written once per K block, from L3 or memory once C outgrows L2 (bs-2048 layers: 4 MB);
// then the order is (jc, ic, K block): C stays in L2 and the B blocks of the column chunk, packed
// once, are re-read instead (read-only, from L3). Both orders give the same bits.
//
// A plain (Trans::N) B is read in place, unpacked, when the thread's rows are few: packing B
// then costs a separate pass over memory that is reused by only a few A slivers, while the
// micro-kernel's in-place reads overlap with its FMAs
// (bench/results/design_choices.md#gemm-b-in-place).
// Both give the same bits (the FMA chain per element is the same).
void run_block(const Problem& p, int m0, int m1, int n0, int n1) {
  const KernelSet& ks = *p.ks;
  const int nr = ks.nr;
  const int nb = gemm::kc_blocks(p.K);
  ThreadBuffers& tb = thread_buffers();
  const bool several_row_blocks = block_rows(m0, m1, p.bk.mc) < m1 - m0;
  const bool direct = ks.in_place_b && !p.pb && p.tb == Trans::N && in_place_b_pays(p.ldb, m1 - m0);
  const std::ptrdiff_t bstride = direct ? p.ldb : 0;
  // The packed B panel of a column chunk must stay small enough to be re-read from L3.
  const std::size_t panel_bytes = sizeof(float) * (std::size_t)p.K * std::min(p.bk.nc, n1 - n0);
  const bool c_resident = several_row_blocks && nb > 1 && (long)panel_bytes <= p.bk.panel_bytes;
  // + 8: a narrow-N kernel loads whole 8-float vectors from 6-row slivers (the last overhangs).
  const int max_rows = p.bk.mc + p.bk.mc / 4 + ks.mr;  // block_rows' largest block, rounded up
  float* abuf = grow(tb.a, (std::size_t)std::min(p.K, gemm::kKcMax + 8) * max_rows + 8);
  // Epilogue::a_row_sums: every thread packs all K of its rows for its first column chunk; the
  // thread whose columns start at 0 sums them there (each row's K blocks come in order in both
  // loop orders below), into a scratch row added at the end.
  float* sums = nullptr;
  if (p.ep && p.ep->a_row_sums && n0 == 0) {
    sums = grow(tb.sums, (std::size_t)(m1 - m0));
    std::fill(sums, sums + (m1 - m0), 0.f);
  }
  for (int jc = n0, nc; jc < n1; jc += nc) {
    float* const chunk_sums = jc == n0 ? sums : nullptr;
    auto sums_at = [&](int ic) { return chunk_sums ? chunk_sums + (ic - m0) : nullptr; };
    // A range that starts inside a pre-packed sliver (see col_unit) takes the sliver's rest first.
    nc = p.pb && jc % nr ? std::min(n1, (jc / nr + 1) * nr) - jc : std::min(p.bk.nc, n1 - jc);
    const std::size_t ncpad = (std::size_t)(nc + nr - 1) / nr * nr;
    // B block of K block blk for this column chunk: pre-packed, or packed here.
    auto b_block = [&](int p0, int kc, float* buf) -> const float* {
      if (p.pb)
        return p.pb->data.data() + (std::ptrdiff_t)p0 * p.pb->npad +
               (std::ptrdiff_t)(jc / nr * nr) * kc + jc % nr;
      if (direct) return p.B + (std::ptrdiff_t)p0 * p.ldb + jc;
      ks.pack_b(p.tb, p.B, p.ldb, p0, kc, jc, nc, nr, buf);
      return buf;
    };
    if (!c_resident) {
      for (int blk = 0; blk < nb; ++blk) {
        const int p0 = gemm::kc_start(p.K, nb, blk), p1 = gemm::kc_start(p.K, nb, blk + 1);
        if (p0 >= p1) break;
        const int kc = p1 - p0;
        const float* bp = b_block(p0, kc,
                                  p.pb || direct ? nullptr : grow(tb.b, (std::size_t)kc * ncpad));
        for (int ic = m0, mb; ic < m1; ic += mb) {
          mb = block_rows(ic, m1, p.bk.mc);
          macro_step(p, ic, mb, jc, nc, blk, p0, kc, bp, bstride, abuf, sums_at(ic));
        }
      }
    } else {
      float* all = p.pb || direct ? nullptr : grow(tb.b, (std::size_t)p.K * ncpad);
      if (all)
        for (int blk = 0; blk < nb; ++blk) {
          const int p0 = gemm::kc_start(p.K, nb, blk), p1 = gemm::kc_start(p.K, nb, blk + 1);
          if (p0 < p1) b_block(p0, p1 - p0, all + (std::size_t)p0 * ncpad);
        }
      for (int ic = m0, mb; ic < m1; ic += mb) {
        mb = block_rows(ic, m1, p.bk.mc);
        for (int blk = 0; blk < nb; ++blk) {
          const int p0 = gemm::kc_start(p.K, nb, blk), p1 = gemm::kc_start(p.K, nb, blk + 1);
          if (p0 >= p1) break;
          const float* bp = all ? all + (std::size_t)p0 * ncpad : b_block(p0, p1 - p0, nullptr);
          macro_step(p, ic, mb, jc, nc, blk, p0, p1 - p0, bp, bstride, abuf, sums_at(ic));
        }
      }
    }
  }
  if (sums)
    for (int i = 0; i < m1 - m0; ++i) p.ep->a_row_sums[m0 + i] += sums[i];
}

// Splits the output over a tm×tn grid of threads, minimising the busiest thread's work
// (padded tile FLOPs + the packing it does; duplicated packing is what splitting costs).
void choose_grid(const Problem& p, int nt, int& tm, int& tn) {
  const KernelSet& ks = *p.ks;
  const long ms = (p.M + ks.mr - 1) / ks.mr, ns = (p.N + ks.nr - 1) / ks.nr;
  double best = -1;
  tm = tn = 1;
  for (int a = 1; a <= nt; ++a) {
    if (nt % a) continue;
    const int b = nt / a;
    if (a > ms || b > ns) continue;
    const double rows = double((ms + a - 1) / a) * ks.mr, cols = double((ns + b - 1) / b) * ks.nr;
    const double fma_cycles = rows * cols * p.K / 16.0;
    const double pack = (rows * p.K + (p.pb ? 0.0 : cols * p.K)) * 0.5;
    const double cost = fma_cycles + pack;
    if (best < 0 || cost < best) best = cost, tm = a, tn = b;
  }
}

// The grid run() uses: choose_grid, unless the caller asked for whole columns or rows.
void thread_grid(const Problem& p, int nt, int& tm, int& tn) {
  const KernelSet& ks = *p.ks;
  const int ms = (p.M + ks.mr - 1) / ks.mr, ns = (p.N + ks.nr - 1) / ks.nr;
  if (p.split == GemmSplit::columns && nt <= ns) {
    tm = 1, tn = nt;
  } else if (p.split == GemmSplit::rows && ms >= 4 * nt) {
    tm = nt, tn = 1;
  } else {
    choose_grid(p, nt, tm, tn);
  }
}

// The columns are split between threads in slivers of NR, except for products of at most one A
// sliver of rows (batch-1 predict): those stream B once, so each thread's share of B is its time,
// and 512 columns in 48-wide slivers would split 288 / 224. With kernels that can start a tile
// inside a sliver (KernelSet::vec) they split in vectors instead: 256 / 256.
int col_unit(const Problem& p) {
  const KernelSet& ks = *p.ks;
  return ks.vec && p.M <= ks.mr ? ks.vec : ks.nr;
}

// Splits `units` slivers into `parts` near-equal contiguous ranges; returns range `i` in elements.
void split(int units, int parts, int i, int unit, int total, int& lo, int& hi) {
  const int q = units / parts, r = units % parts;
  const int s = i * q + std::min(i, r), e = s + q + (i < r ? 1 : 0);
  lo = std::min(total, s * unit);
  hi = std::min(total, e * unit);
}

void apply_k0(const Problem& p) {
  // K == 0: C = beta·C (+ epilogue); beta == 0 still never reads C.
  for (int i = 0; i < p.M; ++i) {
    float* row = p.C + (std::ptrdiff_t)i * p.ldc;
    for (int j = 0; j < p.N; ++j)
      row[j] = p.beta == 0.f ? 0.f : (p.beta == 1.f ? row[j] : p.beta * row[j]);
    if (p.ep) {
      if (p.ep->bias)
        for (int j = 0; j < p.N; ++j) row[j] = row[j] + p.ep->bias[j];
      if (p.ep->preact)
        std::memcpy(p.ep->preact + (std::ptrdiff_t)i * p.ldc, row, sizeof(float) * p.N);
      if (p.ep->act != Act::linear) act_forward(p.ep->act, p.ep->alpha, row, row, (std::size_t)p.N);
      if (p.ep->nonfinite && !std::isfinite(max_abs(row, (std::size_t)p.N)))
        p.ep->nonfinite->store(true, std::memory_order_relaxed);
    }
  }
}

// Threads run() uses for p (1 when the call stays on one thread).
int threads_for(const Problem& p, int requested) {
  const KernelSet& ks = *p.ks;
  const double macs = double(p.M) * p.N * p.K;
  const long tiles = long((p.M + ks.mr - 1) / ks.mr) * ((p.N + ks.nr - 1) / ks.nr);
  return macs < kParallelMacs ? 1 : (int)std::min<long>(requested, tiles);
}

void run(Problem p) {
  // No C or no K, so no packed A block: Epilogue::a_row_sums straight from A (K = 0 adds 0).
  if ((p.N <= 0 || p.K <= 0) && p.ep && p.ep->a_row_sums) {
    for (int i = 0; i < p.M; ++i) {
      float acc = 0.f;
      for (int k = 0; k < p.K; ++k)
        acc += p.ta == Trans::N ? p.A[(std::ptrdiff_t)i * p.lda + k]
                                : p.A[(std::ptrdiff_t)k * p.lda + i];
      p.ep->a_row_sums[i] += acc;
    }
  }
  if (p.M <= 0 || p.N <= 0) return;
  p.bk = gemm::blocking(*p.ks);
  check(!(p.ep && p.ep->act == Act::softmax),
        "sgemm: the epilogue takes elementwise activations only (not softmax)");
  if (p.K <= 0) {
    apply_k0(p);
    return;
  }
  const KernelSet& ks = *p.ks;
  const int nt = threads_for(p, num_threads());
  if (nt <= 1) {
    run_block(p, 0, p.M, 0, p.N);
    return;
  }
#if NNCORE_HAVE_OPENMP
#pragma omp parallel num_threads(nt)
  {
    const int team = omp_get_num_threads(), t = omp_get_thread_num();
    int tm, tn;
    thread_grid(p, team, tm, tn);
    if (t < tm * tn) {
      const int ti = t / tn, tj = t % tn;
      int m0, m1, n0, n1;
      split((p.M + ks.mr - 1) / ks.mr, tm, ti, ks.mr, p.M, m0, m1);
      const int cu = col_unit(p);
      split((p.N + cu - 1) / cu, tn, tj, cu, p.N, n0, n1);
      if (m0 < m1 && n0 < n1) run_block(p, m0, m1, n0, n1);
    }
  }
#else
  run_block(p, 0, p.M, 0, p.N);
#endif
}

void check_dims(int M, int N, int K) {
  check(M >= 0 && N >= 0 && K >= 0, "sgemm: negative dimension");
}

}  // namespace

int PackedB::layout(int K, int N) {
  check(K >= 0 && N >= 0, "PackedB: negative dimension");
  Impl& im = *impl_;
  const KernelSet* ks = &gemm::kernel_set(active_isa());
  const int npad = (N + ks->nr - 1) / ks->nr * ks->nr;
  const std::size_t need = (std::size_t)K * npad;
  if (im.ks != ks || im.K != K || im.N != N || im.data.size() != need) {
    im.ks = ks;
    im.K = K;
    im.N = N;
    im.npad = npad;
    im.data.assign(need, 0.f);
  }
  return ks->nr;
}

void PackedB::pack_cols(Trans tb, const float* B, int ldb, int j0, int j1) {
  Impl& im = *impl_;
  const KernelSet& ks = *im.ks;
  const int nb = gemm::kc_blocks(im.K);
  for (int blk = 0; blk < nb; ++blk) {
    const int p0 = gemm::kc_start(im.K, nb, blk), p1 = gemm::kc_start(im.K, nb, blk + 1);
    if (p0 >= p1) break;
    const int kc = p1 - p0;
    for (int j = j0; j < j1; j += ks.nr)
      ks.pack_b(tb, B, ldb, p0, kc, j, std::min(ks.nr, j1 - j), ks.nr,
                im.data.data() + (std::ptrdiff_t)p0 * im.npad + (std::ptrdiff_t)j * kc);
  }
}

void PackedB::pack(Trans tb, int K, int N, const float* B, int ldb) {
  layout(K, N);
  Impl& im = *impl_;
  const KernelSet& ks = *im.ks;
  const int np = im.npad / ks.nr;
  const int nb = gemm::kc_blocks(K);
  const long tasks = (long)nb * np;
  const int nt = double(K) * N >= (1 << 17) ? num_threads() : 1;
  float* data = im.data.data();
  // One task = one NR sliver of one K block; tasks write disjoint memory.
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (long t = 0; t < tasks; ++t) {
    const int blk = int(t / np), s = int(t % np);
    const int p0 = gemm::kc_start(K, nb, blk), p1 = gemm::kc_start(K, nb, blk + 1);
    if (p0 >= p1) continue;
    const int kc = p1 - p0, j0 = s * ks.nr;
    ks.pack_b(tb, B, ldb, p0, kc, j0, std::min(ks.nr, N - j0), ks.nr,
              data + (std::ptrdiff_t)p0 * im.npad + (std::ptrdiff_t)j0 * kc);
  }
}

int sgemm_thread_of(int M, int N, int K, int threads, int i, int j, GemmSplit how) {
  if (M <= 0 || N <= 0 || K <= 0 || i < 0 || i >= M || j < 0 || j >= N) return 0;
  Problem p{&gemm::kernel_set(active_isa()),
            Trans::N,
            Trans::N,
            M,
            N,
            K,
            1.f,
            0.f,
            nullptr,
            0,
            nullptr,
            0,
            nullptr,
            nullptr,
            0,
            nullptr,
            how};
  const KernelSet& ks = *p.ks;
  const int nt = threads_for(p, threads);
  if (nt <= 1) return 0;
  int tm, tn;
  thread_grid(p, nt, tm, tn);
  int ti = 0, tj = 0, lo, hi;
  for (int a = 0; a < tm; ++a) {
    split((M + ks.mr - 1) / ks.mr, tm, a, ks.mr, M, lo, hi);
    if (i >= lo && i < hi) ti = a;
  }
  const int cu = col_unit(p);
  for (int b = 0; b < tn; ++b) {
    split((N + cu - 1) / cu, tn, b, cu, N, lo, hi);
    if (j >= lo && j < hi) tj = b;
  }
  return ti * tn + tj;
}

void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, const Epilogue* ep,
           GemmSplit split) {
  check_dims(M, N, K);
  Problem p{&gemm::kernel_set(active_isa()),
            ta,
            tb,
            M,
            N,
            K,
            alpha,
            beta,
            A,
            lda,
            B,
            ldb,
            nullptr,
            C,
            ldc,
            ep,
            split};
  run(p);
}

// Uses the kernel the weights were packed for (the active ISA at pack() time).
void sgemm_packed(Trans ta, int M, float alpha, const float* A, int lda, const PackedB& B,
                  float beta, float* C, int ldc, const Epilogue* ep, GemmSplit split) {
  check(!B.empty(), "sgemm_packed: B was never packed");
  const PackedB::Impl* im = B.impl();
  check_dims(M, im->N, im->K);
  Problem p{im->ks, ta,      Trans::N, M,  im->N, im->K, alpha, beta, A,
            lda,    nullptr, 0,        im, C,     ldc,   ep,    split};
  run(p);
}

}  // namespace nncore
