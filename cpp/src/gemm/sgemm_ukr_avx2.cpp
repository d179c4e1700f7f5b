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

template <int M, int NV>
void tile(int n, int kc, const float* __restrict a, const float* __restrict b, float* c,
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
      const __m256 av = _mm256_broadcast_ss(a + k * kMR + i);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  const int tail = n - 8 * (NV - 1);
  const __m256i full = _mm256_set1_epi32(-1), last = lane_mask(tail);
  const __m256 valpha = _mm256_set1_ps(e.alpha), vbeta = _mm256_set1_ps(e.beta);
  const bool scale = e.alpha != 1.f, read_c = e.beta != 0.f, scale_c = e.beta != 1.f;
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const __m256i mk = v == NV - 1 ? last : full;
    const __m256 bias = e.bias ? _mm256_maskload_ps(e.bias + 8 * v, mk) : _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      __m256 r = acc[i][v];
      if (scale) r = _mm256_mul_ps(valpha, r);
      float* cp = c + i * ldc + 8 * v;
      if (read_c) {
        __m256 cv = _mm256_maskload_ps(cp, mk);
        if (scale_c) cv = _mm256_mul_ps(vbeta, cv);
        r = _mm256_add_ps(r, cv);
      }
      if (e.bias) r = _mm256_add_ps(r, bias);
      if (e.preact) _mm256_maskstore_ps(e.preact + i * e.ldp + 8 * v, mk, r);
      _mm256_maskstore_ps(cp, mk, r);
    }
  }
}

using TileFn = void (*)(int, int, const float*, const float*, float*, std::ptrdiff_t,
                        const gemm::UkrEpi&);
const TileFn kTiles[kMR][2] = {
    {tile<1, 1>, tile<1, 2>}, {tile<2, 1>, tile<2, 2>}, {tile<3, 1>, tile<3, 2>},
    {tile<4, 1>, tile<4, 2>}, {tile<5, 1>, tile<5, 2>}, {tile<6, 1>, tile<6, 2>},
};

// 8 rows of 8 floats (row r at src + r*ld) -> 8 rows of 8 (row k at dst + k*ldd): dst = srcᵀ.
inline void transpose8(const float* src, std::ptrdiff_t ld, float* dst, std::ptrdiff_t ldd) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * ld), r1 = _mm256_loadu_ps(src + 1 * ld);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ld), r7 = _mm256_loadu_ps(src + 7 * ld);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

}  // namespace

// c (m×n, ldc) <- finalise(a_sliver (kc×6) · b_sliver (kc×16)), 1 <= m <= 6, 1 <= n <= 16
void sgemm_ukr_avx2(int m, int n, int kc, const float* a, const float* b, float* c,
                    std::ptrdiff_t ldc, const gemm::UkrEpi& e) {
  kTiles[m - 1][(n + 7) / 8 - 1](n, kc, a, b, c, ldc, e);
}

// Same contract as gemm::pack_b_generic; the transposed layout (weights W (N×K) packed as
// Wᵀ) goes through 8×8 register transposes, the plain layout through row copies.
void sgemm_pack_b_avx2(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0,
                       int n, int nr, float* dst) {
  if (tb == Trans::N || nr % 8 != 0) {
    gemm::pack_b_generic(tb, B, ldb, p0, kc, j0, n, nr, dst);
    return;
  }
  for (int s = 0; s < n; s += nr) {
    const int cols = std::min(nr, n - s);
    float* d = dst + (std::ptrdiff_t)s * kc;
    const float* src = B + (std::ptrdiff_t)(j0 + s) * ldb + p0;
    const int c8 = cols / 8 * 8, k8 = kc / 8 * 8;
    for (int c = 0; c < c8; c += 8) {
      for (int k = 0; k < k8; k += 8)
        transpose8(src + (std::ptrdiff_t)c * ldb + k, ldb, d + (std::ptrdiff_t)k * nr + c, nr);
      for (int k = k8; k < kc; ++k)
        for (int cc = c; cc < c + 8; ++cc) d[(std::ptrdiff_t)k * nr + cc] = src[(std::ptrdiff_t)cc * ldb + k];
    }
    for (int c = c8; c < cols; ++c)
      for (int k = 0; k < kc; ++k) d[(std::ptrdiff_t)k * nr + c] = src[(std::ptrdiff_t)c * ldb + k];
    if (cols < nr)
      for (int k = 0; k < kc; ++k)
        std::memset(d + (std::ptrdiff_t)k * nr + cols, 0, sizeof(float) * (nr - cols));
  }
}

// Same contract as gemm::pack_a_generic, for 8-row slivers (the AVX-512 kernel): plain A
// (activations, rows × K) through 8×8 register transposes, transposed A (dYᵀ in dW) through
// one 8-float copy per k. Other sliver heights and partial slivers go to the generic packing.
void sgemm_pack_a_avx2(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0,
                       int kc, int mr, float* dst) {
  if (mr != 8) {
    gemm::pack_a_generic(ta, A, lda, i0, m, p0, kc, mr, dst);
    return;
  }
  const int full = m / 8 * 8;
  if (ta == Trans::T) {
    // 8 rows of A (8 values of k) at a time across every sliver: walking one sliver down all of
    // K instead reads 32 bytes per row at a stride of lda, which for lda a multiple of 512
    // floats lands every row in the same two L1 sets (bench/results/design_choices.md#gemm-pack-a-transposed).
    for (int k0 = 0; k0 < kc; k0 += 8) {
      const int k1 = std::min(kc, k0 + 8);
      for (int s = 0; s < full; s += 8) {
        const float* src = A + (std::ptrdiff_t)p0 * lda + i0 + s;
        float* d = dst + (std::ptrdiff_t)s * kc;
        for (int k = k0; k < k1; ++k)
          _mm256_storeu_ps(d + (std::ptrdiff_t)k * 8,
                           _mm256_loadu_ps(src + (std::ptrdiff_t)k * lda));
      }
    }
  } else {
    const int k8 = kc / 8 * 8;
    for (int s = 0; s < full; s += 8) {
      const float* src = A + (std::ptrdiff_t)(i0 + s) * lda + p0;
      float* d = dst + (std::ptrdiff_t)s * kc;
      for (int k = 0; k < k8; k += 8) transpose8(src + k, lda, d + (std::ptrdiff_t)k * 8, 8);
      for (int k = k8; k < kc; ++k)
        for (int r = 0; r < 8; ++r) d[(std::ptrdiff_t)k * 8 + r] = src[(std::ptrdiff_t)r * lda + k];
    }
  }
  if (full < m)
    gemm::pack_a_generic(ta, A, lda, i0 + full, m - full, p0, kc, mr,
                         dst + (std::ptrdiff_t)full * kc);
}

}  // namespace nncore::avx2
