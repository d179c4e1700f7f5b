// AMX-INT8 micro-kernel, 32 × 64 in steps of 32 × 32: per 64 k, four tdpbusd (two u8 A tiles ×
// two s8 B tiles into four s32 C tiles). The packed panels (igemm.h) already are AMX's B layout
// (rows of 4 k × 16 columns), so B is read in place; k tail by vpdpbusd; m <= 6 rows: VNNI.
#include <immintrin.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
// tmm0-3: C (row tile r, panel p at 2r + p), tmm4-5: A of row tiles 0 and 1, tmm6-7: B of panels
// 0 and 1. The k tail (kq not a multiple of 16 groups) is added with vpdpbusd after the tiles
// are stored, so one configuration (which depends only on the rows) serves every call.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// The rows this thread's tiles are configured for; -1: not configured.
thread_local int t_rows = -1;

void configure(int m) {
  if (m == t_rows) return;
  const int m0 = m < 16 ? m : 16, m1 = m - m0;  // rows of row tile 0 and 1 (0: unused)
  TileConfig cfg;
  const int rows[8] = {m0, m0, m1, m1, m0, m1, 16, 16};
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = std::uint8_t(rows[t]);
    cfg.colsb[t] = rows[t] ? 64 : 0;
  }
  _tile_loadconfig(&cfg);
  t_rows = m;
}

// c[i][0 .. 16·np) += Σ over the groups [g0, kq) with 512-bit vpdpbusd (the k tail).
void add_tail(int m, int g0, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
              std::size_t ps, int np, std::int32_t* c, std::size_t ldc) {
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < np; ++p) {
      std::int32_t* ci = c + std::size_t(i) * ldc + 16 * p;
      __m512i acc = _mm512_loadu_si512(ci);
      for (int g = g0; g < kq; ++g) {
        std::int32_t a4;
        std::memcpy(&a4, a + std::size_t(i) * lda + 4 * std::size_t(g), 4);
        const __m512i w = _mm512_loadu_si512(b + std::size_t(p) * ps + std::size_t(g) * 64);
        acc = _mm512_dpbusd_epi32(acc, _mm512_set1_epi32(a4), w);
      }
      _mm512_storeu_si512(ci, acc);
    }
}

template <bool TwoRows, bool TwoPanels>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t ps,
          std::int32_t* c, std::size_t ldc) {
  _tile_zero(0);
  if (TwoPanels) _tile_zero(1);
  if (TwoRows) _tile_zero(2);
  if (TwoRows && TwoPanels) _tile_zero(3);
  const std::uint8_t* a1 = a + 16 * lda;
  for (int q = 0; q < kq / 16; ++q) {
    const std::int8_t* bq = b + std::size_t(q) * 16 * 64;
    _tile_loadd(4, a + std::size_t(q) * 64, lda);
    _tile_loadd(6, bq, 64);
    _tile_dpbusd(0, 4, 6);
    if (TwoPanels) {
      _tile_loadd(7, bq + ps, 64);
      _tile_dpbusd(1, 4, 7);
    }
    if (TwoRows) {
      _tile_loadd(5, a1 + std::size_t(q) * 64, lda);
      _tile_dpbusd(2, 5, 6);
      if (TwoPanels) _tile_dpbusd(3, 5, 7);
    }
  }
  const std::size_t ldc_b = ldc * sizeof(std::int32_t);
  std::int32_t* c1 = c + 16 * ldc;
  _tile_stored(0, c, ldc_b);
  if (TwoPanels) _tile_stored(1, c + 16, ldc_b);
  if (TwoRows) _tile_stored(2, c1, ldc_b);
  if (TwoRows && TwoPanels) _tile_stored(3, c1 + 16, ldc_b);
}
}  // namespace

void igemm_ukr_amx(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                   std::size_t ps, int np, const std::int32_t* colsum, std::int32_t* c,
                   std::size_t ldc) {
  // A few rows (batch 1, a last row tile) would leave the tiles mostly empty: the 6-row VNNI
  // kernel reads the same layout and gives the same exact sums.
  if (m <= 6) {
    igemm_ukr_avx512vnni(m, kq, a, lda, b, ps, np, colsum, c, ldc);
    return;
  }
  configure(m);
  const bool two_rows = m > 16;
  for (int p = 0; p < np; p += 2) {  // pairs of panels; A comes again from L1
    const std::int8_t* bp = b + std::size_t(p) * ps;
    std::int32_t* cp = c + 16 * p;
    const bool two_panels = np - p > 1;
    if (two_rows && two_panels)
      tile<true, true>(kq, a, lda, bp, ps, cp, ldc);
    else if (two_rows)
      tile<true, false>(kq, a, lda, bp, ps, cp, ldc);
    else if (two_panels)
      tile<false, true>(kq, a, lda, bp, ps, cp, ldc);
    else
      tile<false, false>(kq, a, lda, bp, ps, cp, ldc);
  }
  if (kq % 16) add_tail(m, kq - kq % 16, kq, a, lda, b, ps, np, c, ldc);
}

void igemm_amx_release() {
  if (t_rows < 0) return;
  _tile_release();
  t_rows = -1;
}

}  // namespace nncore::quant
