// AVX512-VNNI int8 micro-kernel, tile 6 × 64 (4 panels): per group of 4 k, one vpdpbusd per
// (row, panel) multiplies the row's 4 broadcast u8 with 16 columns' 4 s8 and adds into s32.
// 24 accumulators + 4 weight vectors + 1 broadcast of the 32 zmm registers.
#include <immintrin.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
template <int M, int NP>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t ps,
          std::int32_t* c, std::size_t ldc) {
  __m512i acc[M][NP];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_setzero_si512();
  for (int g = 0; g < kq; ++g) {
    __m512i w[NP];
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p)
      w[p] = _mm512_loadu_si512(b + std::size_t(p) * ps + std::size_t(g) * 64);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      std::int32_t a4;
      std::memcpy(&a4, a + std::size_t(i) * lda + 4 * std::size_t(g), 4);
      const __m512i av = _mm512_set1_epi32(a4);
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_dpbusd_epi32(acc[i][p], av, w[p]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) _mm512_storeu_si512(c + std::size_t(i) * ldc + 16 * p, acc[i][p]);
}

template <int M>
void rows(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t ps,
          int np, std::int32_t* c, std::size_t ldc) {
  switch (np) {
    case 1: tile<M, 1>(kq, a, lda, b, ps, c, ldc); break;
    case 2: tile<M, 2>(kq, a, lda, b, ps, c, ldc); break;
    case 3: tile<M, 3>(kq, a, lda, b, ps, c, ldc); break;
    default: tile<M, 4>(kq, a, lda, b, ps, c, ldc); break;
  }
}
}  // namespace

void igemm_ukr_avx512vnni(int m, int kq, const std::uint8_t* a, std::size_t lda,
                          const std::int8_t* b, std::size_t ps, int np,
                          const std::int32_t* /*colsum*/, std::int32_t* c, std::size_t ldc) {
  switch (m) {
    case 1: rows<1>(kq, a, lda, b, ps, np, c, ldc); break;
    case 2: rows<2>(kq, a, lda, b, ps, np, c, ldc); break;
    case 3: rows<3>(kq, a, lda, b, ps, np, c, ldc); break;
    case 4: rows<4>(kq, a, lda, b, ps, np, c, ldc); break;
    case 5: rows<5>(kq, a, lda, b, ps, np, c, ldc); break;
    default: rows<6>(kq, a, lda, b, ps, np, c, ldc); break;
  }
}

}  // namespace nncore::quant
