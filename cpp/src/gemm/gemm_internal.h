// Internal contract between the SGEMM framework (gemm.cpp) and the per-ISA micro-kernels.
// Not installed; ISA files include it for the types only (no inline code lives here, so nothing
// compiled with AVX-512 flags can leak into baseline callers through the linker).
#pragma once
#include <cstddef>

#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/gemm.h"

namespace nncore::gemm {

// Packed panels (all offsets in floats):
//   A sliver: MR rows × kc, element (r, k) at a[k*MR + r]. Only the first m rows are read.
//   B sliver: kc × NR columns, element (k, c) at b[k*NR + c]. Columns c >= n are zero.
//   Or, when UkrEpi::bstride != 0 (only for kernel sets with in_place_b), B read in place:
//   element (k, c) at b[k*bstride + c], and columns c >= n are never read (they may lie
//   outside the array).
// Successive A slivers are kc*MR apart, successive B slivers kc*NR apart.
//
// Tile finalisation, per element (i < m, j < n), identical in every kernel so all ISAs give the
// same bits (each op below is one IEEE-rounded float op; acc is the FMA chain
// acc = fma(a[k], b[k], acc) over k = 0..kc-1 starting from 0):
//   r = (alpha == 1 ? acc : alpha*acc)
//   if beta != 0: r = r + (beta == 1 ? C : beta*C)      (beta == 0 never reads C)
//   if bias:      r = r + bias[j]
//   if preact:    preact[i*ldp + j] = r
//   C[i*ldc + j] = r
// Edge tiles (m < MR or n < NR) compute exactly the same chain per element; the kernel only
// stores the m×n corner. The activation is applied by the framework after the tile is stored.
struct UkrEpi {
  float alpha = 1.f;
  float beta = 0.f;
  const float* bias = nullptr;  // bias of the tile's column 0, or null
  float* preact = nullptr;      // preact of the tile's (0, 0), or null
  std::ptrdiff_t ldp = 0;
  std::ptrdiff_t bstride = 0;  // 0: b is a packed sliver; else the row stride of B read in place
  // a is one row of A read in place (element k at a[k]) instead of a packed sliver; only with
  // m == 1 and kernel sets whose a_row is set.
  bool a_row = false;
};

using UkrFn = void (*)(int m, int n, int kc, const float* a, const float* b, float* c,
                       std::ptrdiff_t ldc, const UkrEpi& e);

// Packs the m×kc block of op(A) starting at (i0, p0) into ceil(m/MR) slivers.
using PackAFn = void (*)(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0,
                         int kc, int mr, float* dst);
// Packs the kc×n block of op(B) starting at (p0, j0) into ceil(n/NR) zero-padded slivers.
using PackBFn = void (*)(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0,
                         int n, int nr, float* dst);

// One call of KernelSet::ukr_wt: rows [0, m) (m <= MR) of W read in place (row i at w + i·ldw,
// from column 0 of K) against one packed column tile of Xᵀ (n <= NR batch rows; K block b at
// bblk[b], kstart[b]..kstart[b + 1]), stored transposed: Y[j·ldy + i] (and preact likewise, when
// set), with bias[i] added in the last K block.
struct WtArgs {
  int m = 0, n = 0, nb = 0;
  const int* kstart = nullptr;
  const float* w = nullptr;
  std::ptrdiff_t ldw = 0;
  const float* const* bblk = nullptr;
  float* y = nullptr;
  std::ptrdiff_t ldy = 0;
  const float* bias = nullptr;
  float* preact = nullptr;
};

struct KernelSet {
  Isa isa = Isa::scalar;
  const char* name = "";  // e.g. "avx512 8x48"
  int mr = 0, nr = 0;
  // Cache blocks as tuned on the development machine (Zen 4, 1 MiB L2): the derivation in
  // gemm_blocking.cpp scales them to the caches of the CPU it runs on. KC is shared by all ISAs
  // (see kc_blocks()).
  int mc = 0, nc = 0;
  UkrFn ukr = nullptr;
  PackAFn pack_a = nullptr;
  PackBFn pack_b = nullptr;
  // Whether a plain B may be read in place (see run_block in gemm.cpp): pays with wide B
  // slivers (3 lines per row); 1-line slivers at a power-of-two row stride thrash L1 sets.
  bool in_place_b = false;
  // Optional: one row against row_slivers full packed slivers (row_slivers·NR columns, c and
  // the epilogue's bias/preact contiguous), the same bits as ukr (the batch-1 path).
  int row_slivers = 0;
  void (*ukr_row)(int kc, const float* a, const float* b, float* c, const UkrEpi& e) = nullptr;
  // Optional: products whose column chunk is at most cols_max wide, vectorised over rows (see
  // sgemm_cols_avx2.cpp): all m rows of a packed A block (ceil(m/MR) slivers) × the n columns
  // of one B sliver, whose k rows are ldbk floats apart (NR packed, the row stride in place).
  // Same bits as ukr.
  int cols_max = 0;  // at most kColsLimit
  void (*ukr_cols)(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk,
                   float* c, std::ptrdiff_t ldc, const UkrEpi& e) = nullptr;
  // Whether ukr and ukr_row take UkrEpi::a_row: a single row (batch-1 predict) is then read in
  // place instead of packed into a sliver whose other rows stay unused.
  bool a_row = false;
  // Optional: the vector width, when ukr reads only the ceil(n / vec) vectors of a B sliver
  // that its n columns cover. A tile may then start vec-aligned inside a packed sliver, which
  // lets run() split a few-row product's columns evenly between threads (col_unit in gemm.cpp).
  int vec = 0;
  // Optional: 2 <= m <= few_rows_max rows of a packed A sliver against few_slivers full packed
  // slivers (c and the epilogue's bias/preact contiguous across them), the same bits as ukr.
  // The last rows of a block (M mod MR) then run enough FMA chains to hide the FMA latency.
  int few_rows_max = 0, few_slivers = 0;
  void (*ukr_few)(int m, int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc,
                  const UkrEpi& e) = nullptr;
  // Optional: a full MR-row packed A sliver against ns >= 1 full B slivers in turn (packed, or
  // read in place when UkrEpi::bstride is set), each exactly ukr's full MR×NR tile (c, and the
  // epilogue's bias/preact, advance NR columns per sliver). One call per row strip instead of one
  // per tile: at a short K block (the weight gradient at batch 32 has kc = 32) the per-tile call
  // and set-up cost a quarter of the tile (bench/results/design_choices.md#gemm-strip).
  void (*ukr_strip)(int ns, int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc,
                    const UkrEpi& e) = nullptr;
  // Optional: sgemm_xwt's kernel (see WtArgs), the same bits as ukr's forward tiles.
  void (*ukr_wt)(const WtArgs& a) = nullptr;
};

// The MC and NC cache blocks of a kernel set (gemm_blocking.cpp): derived at run time from the
// cache sizes the OS reports, or forced (tests; NNCORE_GEMM_MC / NNCORE_GEMM_NC, and
// NNCORE_GEMM_PANEL_KB for panel_bytes, for tuning runs). They decide
// only which tiles run when and what is packed when, never an element's FMA chain, so every
// choice gives the same bits. panel_bytes: the largest packed B panel of all of K that is
// re-read from L3 rather than repacked (run_block's C-resident order).
struct Blocking {
  int mc = 0, nc = 0;
  int cols_max = 0;  // KernelSet::cols_max, or NNCORE_GEMM_COLS_MAX (0: never the narrow kernel)
  long panel_bytes = 0;
  int group_cols =
      0;  // columns (a multiple of NR) per pass of a row block's A slivers (macro_step)
  const char* source = "";  // "derived" | "forced"
};
Blocking blocking(const KernelSet& ks);
// mc, nc (and group_cols) > 0 force them for every kernel set (rounded up to MR / NR
// multiples); 0 restores the derived ones. Not thread-safe against running GEMMs: call between
// them.
void force_blocking(int mc, int nc, int group_cols = 0);

// The widest column chunk a ukr_cols kernel handles.
constexpr int kColsLimit = 12;

// The K blocking. It depends on K only (not on the ISA, M, N or the thread count), so every
// path and every M gives the same rounding.
constexpr int kKcMax = 256;
int kc_blocks(int K);
// Start of block b of nb over K: blocks are near-equal, multiples of 8 except the last
// (returns K for b >= nb; a block may be empty only for huge K).
int kc_start(int K, int nb, int b);

// Baseline (portable) packing, used by every kernel set unless it brings its own.
void pack_a_generic(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                    int mr, float* dst);
void pack_b_generic(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0, int n,
                    int nr, float* dst);

// The GEMM part of the ISA's context table (isa/context_<isa>.cpp).
const KernelSet& kernel_set(Isa isa);

}  // namespace nncore::gemm

namespace nncore {
// A pre-packed B (gemm.cpp packs it; gemv_packed.cpp reads it too).
struct PackedB::Impl {
  int K = 0, N = 0;
  int npad = 0;                         // N rounded up to the kernel's NR
  const gemm::KernelSet* ks = nullptr;  // the kernel the layout was packed for
  fvec data;  // K blocks one after another; block at p0 holds kc×npad floats, NR slivers of kc rows
};
}  // namespace nncore

namespace nncore::ref {
void finalise_tile(int m, int n, const float* t, int ldt, float* c, std::ptrdiff_t ldc,
                   const gemm::UkrEpi& e);
void sgemm_ukr_ref(int m, int n, int kc, const float* a, const float* b, float* c,
                   std::ptrdiff_t ldc, const gemm::UkrEpi& e);
constexpr int kMR = 4, kNR = 16;
}  // namespace nncore::ref
namespace nncore::avx2 {
void sgemm_ukr_avx2(int m, int n, int kc, const float* a, const float* b, float* c,
                    std::ptrdiff_t ldc, const gemm::UkrEpi& e);
void sgemm_ukr_avx2_row(int kc, const float* a, const float* b, float* c, const gemm::UkrEpi& e);
void sgemm_ukr_avx2_few(int m, int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc,
                        const gemm::UkrEpi& e);
void sgemm_ukr_avx2_strip(int ns, int kc, const float* a, const float* b, float* c,
                          std::ptrdiff_t ldc, const gemm::UkrEpi& e);
void sgemm_ukr_avx2_wt(const gemm::WtArgs& a);  // KernelSet::ukr_wt (sgemm_xwt_avx2.cpp)
constexpr int kMR = 6, kNR = 16, kRowSlivers = 4, kFewRowsMax = 3, kFewSlivers = 2;
// Column chunks up to this wide take the narrow-N kernel (x86::sgemm_cols_mr6).
constexpr int kColsMax = 4;  // measured: at n = 8 the 6-row tile is faster (bench_gemm "narrow")
}  // namespace nncore::avx2
// Packing with AVX2 instructions (gemm_pack_avx2.cpp), for both x86 kernel sets (AVX-512 implies
// AVX2). Same contracts as pack_b_generic / pack_a_generic.
namespace nncore::x86 {
void sgemm_pack_b_avx2(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0, int n,
                       int nr, float* dst);
// 8-row A slivers (the AVX-512 set's MR) through 8×8 register transposes; other heights go to
// pack_a_generic.
void sgemm_pack_a8_avx2(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                        int mr, float* dst);
// 6-row A slivers (the AVX2 set's MR) through 6×8 register transposes; other heights go to
// pack_a_generic.
void sgemm_pack_a6_avx2(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                        int mr, float* dst);
// The narrow-N kernels (KernelSet::ukr_cols) for 8-row and 6-row A slivers.
void sgemm_cols_mr8(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk,
                    float* c, std::ptrdiff_t ldc, const gemm::UkrEpi& e);
void sgemm_cols_mr6(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk,
                    float* c, std::ptrdiff_t ldc, const gemm::UkrEpi& e);
}  // namespace nncore::x86
namespace nncore::avx512 {
void sgemm_ukr_avx512(int m, int n, int kc, const float* a, const float* b, float* c,
                      std::ptrdiff_t ldc, const gemm::UkrEpi& e);
void sgemm_ukr_avx512_row(int kc, const float* a, const float* b, float* c, const gemm::UkrEpi& e);
void sgemm_ukr_avx512_strip(int ns, int kc, const float* a, const float* b, float* c,
                            std::ptrdiff_t ldc, const gemm::UkrEpi& e);
void sgemm_ukr_avx512_wt(const gemm::WtArgs& a);  // KernelSet::ukr_wt (sgemm_xwt_avx512.cpp)
constexpr int kMR = 8, kNR = 48, kRowSlivers = 3;
// Column chunks up to this wide take the narrow-N kernel (x86::sgemm_cols_mr8).
constexpr int kColsMax = 12;
}  // namespace nncore::avx512
namespace nncore::neon {
void sgemm_ukr_neon(int m, int n, int kc, const float* a, const float* b, float* c,
                    std::ptrdiff_t ldc, const gemm::UkrEpi& e);
constexpr int kMR = 8, kNR = 12;
}  // namespace nncore::neon
