// Packing with AVX2 instructions for the x86 kernel sets (declared in gemm_internal.h): B for
// any NR that is a multiple of 8, A for 8-row (AVX-512 set) and 6-row (AVX2 set) slivers. The
// micro-kernels live in sgemm_ukr_*.cpp; the portable packing, which every set falls back to, in
// gemm_pack.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm/gemm_internal.h"

namespace nncore::x86 {
namespace {

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

// 6 rows of 8 floats (row r at src + r*ld) -> k-major 6-float groups: dst[k*6 + r] = src[r*ld + k]
// for k < 8. The transposed columns are 8 wide (2 junk lanes); each store but the last is
// overwritten in its junk part by the next one, so nothing is written past dst + 48.
inline void transpose6x8(const float* src, std::ptrdiff_t ld, float* dst) {
  const __m256 z = _mm256_setzero_ps();
  __m256 r0 = _mm256_loadu_ps(src + 0 * ld), r1 = _mm256_loadu_ps(src + 1 * ld);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
  _mm256_storeu_ps(dst + 0 * 6, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * 6, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * 6, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * 6, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * 6, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * 6, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * 6, _mm256_permute2f128_ps(u2, u6, 0x31));
  const __m256 last = _mm256_permute2f128_ps(u3, u7, 0x31);
  _mm_storeu_ps(dst + 7 * 6, _mm256_castps256_ps128(last));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 7 * 6 + 4), _mm256_extractf128_ps(last, 1));
}

// 6 contiguous floats, without touching memory past either end.
inline void copy6(const float* src, float* dst) {
  _mm_storeu_ps(dst, _mm_loadu_ps(src));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 4),
                _mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(src + 4)));
}

}  // namespace

// Same contract as gemm::pack_b_generic; the transposed layout (weights W (N×K) packed as
// Wᵀ) goes through 8×8 register transposes, the plain layout through register row copies.
void sgemm_pack_b_avx2(Trans tb, const float* B, std::ptrdiff_t ldb, int p0, int kc, int j0, int n,
                       int nr, float* dst) {
  if (nr % 8 != 0) {
    gemm::pack_b_generic(tb, B, ldb, p0, kc, j0, n, nr, dst);
    return;
  }
  if (tb == Trans::N) {
    // Eight rows of B at a time, each sliver's part of them to its own sliver. Slivers lie
    // nr·kc floats apart, a multiple of 4 KiB for every kc a multiple of 64: a walk that wrote
    // one row across all slivers put every store of that row in the same L1 set (49 slivers of
    // the AVX2 set for 784 columns). Measured on the AVX2 dX 128x512x784: 86.5 -> 89.2 % of peak.
    // Eight rows give each sliver 8·nr contiguous floats per visit, while the eight source rows
    // (8·n floats) stay in L1 for the sweep. A partial last sliver goes generic.
    const int full = n / nr * nr;
    constexpr int kRows = 8;
    for (int k0 = 0; k0 < kc; k0 += kRows) {
      const int k1 = std::min(kc, k0 + kRows);
      for (int s = 0; s < full; s += nr) {
        const float* src = B + (std::ptrdiff_t)p0 * ldb + j0 + s;
        float* d = dst + (std::ptrdiff_t)s * kc;
        for (int k = k0; k < k1; ++k)
          for (int v = 0; v < nr; v += 8)
            _mm256_storeu_ps(d + (std::ptrdiff_t)k * nr + v,
                             _mm256_loadu_ps(src + (std::ptrdiff_t)k * ldb + v));
      }
    }
    if (full < n)
      gemm::pack_b_generic(tb, B, ldb, p0, kc, j0 + full, n - full, nr,
                           dst + (std::ptrdiff_t)full * kc);
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
        for (int cc = c; cc < c + 8; ++cc)
          d[(std::ptrdiff_t)k * nr + cc] = src[(std::ptrdiff_t)cc * ldb + k];
    }
    for (int c = c8; c < cols; ++c)
      for (int k = 0; k < kc; ++k) d[(std::ptrdiff_t)k * nr + c] = src[(std::ptrdiff_t)c * ldb + k];
    if (cols < nr)
      for (int k = 0; k < kc; ++k)
        std::memset(d + (std::ptrdiff_t)k * nr + cols, 0, sizeof(float) * (nr - cols));
  }
}

// Same contract as gemm::pack_a_generic, for 8-row slivers (the AVX-512 set's MR): plain A
// (activations, rows × K) through 8×8 register transposes, transposed A (dYᵀ in dW) through
// one 8-float copy per k. Other sliver heights and partial slivers go to the generic packing.
void sgemm_pack_a8_avx2(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                        int mr, float* dst) {
  if (mr != 8) {
    gemm::pack_a_generic(ta, A, lda, i0, m, p0, kc, mr, dst);
    return;
  }
  const int full = m / 8 * 8;
  if (ta == Trans::T) {
    // 8 rows of A (8 values of k) at a time across every sliver: walking one sliver down all of K
    // instead reads 32 bytes per row at a stride of lda, which for lda a multiple of 512 floats
    // lands every row in the same two L1 sets
    // (bench/results/design_choices.md#gemm-pack-a-transposed).
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

// Same contract as gemm::pack_a_generic, for 6-row slivers (the AVX2 set's MR): plain A through
// 6×8 register transposes, transposed A through one 6-float copy per k, in the same k-outer
// order as the 8-row packing (and for the same reason). The generic packing, a scalar loop with
// a libc memcpy per k for transposed A, took ~10 % of a 2048³ product on this path.
void sgemm_pack_a6_avx2(Trans ta, const float* A, std::ptrdiff_t lda, int i0, int m, int p0, int kc,
                        int mr, float* dst) {
  if (mr != 6) {
    gemm::pack_a_generic(ta, A, lda, i0, m, p0, kc, mr, dst);
    return;
  }
  const int full = m / 6 * 6;
  if (ta == Trans::T) {
    for (int k0 = 0; k0 < kc; k0 += 8) {
      const int k1 = std::min(kc, k0 + 8);
      for (int s = 0; s < full; s += 6) {
        const float* src = A + (std::ptrdiff_t)p0 * lda + i0 + s;
        float* d = dst + (std::ptrdiff_t)s * kc;
        for (int k = k0; k < k1; ++k)
          copy6(src + (std::ptrdiff_t)k * lda, d + (std::ptrdiff_t)k * 6);
      }
    }
  } else {
    const int k8 = kc / 8 * 8;
    for (int s = 0; s < full; s += 6) {
      const float* src = A + (std::ptrdiff_t)(i0 + s) * lda + p0;
      float* d = dst + (std::ptrdiff_t)s * kc;
      for (int k = 0; k < k8; k += 8) transpose6x8(src + k, lda, d + (std::ptrdiff_t)k * 6);
      for (int k = k8; k < kc; ++k)
        for (int r = 0; r < 6; ++r) d[(std::ptrdiff_t)k * 6 + r] = src[(std::ptrdiff_t)r * lda + k];
    }
  }
  if (full < m)
    gemm::pack_a_generic(ta, A, lda, i0 + full, m - full, p0, kc, mr,
                         dst + (std::ptrdiff_t)full * kc);
}

}  // namespace nncore::x86
