// AVX2 kernel of sgemm_xwt (gemm_xwt.cpp): up to 6 rows of W read in place against one packed
// column tile of Xᵀ (up to 16 batch rows), through every K block, stored transposed into Y.
// Each element's FMA chain, K-block sums and bias are those of tile<6, 2> in sgemm_ukr_avx2.cpp
// (fma(x, w, acc) = fma(w, x, acc)): the same bits as the packed-W forward.
#include <immintrin.h>

#include "gemm/gemm_internal.h"

// GCC 12 cannot see that a call has at least one K block (a.nb >= 1), so the partial tiles' reads
// of buf trip -Wmaybe-uninitialized (CI builds with -Werror); every element read was written.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace nncore::avx2 {
namespace {

// M rows of W (row i at w + i*ldw, k contiguous) × NV 8-column vectors of the packed Xᵀ tile.
template <int M, int NV>
void wt_tile(const gemm::WtArgs& a) {
  alignas(32) float buf[kMR][kNR];  // C tile: rows = output units, columns = batch rows
  for (int blk = 0; blk < a.nb; ++blk) {
    const int p0 = a.kstart[blk], kc = a.kstart[blk + 1] - p0;
    const float* __restrict b = a.bblk[blk];
    const float* wr[M];
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) wr[i] = a.w + i * a.ldw + p0;
    __m256 acc[M][NV];
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int k = 0; k < kc; ++k) {
      // Each row of W is its own stream, one line per 16 values of K: fetch ahead of use, as
      // the AVX-512 kernel does.
      if ((k & 15) == 0)
#pragma GCC unroll 6
        for (int i = 0; i < M; ++i) _mm_prefetch((const char*)(wr[i] + k + 64), _MM_HINT_T0);
      __m256 bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + k * kNR + 8 * v);
#pragma GCC unroll 6
      for (int i = 0; i < M; ++i) {
        const __m256 av = _mm256_broadcast_ss(wr[i] + k);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
      }
    }
    // As the tile's finalise: acc (+ C of the earlier K blocks) (+ bias in the last block).
    const bool final = blk == a.nb - 1;
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      const __m256 bias = a.bias ? _mm256_set1_ps(a.bias[i]) : _mm256_setzero_ps();
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        __m256 r = acc[i][v];
        if (blk > 0) r = _mm256_add_ps(r, _mm256_load_ps(buf[i] + 8 * v));
        if (final && a.bias) r = _mm256_add_ps(r, bias);
        _mm256_store_ps(buf[i] + 8 * v, r);
      }
    }
  }
  // Transposed store: Y[j][i] = buf[i][j]. Six full rows go through a 4×8 and a 2×8 register
  // transpose per 8 batch rows (a 16-byte and an 8-byte store per batch row); partial tiles
  // element by element.
  for (float* dst : {a.y, a.preact}) {
    if (!dst) continue;
    if (M == kMR) {
      for (int j0 = 0; j0 < a.n; j0 += 8) {
        const int nj = a.n - j0 < 8 ? a.n - j0 : 8;
        __m256 r[6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; ++i) r[i] = _mm256_load_ps(buf[i] + j0);
        // per 128-bit lane L: t0 = (r0, r1) of columns 4L, 4L+1; t1 of 4L+2, 4L+3; t2, t3 as
        // t0, t1 for r2, r3; t4, t5 for r4, r5.
        const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
        // rows 0-3 of column 4L + c in lane L of u[c]
        const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                             _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
        const __m128 lo45[2] = {_mm256_castps256_ps128(t4), _mm256_castps256_ps128(t5)};
        const __m128 hi45[2] = {_mm256_extractf128_ps(t4, 1), _mm256_extractf128_ps(t5, 1)};
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          if (j >= nj) break;
          const int c = j & 3;
          float* yr = dst + (std::ptrdiff_t)(j0 + j) * a.ldy;
          const __m128 top = j < 4 ? _mm256_castps256_ps128(u[c]) : _mm256_extractf128_ps(u[c], 1);
          const __m128 pair = j < 4 ? lo45[c >> 1] : hi45[c >> 1];
          _mm_storeu_ps(yr, top);
          if (c & 1)
            _mm_storeh_pi(reinterpret_cast<__m64*>(yr + 4), pair);
          else
            _mm_storel_pi(reinterpret_cast<__m64*>(yr + 4), pair);
        }
      }
    } else {
      for (int j = 0; j < a.n; ++j)
        for (int i = 0; i < M; ++i) dst[(std::ptrdiff_t)j * a.ldy + i] = buf[i][j];
    }
  }
}

using WtFn = void (*)(const gemm::WtArgs&);
const WtFn kWt[kMR][2] = {
    {wt_tile<1, 1>, wt_tile<1, 2>}, {wt_tile<2, 1>, wt_tile<2, 2>}, {wt_tile<3, 1>, wt_tile<3, 2>},
    {wt_tile<4, 1>, wt_tile<4, 2>}, {wt_tile<5, 1>, wt_tile<5, 2>}, {wt_tile<6, 1>, wt_tile<6, 2>},
};

}  // namespace

void sgemm_ukr_avx2_wt(const gemm::WtArgs& a) { kWt[a.m - 1][(a.n + 7) / 8 - 1](a); }

}  // namespace nncore::avx2
