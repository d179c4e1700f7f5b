// AMX-INT8 micro-kernel, tile 16 × 64 (4 panels): per chunk of 64 k, one tdpbusd per panel
// multiplies a 16-row u8 A tile with a 16-column s8 B tile into an s32 C tile. The packed
// panels (igemm.h) already are AMX's B layout (rows of 4 k × 16 columns): B is read in place.
#include <immintrin.h>

#include <cstring>

#include "quant/igemm.h"

namespace nncore::quant {

namespace {
// tmm0-3: C (rows × 16 s32), tmm4 / tmm5: A / B of a full 64-k chunk, tmm6 / tmm7: A / B of the
// k tail (fewer groups), so one configuration serves a whole call.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// The shape this thread's tiles are configured for (rows, tail groups); -1: not configured.
thread_local int t_rows = -1, t_tail = -1;

void configure(int m, int tail) {
  if (m == t_rows && tail == t_tail) return;
  TileConfig cfg;
  for (int t = 0; t < 4; ++t) {
    cfg.rows[t] = std::uint8_t(m);
    cfg.colsb[t] = 64;
  }
  cfg.rows[4] = std::uint8_t(m);
  cfg.colsb[4] = 64;
  cfg.rows[5] = 16;
  cfg.colsb[5] = 64;
  const int tg = tail > 0 ? tail : 1;  // a tile must not be empty; unused when tail is 0
  cfg.rows[6] = std::uint8_t(m);
  cfg.colsb[6] = std::uint16_t(4 * tg);
  cfg.rows[7] = std::uint8_t(tg);
  cfg.colsb[7] = 64;
  _tile_loadconfig(&cfg);
  t_rows = m;
  t_tail = tail;
}

template <int NP>
void tile(int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t ps,
          std::int32_t* c, std::size_t ldc) {
  _tile_zero(0);
  if (NP > 1) _tile_zero(1);
  if (NP > 2) _tile_zero(2);
  if (NP > 3) _tile_zero(3);
  const int full = kq / 16;
  for (int q = 0; q < full; ++q) {
    const std::int8_t* bq = b + std::size_t(q) * 16 * 64;
    _tile_loadd(4, a + std::size_t(q) * 64, lda);
    _tile_loadd(5, bq, 64);
    _tile_dpbusd(0, 4, 5);
    if (NP > 1) {
      _tile_loadd(5, bq + ps, 64);
      _tile_dpbusd(1, 4, 5);
    }
    if (NP > 2) {
      _tile_loadd(5, bq + 2 * ps, 64);
      _tile_dpbusd(2, 4, 5);
    }
    if (NP > 3) {
      _tile_loadd(5, bq + 3 * ps, 64);
      _tile_dpbusd(3, 4, 5);
    }
  }
  if (kq % 16) {
    const std::int8_t* bq = b + std::size_t(full) * 16 * 64;
    _tile_loadd(6, a + std::size_t(full) * 64, lda);
    _tile_loadd(7, bq, 64);
    _tile_dpbusd(0, 6, 7);
    if (NP > 1) {
      _tile_loadd(7, bq + ps, 64);
      _tile_dpbusd(1, 6, 7);
    }
    if (NP > 2) {
      _tile_loadd(7, bq + 2 * ps, 64);
      _tile_dpbusd(2, 6, 7);
    }
    if (NP > 3) {
      _tile_loadd(7, bq + 3 * ps, 64);
      _tile_dpbusd(3, 6, 7);
    }
  }
  const std::size_t ldc_b = ldc * sizeof(std::int32_t);
  _tile_stored(0, c, ldc_b);
  if (NP > 1) _tile_stored(1, c + 16, ldc_b);
  if (NP > 2) _tile_stored(2, c + 32, ldc_b);
  if (NP > 3) _tile_stored(3, c + 48, ldc_b);
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
  configure(m, kq % 16);
  switch (np) {
    case 1: tile<1>(kq, a, lda, b, ps, c, ldc); break;
    case 2: tile<2>(kq, a, lda, b, ps, c, ldc); break;
    case 3: tile<3>(kq, a, lda, b, ps, c, ldc); break;
    default: tile<4>(kq, a, lda, b, ps, c, ldc); break;
  }
}

void igemm_amx_release() {
  if (t_rows < 0) return;
  _tile_release();
  t_rows = t_tail = -1;
}

}  // namespace nncore::quant
