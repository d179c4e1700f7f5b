// AVX2 int8 micro-kernel without VNNI, tile 4 × 16 (1 panel = 2 ymm): vpmaddubsw multiplies u8
// by s8 and adds pairs into s16, vpmaddwd by ones adds those pairs into s32. The pair sum
// saturates int16 above 32767; with weights limited to 7 bits (|w| ≤ 63, igemm.h) it is at most
// 2 · 255 · 63 = 32130, so the sums are exact and equal the VNNI kernels' bits.
#include <immintrin.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
template <int M>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::int32_t* c,
          std::size_t ldc) {
  const __m256i ones = _mm256_set1_epi16(1);
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
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(av, w0), ones);
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(av, w1), ones);
      acc[i][0] = _mm256_add_epi32(acc[i][0], p0);
      acc[i][1] = _mm256_add_epi32(acc[i][1], p1);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + std::size_t(i) * ldc), acc[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + std::size_t(i) * ldc + 8), acc[i][1]);
  }
}
}  // namespace

void igemm_ukr_avx2(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                    std::size_t /*ps*/, int /*np*/, const std::int32_t* /*colsum*/, std::int32_t* c,
                    std::size_t ldc) {
  switch (m) {
    case 1: tile<1>(kq, a, lda, b, c, ldc); break;
    case 2: tile<2>(kq, a, lda, b, c, ldc); break;
    case 3: tile<3>(kq, a, lda, b, c, ldc); break;
    default: tile<4>(kq, a, lda, b, c, ldc); break;
  }
}

}  // namespace nncore::quant
