// AVX2+FMA SGEMM micro-kernel, 6×16 tile (12 ymm accumulators), masked edge tiles; plus the
// B packing with 8×8 register transposes that every x86 SIMD path uses (the weight re-pack).
// Instantiated for every (rows 1..6, 8-column vectors 1..2): see sgemm_ukr_avx512.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm/gemm_internal.h"

namespace nncore::avx2 {
namespace {

__m256i lane_mask(int cnt) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The contract's tile finalisation (gemm_internal.h). Masked is only for a partial last column
// vector: vmaskmovps stores are microcoded on AMD Zen (one per ~12 cycles), which cost a full 6x16
// tile ~10 % of its K loop when every store went through them.
// kUnit >= 0: alpha = 1, beta = 0 or 1, and the epilogue's parts known at compile time (bit 2:
// beta = 1, bit 1: bias, bit 0: preact), so the stores run without the per-store tests
// (bench/results/issue33.md#unit-epilogue); the same ops in the same order.
constexpr int kGeneric = -1;
template <int M, int NV, bool Masked, int kUnit = kGeneric>
inline void finalise(const __m256 (&acc)[M][NV], int tail, float* c, std::ptrdiff_t ldc,
                     const gemm::UkrEpi& e) {
  const __m256i last = lane_mask(tail);
  const __m256 valpha = _mm256_set1_ps(e.alpha), vbeta = _mm256_set1_ps(e.beta);
  constexpr bool generic = kUnit == kGeneric;
  const bool scale = generic && e.alpha != 1.f;
  const bool read_c = generic ? e.beta != 0.f : (kUnit & 4) != 0;
  const bool scale_c = generic && e.beta != 1.f;
  const bool has_bias = generic ? e.bias != nullptr : (kUnit & 2) != 0;
  const bool has_preact = generic ? e.preact != nullptr : (kUnit & 1) != 0;
  auto load = [&](const float* p, bool edge) {
    return Masked && edge ? _mm256_maskload_ps(p, last) : _mm256_loadu_ps(p);
  };
  auto store = [&](float* p, __m256 r, bool edge) {
    if (Masked && edge)
      _mm256_maskstore_ps(p, last, r);
    else
      _mm256_storeu_ps(p, r);
  };
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const bool edge = v == NV - 1;
    const __m256 bias = has_bias ? load(e.bias + 8 * v, edge) : _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      __m256 r = acc[i][v];
      if (scale) r = _mm256_mul_ps(valpha, r);
      float* cp = c + i * ldc + 8 * v;
      if (read_c) {
        __m256 cv = load(cp, edge);
        if (scale_c) cv = _mm256_mul_ps(vbeta, cv);
        r = _mm256_add_ps(r, cv);
      }
      if (has_bias) r = _mm256_add_ps(r, bias);
      if (has_preact) store(e.preact + i * e.ldp + 8 * v, r, edge);
      store(cp, r, edge);
    }
  }
}

// AS: the distance between an A column's values, kMR in a packed sliver, 1 for a row read in
// place (UkrEpi::a_row).
template <int M, int NV, int AS = kMR>
inline __attribute__((always_inline)) void tile(int n, int kc, const float* __restrict a,
                                                const float* __restrict b, float* c,
                                                std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  __m256 acc[M][NV];
  // Fetch the C tile now so it arrives during the K loop (see sgemm_ukr_avx512.cpp).
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i) {
    const char* row = reinterpret_cast<const char*>(c + i * ldc);
    _mm_prefetch(row, _MM_HINT_T0);
    _mm_prefetch(row + 4 * (n - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + k * kNR + 8 * v);
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + k * AS + i);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  const int tail = n - 8 * (NV - 1);
  if (M == kMR && tail == 8 && e.alpha == 1.f && (e.beta == 0.f || e.beta == 1.f)) {
    // Full tiles (the hot ones): the epilogue chosen once per tile.
    switch ((e.beta != 0.f) << 2 | (e.bias != nullptr) << 1 | (e.preact != nullptr)) {
      case 0: return finalise<M, NV, false, 0>(acc, tail, c, ldc, e);
      case 1: return finalise<M, NV, false, 1>(acc, tail, c, ldc, e);
      case 2: return finalise<M, NV, false, 2>(acc, tail, c, ldc, e);
      case 3: return finalise<M, NV, false, 3>(acc, tail, c, ldc, e);
      case 4: return finalise<M, NV, false, 4>(acc, tail, c, ldc, e);
      case 5: return finalise<M, NV, false, 5>(acc, tail, c, ldc, e);
      case 6: return finalise<M, NV, false, 6>(acc, tail, c, ldc, e);
      default: return finalise<M, NV, false, 7>(acc, tail, c, ldc, e);
    }
  }
  if (tail == 8)
    finalise<M, NV, false>(acc, tail, c, ldc, e);
  else
    finalise<M, NV, true>(acc, tail, c, ldc, e);
}

using TileFn = void (*)(int, int, const float*, const float*, float*, std::ptrdiff_t,
                        const gemm::UkrEpi&);
const TileFn kTiles[kMR][2] = {
    {tile<1, 1>, tile<1, 2>}, {tile<2, 1>, tile<2, 2>}, {tile<3, 1>, tile<3, 2>},
    {tile<4, 1>, tile<4, 2>}, {tile<5, 1>, tile<5, 2>}, {tile<6, 1>, tile<6, 2>},
};
const TileFn kRowTiles[2] = {tile<1, 1, 1>, tile<1, 2, 1>};

// M rows against NS full packed slivers (NS·16 columns): 2·M·NS FMA chains instead of 2·M, so a
// product with a few rows, or the last 1-3 rows of a larger one (128 = 21·6 + 2), keeps both FMA
// pipes busy rather than waiting on the FMA latency; one row (batch-1) is then bound by reading B
// (as the AVX-512 row kernel, bench/results/design_choices.md#gemm-row-kernel). Each element's
// chain and finalisation are those of tile<M, 2>: the same bits.
template <int M, int NS, int AS>
void slivers(int kc, const float* __restrict a, const float* __restrict b, float* c,
             std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  __m256 acc[M][2 * NS];
#pragma GCC unroll 3
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < 2 * NS; ++v) acc[i][v] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    __m256 bv[2 * NS];
#pragma GCC unroll 4
    for (int s = 0; s < NS; ++s)
#pragma GCC unroll 2
      for (int v = 0; v < 2; ++v)
        bv[2 * s + v] = _mm256_loadu_ps(b + (std::ptrdiff_t)s * kc * kNR + k * kNR + 8 * v);
#pragma GCC unroll 3
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + k * AS + i);
#pragma GCC unroll 8
      for (int v = 0; v < 2 * NS; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  finalise<M, 2 * NS, false>(acc, 8, c, ldc, e);
}

}  // namespace

// One row × kRowSlivers full packed slivers (see slivers).
void sgemm_ukr_avx2_row(int kc, const float* a, const float* b, float* c, const gemm::UkrEpi& e) {
  if (e.a_row)
    slivers<1, kRowSlivers, 1>(kc, a, b, c, 0, e);
  else
    slivers<1, kRowSlivers, kMR>(kc, a, b, c, 0, e);
}

// 2 <= m <= kFewRowsMax packed rows × kFewSlivers full packed slivers (see slivers).
void sgemm_ukr_avx2_few(int m, int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc,
                        const gemm::UkrEpi& e) {
  if (m == 2)
    slivers<2, kFewSlivers, kMR>(kc, a, b, c, ldc, e);
  else
    slivers<3, kFewSlivers, kMR>(kc, a, b, c, ldc, e);
}

// ns full 6×16 tiles along one row strip (see KernelSet::ukr_strip): tile<6, 2> each.
void sgemm_ukr_avx2_strip(int ns, int kc, const float* a, const float* b, float* c,
                          std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  gemm::UkrEpi es = e;
  // Packed slivers are kc·NR floats apart; B read in place (bstride) has the next NR columns.
  const std::ptrdiff_t step = e.bstride ? kNR : (std::ptrdiff_t)kc * kNR;
  for (int s = 0; s < ns; ++s) {
    tile<kMR, 2>(kNR, kc, a, b + s * step, c + s * kNR, ldc, es);
    if (es.bias) es.bias += kNR;
    if (es.preact) es.preact += kNR;
  }
}

// c (m×n, ldc) <- finalise(a_sliver (kc×6) · b_sliver (kc×16)), 1 <= m <= 6, 1 <= n <= 16
void sgemm_ukr_avx2(int m, int n, int kc, const float* a, const float* b, float* c,
                    std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  const int nv = (n + 7) / 8 - 1;
  const TileFn tile_fn = e.a_row ? kRowTiles[nv] : kTiles[m - 1][nv];
  tile_fn(n, kc, a, b, c, ldc, e);
}

}  // namespace nncore::avx2
