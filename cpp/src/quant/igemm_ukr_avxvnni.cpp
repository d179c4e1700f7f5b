// AVX-VNNI int8 micro-kernel (256-bit vpdpbusd, VEX encoded: Alder Lake, Sapphire Rapids and
// later), tile 6 × 16 (1 panel = 2 ymm): 12 accumulators + 2 weight vectors + 1 broadcast.
#include <immintrin.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
template <int M>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::int32_t* c,
          std::size_t ldc) {
  __m256i acc[M][2];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  for (int g = 0; g < kq; ++g) {
    const __m256i w0 = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(b + 64 * std::size_t(g)));
    const __m256i w1 = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(b + 64 * std::size_t(g) + 32));
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      std::int32_t a4;
      std::memcpy(&a4, a + std::size_t(i) * lda + 4 * std::size_t(g), 4);
      const __m256i av = _mm256_set1_epi32(a4);
      acc[i][0] = _mm256_dpbusd_avx_epi32(acc[i][0], av, w0);
      acc[i][1] = _mm256_dpbusd_avx_epi32(acc[i][1], av, w1);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + std::size_t(i) * ldc), acc[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + std::size_t(i) * ldc + 8), acc[i][1]);
  }
}
}  // namespace

void igemm_ukr_avxvnni(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                       std::size_t /*ps*/, int /*np*/, const std::int32_t* /*colsum*/,
                       std::int32_t* c, std::size_t ldc) {
  switch (m) {
    case 1: tile<1>(kq, a, lda, b, c, ldc); break;
    case 2: tile<2>(kq, a, lda, b, c, ldc); break;
    case 3: tile<3>(kq, a, lda, b, c, ldc); break;
    case 4: tile<4>(kq, a, lda, b, c, ldc); break;
    case 5: tile<5>(kq, a, lda, b, c, ldc); break;
    default: tile<6>(kq, a, lda, b, c, ldc); break;
  }
}

}  // namespace nncore::quant
