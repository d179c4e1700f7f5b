// Single-precision GEMM for the layouts backprop needs.
//   C (M×N, ldc) = alpha · op(A) · op(B) + beta · C,  then the optional epilogue per element:
//   C[i,j] = act(C[i,j] + bias[j]).
// op(A) is M×K, op(B) is K×N, all row-major. Trans::T means the operand is stored transposed:
//   forward  Y  = X·Wᵀ   : sgemm(N, T, n, out, in, 1, X, in, W, in, 0, Y, out)
//   backward dX = dY·W   : sgemm(N, N, n, in, out, 1, dY, out, W, in, 0, dX, in)
//   backward dW += dYᵀ·X : sgemm(T, N, out, in, n, 1, dY, out, X, in, 1, dW, in)
// Contract: beta == 0 never reads C (it may hold NaN). K == 0 gives beta·C (+ epilogue).
// Determinism: K is never split across threads and each C element is one fixed FMA chain,
// so results are bitwise identical for any thread count and do not depend on M.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>

#include "nncore/activations.h"

namespace nncore {

enum class Trans : int { N = 0, T = 1 };

struct Epilogue {
  const float* bias = nullptr;  // length N, added to every row; null = none
  Act act = Act::linear;        // elementwise only (softmax is not allowed here)
  float alpha = 0.f;            // activation parameter
  float* preact = nullptr;      // if set, C + bias before the activation is stored here (ld = ldc)
  // If set, becomes true when any finished element of C is NaN or ±inf (never reset here). Each
  // row strip is checked right after its last K block is stored, while it is in L1: a weight
  // gradient's finiteness without the optimizer's later pass over it from memory
  // (bench/results/issue33.md#finite-in-epilogue).
  std::atomic<bool>* nonfinite = nullptr;
  // If set, a_row_sums[i] += the sum over k of op(A)[i][k], for every row i of C: each row's sum
  // in float, k ascending from 0, then added (a weight gradient dzᵀ·x gives its layer's bias
  // gradient, the column sums of dz, this way). Summed from the packed A block while it is in
  // cache, where a separate pass read dz from memory again at large batches.
  float* a_row_sums = nullptr;
};

// How threads share the output. auto_ minimises the busiest thread's work; columns gives each
// thread whole columns of C (a Dense forward: whole output units, i.e. only its own rows of W,
// the rows the same core wrote in the optimizer step); rows gives each thread whole rows of C
// when there are at least 4 row slivers per thread, else auto_ (a weight gradient: each core
// then updates the rows of W it computed). Placement only: the bits never change.
enum class GemmSplit : int { auto_ = 0, columns = 1, rows = 2 };

void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, const Epilogue* ep = nullptr,
           GemmSplit split = GemmSplit::auto_);

// The thread (0..threads-1) that computes C(i, j) when sgemm with an unpacked B runs these
// sizes on `threads` threads (0 when it stays on one thread). Lets callers that touch C again
// elementwise (the optimizer reading a weight gradient) do it on the core that wrote it.
int sgemm_thread_of(int M, int N, int K, int threads, int i, int j,
                    GemmSplit split = GemmSplit::auto_);

// The naive twin: same semantics, triple loop, accumulates in double. Test oracle.
void sgemm_naive(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc,
                 const Epilogue* ep = nullptr);

// B operand kept in the micro-kernel's packed layout (weights), so a forward pass does not
// re-pack it. pack() must be called again after B changes (e.g. after an optimizer step).
class PackedB {
 public:
  PackedB();
  ~PackedB();
  PackedB(PackedB&&) noexcept;
  PackedB& operator=(PackedB&&) noexcept;
  void pack(Trans tb, int K, int N, const float* B, int ldb);
  // The two halves of pack(), for a caller that packs B piecewise as it writes it (the
  // optimizer's chunks, see Dense): layout() sizes the buffer for the active ISA's kernel (a
  // no-op when it already has that layout) and returns the column unit, the kernel's NR;
  // pack_cols() packs columns [j0, j1) of op(B) for all of K on the calling thread (j0 a
  // multiple of the unit, j1 one too or N). Different threads may pack disjoint units at once.
  int layout(int K, int N);
  void pack_cols(Trans tb, const float* B, int ldb, int j0, int j1);
  int K() const;
  int N() const;
  bool empty() const;
  struct Impl;
  Impl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

// y (N) = act(x (K) · B + bias) for one row against a pre-packed B, on the calling thread: the
// same bits as sgemm_packed(Trans::N, 1, 1.f, x, K, B, 0.f, y, N, ep). The batch-1 predict path:
// it streams B once, one group of packed slivers at a time through all of K, and applies the
// activation to the group while it is in L1. With `reverse` it visits the groups last to first:
// calls that alternate the direction find the weights the previous call read last still in L2
// (bench/results/design_choices.md#gemv-alternating).
void sgemv_packed(const float* x, const PackedB& B, float* y, const Epilogue* ep, bool reverse);

// Y (n×N, ldy) = X (n×K, ldx) · Wᵀ (+ epilogue), W (N×K, ldw) read in place: no packed copy of
// W, only of the n rows of X (as Xᵀ). For a training forward at a small batch, where packing W
// after every optimizer step costs more than packing X (bench/results/issue33.md#xwt). The same
// bits as sgemm(N, T, n, N, K, 1, X, ldx, W, ldw, 0, Y, ldy, ep) and as sgemm_packed with W
// packed, on any thread count. Returns false, doing nothing, when the active kernel set has no
// such kernel (the caller then takes one of those).
bool sgemm_xwt(int n, int N, int K, const float* X, int ldx, const float* W, int ldw, float* Y,
               int ldy, const Epilogue* ep = nullptr);
// Whether sgemm_xwt runs on the active kernel set (AVX-512 and AVX2; not NEON or scalar).
bool sgemm_xwt_available();
// Whether sgemm_xwt, available, runs at most 0.85 of the packed forward's vector FMAs for n rows,
// N output units and K inputs: at least 64 rows and 256 inputs, and N filling the packed
// kernel's NR-column tiles badly and its own MR-unit strips well (N = 100 on AVX-512: 48 + 48 + 4
// columns against 13 strips).
bool sgemm_xwt_pays(int n, int N, int K);
// C = alpha · op(A) · B + beta · C (+ epilogue) with B pre-packed.
void sgemm_packed(Trans ta, int M, float alpha, const float* A, int lda, const PackedB& B,
                  float beta, float* C, int ldc, const Epilogue* ep = nullptr,
                  GemmSplit split = GemmSplit::auto_);

}  // namespace nncore
