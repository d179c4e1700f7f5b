// AVX-512 SGEMM micro-kernel, 8×48 tile (24 zmm accumulators), masked edge tiles.
// Instantiated for every (rows 1..8, 16-column vectors 1..3), so edge tiles and the small-M
// (GEMV-like, M = 1..5) path run only the FMAs they need with the same per-element FMA chain.
#include <immintrin.h>

#include "gemm/gemm_internal.h"

namespace nncore::avx512 {
namespace {

// The contract's tile finalisation (gemm_internal.h) for one 16-column vector of one row, the
// lanes of mk only: every kernel here stores through it, so they all give the same bits.
struct Finaliser {
  __m512 valpha, vbeta;
  bool scale, read_c, scale_c;
  explicit Finaliser(const gemm::UkrEpi& e)
      : valpha(_mm512_set1_ps(e.alpha)),
        vbeta(_mm512_set1_ps(e.beta)),
        scale(e.alpha != 1.f),
        read_c(e.beta != 0.f),
        scale_c(e.beta != 1.f) {}
  // bias: the vector's bias (loaded once per column vector by the caller), or null for none.
  void store(__m512 r, float* cp, const __m512* bias, float* preact, __mmask16 mk) const {
    if (scale) r = _mm512_mul_ps(valpha, r);
    if (read_c) {
      __m512 cv = _mm512_maskz_loadu_ps(mk, cp);
      if (scale_c) cv = _mm512_mul_ps(vbeta, cv);
      r = _mm512_add_ps(r, cv);
    }
    if (bias) r = _mm512_add_ps(r, *bias);
    if (preact) _mm512_mask_storeu_ps(preact, mk, r);
    _mm512_mask_storeu_ps(cp, mk, r);
  }
};

// How many rows of K ahead a full tile fetches B read in place, from K blocks of kPrefetchMinKc
// rows on. Its rows are a whole row stride apart, which the hardware prefetchers do not follow
// into L1 (packed slivers are contiguous, and are left to them). In the weight gradient at batch
// 2048 this took the GEMM from 132 to 147 GFLOP/s; at batch 32 (kc = 32) the fetches past the
// block's end cost more than they gained (bench/results/issue33.md#dw-prefetch).
constexpr int kPrefetchRows = 8, kPrefetchMinKc = 64;

// The FMA chains of one tile: acc[i][v] += a[k, i] · b[k, 16v..16v+15] over k = 0..kc-1.
// kMaskB: the last vector of each B row is loaded under bmask. Only B read in place past its
// last column needs it: a zero-masking load costs an ALU uop besides the load on Golden Cove,
// which at one per k took the full tile from 100 to 94 % of peak (issue33.md#masked-b-load).
template <int M, int NV, int AS, bool kPrefetch, bool kMaskB>
__attribute__((always_inline)) inline void multiply(int kc, const float* __restrict a,
                                                    const float* __restrict b, std::ptrdiff_t sb,
                                                    __mmask16 bmask, __m512 (&acc)[M][NV]) {
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    if (kPrefetch) {
      const char* ahead = reinterpret_cast<const char*>(b + (k + kPrefetchRows) * sb);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) _mm_prefetch(ahead + 64 * v, _MM_HINT_T0);
      _mm_prefetch(ahead + 64 * NV - 4, _MM_HINT_T0);  // the row's last line when unaligned
    }
    __m512 bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v)
      bv[v] = kMaskB && v == NV - 1 ? _mm512_maskz_loadu_ps(bmask, b + k * sb + 16 * v)
                                    : _mm512_loadu_ps(b + k * sb + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m512 av = _mm512_set1_ps(a[k * AS + i]);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
}

// The Finaliser's steps for alpha = 1 and beta = 0 or 1, with the tests made at compile time:
// r = acc (+ C when kAddC) (+ bias when kBias), stored to preact (when kPre) and C. The same ops
// in the same order, so the same bits.
template <int M, int NV, bool kAddC, bool kBias, bool kPre>
__attribute__((always_inline)) inline void finish_unit(__m512 (&acc)[M][NV], __mmask16 last,
                                                       float* c, std::ptrdiff_t ldc,
                                                       const gemm::UkrEpi& e) {
#pragma GCC unroll 3
  for (int v = 0; v < NV; ++v) {
    const __mmask16 mk = v == NV - 1 ? last : (__mmask16)0xFFFF;
    __m512 bias = _mm512_setzero_ps();
    if (kBias) bias = _mm512_maskz_loadu_ps(mk, e.bias + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float* cp = c + i * ldc + 16 * v;
      __m512 r = acc[i][v];
      if (kAddC) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk, cp));
      if (kBias) r = _mm512_add_ps(r, bias);
      if (kPre) _mm512_mask_storeu_ps(e.preact + i * e.ldp + 16 * v, mk, r);
      _mm512_mask_storeu_ps(cp, mk, r);
    }
  }
}

// AS: the distance between an A column's values, kMR in a packed sliver, 1 for a row read in
// place (UkrEpi::a_row).
template <int M, int NV, int AS = kMR>
void tile(int n, int kc, const float* __restrict a, const float* __restrict b, float* c,
          std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  __m512 acc[M][NV];
  // Fetch the C tile now so it arrives during the K loop: for large products C lives in L3 or
  // memory (bench/results/design_choices.md#gemm-c-prefetch).
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    const char* row = reinterpret_cast<const char*>(c + i * ldc);
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) _mm_prefetch(row + 64 * v, _MM_HINT_T0);
    _mm_prefetch(row + 4 * (n - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const int tail = n - 16 * (NV - 1);
  const __mmask16 last = tail >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << tail) - 1);
  // B read in place must not be read past column n (packed slivers are zero-padded instead).
  const __mmask16 bmask = e.bstride ? last : (__mmask16)0xFFFF;
  const std::ptrdiff_t sb = e.bstride ? e.bstride : kNR;
  if (M == kMR && e.bstride && kc >= kPrefetchMinKc) {
    if (bmask != 0xFFFF)
      multiply<M, NV, AS, true, true>(kc, a, b, sb, bmask, acc);
    else
      multiply<M, NV, AS, true, false>(kc, a, b, sb, bmask, acc);
  } else if (bmask != 0xFFFF) {
    multiply<M, NV, AS, false, true>(kc, a, b, sb, bmask, acc);
  } else {
    multiply<M, NV, AS, false, false>(kc, a, b, sb, bmask, acc);
  }
  if constexpr (M == kMR) {
    // Full-height tiles (the hot ones) finalise through code chosen once per tile for the
    // usual epilogues: the Finaliser's per-store tests cost ~180 cycles a tile, a third of a
    // tile at kc = 32 (bench/results/issue33.md#unit-epilogue).
    if (e.alpha == 1.f && (e.beta == 0.f || e.beta == 1.f)) {
      switch ((e.beta != 0.f) << 2 | (e.bias != nullptr) << 1 | (e.preact != nullptr)) {
        case 0: return finish_unit<M, NV, false, false, false>(acc, last, c, ldc, e);
        case 1: return finish_unit<M, NV, false, false, true>(acc, last, c, ldc, e);
        case 2: return finish_unit<M, NV, false, true, false>(acc, last, c, ldc, e);
        case 3: return finish_unit<M, NV, false, true, true>(acc, last, c, ldc, e);
        case 4: return finish_unit<M, NV, true, false, false>(acc, last, c, ldc, e);
        case 5: return finish_unit<M, NV, true, false, true>(acc, last, c, ldc, e);
        case 6: return finish_unit<M, NV, true, true, false>(acc, last, c, ldc, e);
        default: return finish_unit<M, NV, true, true, true>(acc, last, c, ldc, e);
      }
    }
  }
  const Finaliser fin(e);
#pragma GCC unroll 3
  for (int v = 0; v < NV; ++v) {
    const __mmask16 mk = v == NV - 1 ? last : (__mmask16)0xFFFF;
    const __m512 bias = e.bias ? _mm512_maskz_loadu_ps(mk, e.bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
      fin.store(acc[i][v], c + i * ldc + 16 * v, e.bias ? &bias : nullptr,
                e.preact ? e.preact + i * e.ldp + 16 * v : nullptr, mk);
  }
}

using TileFn = void (*)(int, int, const float*, const float*, float*, std::ptrdiff_t,
                        const gemm::UkrEpi&);
const TileFn kTiles[kMR][3] = {
    {tile<1, 1>, tile<1, 2>, tile<1, 3>}, {tile<2, 1>, tile<2, 2>, tile<2, 3>},
    {tile<3, 1>, tile<3, 2>, tile<3, 3>}, {tile<4, 1>, tile<4, 2>, tile<4, 3>},
    {tile<5, 1>, tile<5, 2>, tile<5, 3>}, {tile<6, 1>, tile<6, 2>, tile<6, 3>},
    {tile<7, 1>, tile<7, 2>, tile<7, 3>}, {tile<8, 1>, tile<8, 2>, tile<8, 3>},
};
const TileFn kRowTiles[3] = {tile<1, 1, 1>, tile<1, 2, 1>, tile<1, 3, 1>};

// One row against NS full packed slivers (NS·48 columns): 3·NS FMA chains instead of three, so a
// batch-1 product is not bound by the FMA latency
// (bench/results/design_choices.md#gemm-row-kernel). Each element's chain and finalisation are
// those of tile<1, 3>: the same bits.
template <int NS, int AS>
void row_slivers(int kc, const float* __restrict a, const float* __restrict b, float* c,
                 const gemm::UkrEpi& e) {
  __m512 acc[3 * NS];
#pragma GCC unroll 12
  for (int v = 0; v < 3 * NS; ++v) acc[v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    const __m512 av = _mm512_set1_ps(a[k * AS]);
#pragma GCC unroll 4
    for (int s = 0; s < NS; ++s)
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v)
        acc[3 * s + v] = _mm512_fmadd_ps(av,
                                         _mm512_loadu_ps(b + (std::ptrdiff_t)s * kc * kNR +
                                                         k * kNR + 16 * v),
                                         acc[3 * s + v]);
  }
  const Finaliser fin(e);
  const __mmask16 all = 0xFFFF;
#pragma GCC unroll 12
  for (int v = 0; v < 3 * NS; ++v) {
    const __m512 bias = e.bias ? _mm512_loadu_ps(e.bias + 16 * v) : _mm512_setzero_ps();
    fin.store(acc[v], c + 16 * v, e.bias ? &bias : nullptr, e.preact ? e.preact + 16 * v : nullptr,
              all);
  }
}

}  // namespace

// One row × kRowSlivers full packed slivers (see row_slivers).
void sgemm_ukr_avx512_row(int kc, const float* a, const float* b, float* c, const gemm::UkrEpi& e) {
  if (e.a_row)
    row_slivers<kRowSlivers, 1>(kc, a, b, c, e);
  else
    row_slivers<kRowSlivers, kMR>(kc, a, b, c, e);
}

// ns full 8×48 tiles along one row strip (see KernelSet::ukr_strip): tile<8, 3> each, so the
// same bits, without an indirect call and its dispatch per tile (at the bs-32 weight gradient's
// kc = 32 a tile is only 768 FMAs).
void sgemm_ukr_avx512_strip(int ns, int kc, const float* a, const float* b, float* c,
                            std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  gemm::UkrEpi es = e;
  // Packed slivers are kc·NR floats apart; B read in place (bstride) has the next NR columns.
  const std::ptrdiff_t step = e.bstride ? kNR : (std::ptrdiff_t)kc * kNR;
  for (int s = 0; s < ns; ++s) {
    tile<kMR, 3>(kNR, kc, a, b + s * step, c + s * kNR, ldc, es);
    if (es.bias) es.bias += kNR;
    if (es.preact) es.preact += kNR;
  }
}

// c (m×n, ldc) <- finalise(a_sliver (kc×8) · b_sliver (kc×48)), 1 <= m <= 8, 1 <= n <= 48
void sgemm_ukr_avx512(int m, int n, int kc, const float* a, const float* b, float* c,
                      std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  const int nv = (n + 15) / 16 - 1;
  const TileFn tile_fn = e.a_row ? kRowTiles[nv] : kTiles[m - 1][nv];
  tile_fn(n, kc, a, b, c, ldc, e);
}

}  // namespace nncore::avx512
