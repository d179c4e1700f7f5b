// Narrow-N SGEMM kernel for the x86 kernel sets: products whose whole N is a few columns (a
// regression output of 1, up to 12 logits, the dW of such a layer, the last sliver of a wider one),
// vectorised over the rows of the packed A block instead of over columns. A column-vectorised tile
// there spends its FMAs on zero padding (1 useful lane of 16 for N = 1 with AVX-512) and its
// finalisation on one element per row; here each k step loads one row vector per A sliver (its k-th
// MR floats) and multiplies it by n broadcast B values, so every lane of every FMA is a row of C.
//
// Same bits as the tile kernels: each element's chain is acc = fma(a[k], b[k], acc) over
// k = 0..kc-1 from 0 (fma is commutative in its two factors), finalised by the contract's
// sequence (gemm_internal.h) with one IEEE op per step.
//
// AVX2+FMA only, so the AVX-512 set (MR 8) and the AVX2 set (MR 6) share it.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "gemm/gemm_internal.h"

namespace nncore::x86 {
namespace {

__m256i lane_mask(int cnt) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// One group of S slivers (rows [0, rows), rows <= S*MR) × n = N columns.
// ldbk: distance between B's k rows (NR for a packed sliver, the row stride for B in place).
template <int MR, int N, int S>
void group(int rows, int kc, const float* __restrict a, const float* __restrict b,
           std::ptrdiff_t ldbk, float* c, std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  // The rows of each sliver that exist. A full sliver loads whole vectors: for MR 6 its lanes 6
  // and 7 hold the next k's rows 0 and 1 (never stored; the framework's A buffer has 8 floats of
  // slack for the last k). A partial last sliver's missing rows were never packed: masked.
  __m256i mask[S];
  bool full[S];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) {
    const int r = std::clamp(rows - s * MR, 0, MR);
    mask[s] = lane_mask(r);
    full[s] = r == MR;
  }
  __m256 acc[S][N];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 12
    for (int j = 0; j < N; ++j) acc[s][j] = _mm256_setzero_ps();
  const std::ptrdiff_t sl = (std::ptrdiff_t)kc * MR;
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    __m256 av[S];
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const float* p = a + s * sl + k * MR;
      av[s] = full[s] ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask[s]);
    }
#pragma GCC unroll 12
    for (int j = 0; j < N; ++j) {
      const __m256 bj = _mm256_broadcast_ss(b + k * ldbk + j);
#pragma GCC unroll 8
      for (int s = 0; s < S; ++s) acc[s][j] = _mm256_fmadd_ps(av[s], bj, acc[s][j]);
    }
  }
  // Finalisation. One contiguous output column (N = 1, ldc = ldp = 1, the regression case):
  // vectors over the rows; otherwise element by element from a spilled tile.
  const bool scale = e.alpha != 1.f, read_c = e.beta != 0.f, scale_c = e.beta != 1.f;
  if (N == 1 && ldc == 1 && (!e.preact || e.ldp == 1)) {
    const __m256 valpha = _mm256_set1_ps(e.alpha), vbeta = _mm256_set1_ps(e.beta);
    const __m256 bias = e.bias ? _mm256_broadcast_ss(e.bias) : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const int r = std::clamp(rows - s * MR, 0, MR);
      if (r == 0) break;
      float* cp = c + s * MR;
      float* pp = e.preact ? e.preact + s * MR : nullptr;
      __m256 v = acc[s][0];
      if (scale) v = _mm256_mul_ps(valpha, v);
      if (read_c) {
        __m256 cv = _mm256_maskload_ps(cp, mask[s]);
        if (scale_c) cv = _mm256_mul_ps(vbeta, cv);
        v = _mm256_add_ps(v, cv);
      }
      if (e.bias) v = _mm256_add_ps(v, bias);
      if (r == 8) {
        if (pp) _mm256_storeu_ps(pp, v);
        _mm256_storeu_ps(cp, v);
      } else {  // vmaskmovps stores are microcoded on AMD: a partial vector goes out by lanes
        alignas(32) float t[8];
        _mm256_store_ps(t, v);
        for (int i = 0; i < r; ++i) {
          if (pp) pp[i] = t[i];
          cp[i] = t[i];
        }
      }
    }
    return;
  }
  alignas(32) float t[S][N][8];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 12
    for (int j = 0; j < N; ++j) _mm256_store_ps(t[s][j], acc[s][j]);
  for (int i = 0; i < rows; ++i) {
    const int s = i / MR, l = i % MR;
    float* cp = c + i * ldc;
    for (int j = 0; j < N; ++j) {
      float r = t[s][j][l];
      if (scale) r = e.alpha * r;
      if (read_c) r = r + (scale_c ? e.beta * cp[j] : cp[j]);
      if (e.bias) r = r + e.bias[j];
      if (e.preact) e.preact[i * e.ldp + j] = r;
      cp[j] = r;
    }
  }
}

// Slivers per group: enough independent chains (S·N >= 8 where N allows) to cover the FMA
// latency, within the 16 ymm registers (S·N accumulators + S row vectors + one broadcast).
constexpr int slivers_for(int n) { return n == 1 ? 6 : n == 2 ? 4 : n == 3 ? 3 : n <= 6 ? 2 : 1; }

template <int MR, int N>
void run(int m, int kc, const float* a, const float* b, std::ptrdiff_t ldbk, float* c,
         std::ptrdiff_t ldc, gemm::UkrEpi e) {
  constexpr int S = slivers_for(N);
  const std::ptrdiff_t sl = (std::ptrdiff_t)kc * MR;
  float* const preact0 = e.preact;
  int i = 0;
  for (; i + S * MR <= m; i += S * MR) {
    if (preact0) e.preact = preact0 + i * e.ldp;
    group<MR, N, S>(S * MR, kc, a + (i / MR) * sl, b, ldbk, c + i * ldc, ldc, e);
  }
  for (; i < m; i += MR) {  // the last slivers one by one
    if (preact0) e.preact = preact0 + i * e.ldp;
    group<MR, N, 1>(std::min(MR, m - i), kc, a + (i / MR) * sl, b, ldbk, c + i * ldc, ldc, e);
  }
}

using RunFn = void (*)(int, int, const float*, const float*, std::ptrdiff_t, float*, std::ptrdiff_t,
                       gemm::UkrEpi);

// run<MR, n> for n = 1..kColsLimit, indexed by n - 1.
template <int MR, std::size_t... I>
constexpr std::array<RunFn, sizeof...(I)> runs(std::index_sequence<I...>) {
  return {run<MR, int(I) + 1>...};
}

template <int MR>
void dispatch(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk, float* c,
              std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  static constexpr auto kRuns = runs<MR>(std::make_index_sequence<gemm::kColsLimit>());
  // Callers pass 1 <= n <= kColsLimit (gemm_blocking.cpp clamps cols_max).
  kRuns[n - 1](m, kc, a, b, ldbk, c, ldc, e);
}

}  // namespace

void sgemm_cols_mr8(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk,
                    float* c, std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  dispatch<8>(m, n, kc, a, b, ldbk, c, ldc, e);
}

void sgemm_cols_mr6(int m, int n, int kc, const float* a, const float* b, std::ptrdiff_t ldbk,
                    float* c, std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  dispatch<6>(m, n, kc, a, b, ldbk, c, ldc, e);
}

}  // namespace nncore::x86
