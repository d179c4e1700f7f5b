// The portable int8 micro-kernel (any m ≤ 4, np ≤ 4): plain loops over the packed panels. The
// scalar ISA's kernel and the fallback every other kernel set is tested against.
#include "quant/igemm.h"

namespace nncore::quant {

void igemm_ukr_ref(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                   std::size_t panel_stride, int np, const std::int32_t* /*colsum*/,
                   std::int32_t* c, std::size_t ldc) {
  for (int i = 0; i < m; ++i) {
    const std::uint8_t* ar = a + std::size_t(i) * lda;
    for (int p = 0; p < np; ++p) {
      const std::int8_t* bp = b + std::size_t(p) * panel_stride;
      std::int32_t acc[kPanel] = {};
      for (int g = 0; g < kq; ++g) {
        const std::uint8_t* a4 = ar + 4 * g;
        const std::int8_t* bg = bp + std::size_t(g) * kPanel * 4;
        for (int j = 0; j < kPanel; ++j)
          acc[j] += a4[0] * bg[4 * j] + a4[1] * bg[4 * j + 1] + a4[2] * bg[4 * j + 2] +
                    a4[3] * bg[4 * j + 3];
      }
      for (int j = 0; j < kPanel; ++j) c[std::size_t(i) * ldc + p * kPanel + j] = acc[j];
    }
  }
}

}  // namespace nncore::quant
