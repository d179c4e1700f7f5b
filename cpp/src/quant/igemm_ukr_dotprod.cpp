// arm64 int8 micro-kernel with the dot-product extension (FEAT_DotProd, sdot), tile 4 × 16
// (1 panel = 4 q registers). sdot multiplies s8 by s8, so the u8 activations are shifted to s8
// (a - 128, an xor of the top bit) and 128 · colsum[j] is added back: Σ a·w exactly.
#include <arm_neon.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
template <int M>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
          const std::int32_t* colsum, std::int32_t* c, std::size_t ldc) {
  int32x4_t acc[M][4];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < 4; ++t) acc[i][t] = vdupq_n_s32(0);
  const uint32x4_t flip = vdupq_n_u32(0x80808080u);
  for (int g = 0; g < kq; ++g) {
    int8x16_t w[4];
#pragma GCC unroll 8
    for (int t = 0; t < 4; ++t) w[t] = vld1q_s8(b + 64 * std::size_t(g) + 16 * t);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      std::uint32_t a4;
      std::memcpy(&a4, a + std::size_t(i) * lda + 4 * std::size_t(g), 4);
      const int8x16_t av = vreinterpretq_s8_u32(veorq_u32(vdupq_n_u32(a4), flip));
#pragma GCC unroll 8
      for (int t = 0; t < 4; ++t) acc[i][t] = vdotq_s32(acc[i][t], av, w[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < 4; ++t) {
    const int32x4_t back = vshlq_n_s32(vld1q_s32(colsum + 4 * t), 7);  // 128 · colsum
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
      vst1q_s32(c + std::size_t(i) * ldc + 4 * t, vaddq_s32(acc[i][t], back));
  }
}
}  // namespace

void igemm_ukr_dotprod(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                       std::size_t /*ps*/, int /*np*/, const std::int32_t* colsum, std::int32_t* c,
                       std::size_t ldc) {
  switch (m) {
    case 1: tile<1>(kq, a, lda, b, colsum, c, ldc); break;
    case 2: tile<2>(kq, a, lda, b, colsum, c, ldc); break;
    case 3: tile<3>(kq, a, lda, b, colsum, c, ldc); break;
    default: tile<4>(kq, a, lda, b, colsum, c, ldc); break;
  }
}

}  // namespace nncore::quant
