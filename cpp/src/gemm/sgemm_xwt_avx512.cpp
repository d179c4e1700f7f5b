// AVX-512 kernel of sgemm_xwt (gemm_xwt.cpp): up to 8 rows of W read in place against one packed
// column tile of Xᵀ (up to 48 batch rows), through every K block, stored transposed into Y.
// Each element's FMA chain, K-block sums and bias are those of tile<8, 3> in sgemm_ukr_avx512.cpp
// (fma(x, w, acc) = fma(w, x, acc)): the same bits as the packed-W forward.
#include <immintrin.h>

#include "gemm/gemm_internal.h"

// GCC 12's unpack/shuffle intrinsics pass a self-initialised _mm512_undefined_ps() as their
// unused merge operand, which -Wmaybe-uninitialized reports once they are inlined here (a
// false positive: every lane is written). CI builds with -Werror.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace nncore::avx512 {
namespace {

// M rows of W (row i at w + i*ldw, k contiguous) × NV 16-column vectors of the packed Xᵀ tile.
template <int M, int NV>
void wt_tile(const gemm::WtArgs& a) {
  alignas(64) float buf[kMR][kNR];  // C tile: rows = output units, columns = batch rows
  for (int blk = 0; blk < a.nb; ++blk) {
    const int p0 = a.kstart[blk], kc = a.kstart[blk + 1] - p0;
    const float* __restrict b = a.bblk[blk];
    const float* wr[M];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) wr[i] = a.w + i * a.ldw + p0;
    __m512 acc[M][NV];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int k = 0; k < kc; ++k) {
      // Each row of W is its own stream, one line per 16 values of K: fetch a line ahead of use
      // (measured on the Xeon, bs-32 layer-0 forward: 188-213 -> 186-192 us).
      if ((k & 15) == 0)
#pragma GCC unroll 8
        for (int i = 0; i < M; ++i) _mm_prefetch((const char*)(wr[i] + k + 64), _MM_HINT_T0);
      __m512 bv[NV];
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + k * kNR + 16 * v);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_set1_ps(wr[i][k]);
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
    }
    // As the Finaliser: acc (+ C of the earlier K blocks) (+ bias in the last block).
    const bool final = blk == a.nb - 1;
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m512 bias = a.bias ? _mm512_set1_ps(a.bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) {
        __m512 r = acc[i][v];
        if (blk > 0) r = _mm512_add_ps(r, _mm512_load_ps(buf[i] + 16 * v));
        if (final && a.bias) r = _mm512_add_ps(r, bias);
        _mm512_store_ps(buf[i] + 16 * v, r);
      }
    }
  }
  // Transposed store: Y[j][i] = buf[i][j]. Eight full rows go through 8×16 register transposes
  // (one 32-byte row of Y per batch row); partial tiles element by element.
  for (float* dst : {a.y, a.preact}) {
    if (!dst) continue;
    if (M == kMR) {
      for (int j0 = 0; j0 < a.n; j0 += 16) {
        const int nj = a.n - j0 < 16 ? a.n - j0 : 16;
        // rows r0..r7 (16 columns each) -> 16 columns of 8: two 8×8 transposes per 256-bit half.
        __m512 r[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) r[i] = _mm512_load_ps(buf[i] + j0);
        const __m512 t0 = _mm512_unpacklo_ps(r[0], r[1]), t1 = _mm512_unpackhi_ps(r[0], r[1]);
        const __m512 t2 = _mm512_unpacklo_ps(r[2], r[3]), t3 = _mm512_unpackhi_ps(r[2], r[3]);
        const __m512 t4 = _mm512_unpacklo_ps(r[4], r[5]), t5 = _mm512_unpackhi_ps(r[4], r[5]);
        const __m512 t6 = _mm512_unpacklo_ps(r[6], r[7]), t7 = _mm512_unpackhi_ps(r[6], r[7]);
        // per 128-bit lane L: u[c] holds rows 0-3 (u0..u3) or 4-7 (u4..u7) of column 4L + c
        const __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xEE);
        const __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xEE);
        const __m512 u4 = _mm512_shuffle_ps(t4, t6, 0x44), u5 = _mm512_shuffle_ps(t4, t6, 0xEE);
        const __m512 u6 = _mm512_shuffle_ps(t5, t7, 0x44), u7 = _mm512_shuffle_ps(t5, t7, 0xEE);
        const __m512 lo[4] = {u0, u1, u2, u3}, hi[4] = {u4, u5, u6, u7};
        alignas(64) float col[16][8];
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          // lane L of lo[c] / hi[c]: column 4L + c, rows 0-3 / 4-7
          const __m512 x0 = _mm512_shuffle_f32x4(lo[c], hi[c], 0x44);  // lo.L0 lo.L1 hi.L0 hi.L1
          const __m512 x1 = _mm512_shuffle_f32x4(lo[c], hi[c], 0xEE);  // lo.L2 lo.L3 hi.L2 hi.L3
          // column c: lo.L0 hi.L0; column 4 + c: lo.L1 hi.L1; 8 + c: lo.L2 hi.L2; 12 + c: ...
          _mm256_store_ps(col[c], _mm512_castps512_ps256(_mm512_shuffle_f32x4(x0, x0, 0x08)));
          _mm256_store_ps(col[4 + c], _mm512_castps512_ps256(_mm512_shuffle_f32x4(x0, x0, 0x0D)));
          _mm256_store_ps(col[8 + c], _mm512_castps512_ps256(_mm512_shuffle_f32x4(x1, x1, 0x08)));
          _mm256_store_ps(col[12 + c], _mm512_castps512_ps256(_mm512_shuffle_f32x4(x1, x1, 0x0D)));
        }
        for (int j = 0; j < nj; ++j)
          _mm256_storeu_ps(dst + (std::ptrdiff_t)(j0 + j) * a.ldy, _mm256_load_ps(col[j]));
      }
    } else {
      for (int j = 0; j < a.n; ++j)
        for (int i = 0; i < M; ++i) dst[(std::ptrdiff_t)j * a.ldy + i] = buf[i][j];
    }
  }
}

using WtFn = void (*)(const gemm::WtArgs&);
const WtFn kWt[kMR][3] = {
    {wt_tile<1, 1>, wt_tile<1, 2>, wt_tile<1, 3>}, {wt_tile<2, 1>, wt_tile<2, 2>, wt_tile<2, 3>},
    {wt_tile<3, 1>, wt_tile<3, 2>, wt_tile<3, 3>}, {wt_tile<4, 1>, wt_tile<4, 2>, wt_tile<4, 3>},
    {wt_tile<5, 1>, wt_tile<5, 2>, wt_tile<5, 3>}, {wt_tile<6, 1>, wt_tile<6, 2>, wt_tile<6, 3>},
    {wt_tile<7, 1>, wt_tile<7, 2>, wt_tile<7, 3>}, {wt_tile<8, 1>, wt_tile<8, 2>, wt_tile<8, 3>},
};

}  // namespace

void sgemm_ukr_avx512_wt(const gemm::WtArgs& a) { kWt[a.m - 1][(a.n + 15) / 16 - 1](a); }

}  // namespace nncore::avx512
