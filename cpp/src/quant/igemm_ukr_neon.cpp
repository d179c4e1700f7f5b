// arm64 int8 micro-kernel without the dot-product extension, tile 1 × 16: u8 and s8 widened to
// s16, multiplied into s32 lanes (vmlal), one accumulator per column holding its 4 k-lanes,
// reduced across lanes at the end. Exact, like every kernel.
#include <arm_neon.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

void igemm_ukr_neon(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                    std::size_t /*ps*/, int /*np*/, const std::int32_t* /*colsum*/, std::int32_t* c,
                    std::size_t ldc) {
  for (int i = 0; i < m; ++i) {
    const std::uint8_t* ar = a + std::size_t(i) * lda;
    int32x4_t acc[kPanel];
    for (int j = 0; j < kPanel; ++j) acc[j] = vdupq_n_s32(0);
    for (int g = 0; g < kq; ++g) {
      std::uint32_t a4;
      std::memcpy(&a4, ar + 4 * std::size_t(g), 4);
      // a0..a3 as s16, twice: lanes line up with two columns' 4 k each
      const int16x4_t av = vget_low_s16(
          vreinterpretq_s16_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(a4)))));
      for (int t = 0; t < 4; ++t) {  // columns 4t .. 4t+3
        const int8x16_t w = vld1q_s8(b + 64 * std::size_t(g) + 16 * t);
        const int16x8_t lo = vmovl_s8(vget_low_s8(w));   // columns 4t, 4t+1
        const int16x8_t hi = vmovl_s8(vget_high_s8(w));  // columns 4t+2, 4t+3
        acc[4 * t] = vmlal_s16(acc[4 * t], vget_low_s16(lo), av);
        acc[4 * t + 1] = vmlal_s16(acc[4 * t + 1], vget_high_s16(lo), av);
        acc[4 * t + 2] = vmlal_s16(acc[4 * t + 2], vget_low_s16(hi), av);
        acc[4 * t + 3] = vmlal_s16(acc[4 * t + 3], vget_high_s16(hi), av);
      }
    }
    for (int j = 0; j < kPanel; ++j) c[std::size_t(i) * ldc + j] = vaddvq_s32(acc[j]);
  }
}

}  // namespace nncore::quant
