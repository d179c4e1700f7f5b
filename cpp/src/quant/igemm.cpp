// The int8 GEMM framework (igemm.h): weight packing, the loops around the micro-kernel, the
// threading, the naive twin and the activation quantization parameters. Leaves the register
// tiles to igemm_ukr_<isa>.cpp and the per-element epilogue to requant_impl.inc.
#include "quant/igemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nncore/threading.h"

namespace nncore::quant {

void PackedS8::pack(const std::int8_t* w, int n, int k) {
  N = n;
  K = k;
  K4 = round_up4(k);
  panels = (n + kPanel - 1) / kPanel;
  data.assign(std::size_t(panels) * panel_stride(), 0);
  colsum.assign(std::size_t(panels) * kPanel, 0);
  for (int j = 0; j < n; ++j) {
    const std::int8_t* row = w + std::size_t(j) * k;
    std::int8_t* dst = data.data() + std::size_t(j / kPanel) * panel_stride() + 4 * (j % kPanel);
    std::int32_t sum = 0;
    for (int c = 0; c < k; ++c) {
      dst[std::size_t(c / 4) * kPanel * 4 + c % 4] = row[c];
      sum += row[c];
    }
    colsum[std::size_t(j)] = sum;
  }
}

namespace {
constexpr int kRowTiles = 40;            // row tiles per block: an A block of ~240 rows stays in L2
constexpr int kGroupCols = kRequantMax;  // output columns per work item (a multiple of 64)
}  // namespace

void igemm(int m, const std::uint8_t* a, std::size_t lda, const PackedS8& w, const Requant& r,
           float* f, std::size_t ldf, std::uint8_t* q, std::size_t ldq, float* lohi) {
  float lo = 0.f, hi = 0.f;  // min / max are exact and order-free: any split gives these bits
  if (lohi) lohi[0] = lohi[1] = 0.f;
  if (m <= 0 || w.N <= 0) return;
  const bool scan = lohi && f;
  const Kernels& k = kernels();
  const int mr = k.mr;
  const int groups = (w.N + kGroupCols - 1) / kGroupCols;
  const int mb = mr * kRowTiles;
  const int blocks = (m + mb - 1) / mb;
  const std::int64_t items = std::int64_t(blocks) * groups;
  const double work = double(m) * w.N * w.K4;
  const int nt = work < (1 << 20) ? 1 : int(std::min<std::int64_t>(num_threads(), items));
  const int kq = w.K4 / 4;
  const std::size_t ps = w.panel_stride();
  // Each item is (row block, column group): one thread computes all of its outputs, each one
  // sum over all of K, so neither the bits nor the order of additions depend on the threads.
  // The sums of one row tile across the group land in acc, then the epilogue runs on whole
  // rows of the group (one call per row, not per micro-tile).
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) reduction(min   \
                                                                                : lo) \
    reduction(max                                                                     \
              : hi)
  for (std::int64_t it = 0; it < items; ++it) {
    alignas(64) std::int32_t acc[kMaxMr * kGroupCols];
    float ilo = 0.f, ihi = 0.f;  // this item's output range
    const int b = int(it / groups), g = int(it % groups);
    const int j0 = g * kGroupCols, ncols = std::min(kGroupCols, w.N - j0);
    const int p0 = j0 / kPanel, p1 = (j0 + ncols + kPanel - 1) / kPanel;  // panels [p0, p1)
    for (int i0 = b * mb; i0 < std::min(m, (b + 1) * mb); i0 += mr) {
      const int rows = std::min(mr, m - i0);
      for (int p = p0; p < p1; p += k.max_panels) {
        const int np = std::min(k.max_panels, p1 - p);
        k.ukr(rows, kq, a + std::size_t(i0) * lda, lda, w.data.data() + std::size_t(p) * ps, ps, np,
              w.colsum.data() + p * kPanel, acc + (p - p0) * kPanel, kGroupCols);
      }
      for (int i = 0; i < rows; ++i) {
        const std::size_t row = std::size_t(i0 + i);
        k.requant(acc + std::size_t(i) * kGroupCols, ncols, r, j0, f ? f + row * ldf + j0 : nullptr,
                  q ? q + row * ldq + j0 : nullptr);
        if (scan) k.min_max(f + row * ldf + j0, std::size_t(ncols), &ilo, &ihi);
      }
    }
    if (k.finish) k.finish();
    // the item's range starts at +0 and never holds -0, so min and max are well defined here
    lo = ilo < lo ? ilo : lo;
    hi = ihi > hi ? ihi : hi;
  }
  if (lohi) {
    lohi[0] = lo;
    lohi[1] = hi;
  }
}

void igemm_naive(int m, const std::uint8_t* a, std::size_t lda, const std::int8_t* w, int n, int k,
                 const Requant& r, float* f, std::size_t ldf, std::uint8_t* q, std::size_t ldq) {
  std::vector<std::int32_t> acc(static_cast<std::size_t>(n));
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      std::int64_t s = 0;
      for (int c = 0; c < k; ++c)
        s += std::int64_t(a[std::size_t(i) * lda + c]) * w[std::size_t(j) * k + c];
      acc[std::size_t(j)] = std::int32_t(s);
    }
    // the scalar epilogue, in chunks of one tile row as igemm calls it
    for (int j0 = 0; j0 < n; j0 += kRequantMax)
      q_scalar::requant_row(acc.data() + j0, std::min(kRequantMax, n - j0), r, j0,
                            f ? f + std::size_t(i) * ldf + j0 : nullptr,
                            q ? q + std::size_t(i) * ldq + j0 : nullptr);
  }
}

void choose_qparams(float lo, float hi, float* scale, std::int32_t* zp) {
  lo = std::min(lo, 0.f);
  hi = std::max(hi, 0.f);
  float s = (hi - lo) / 255.f;
  if (!(s > 0.f) || !std::isfinite(s)) {
    *scale = 1.f;
    *zp = 0;
    return;
  }
  float z = 0.f - lo / s;
  z = z >= 0.f ? z : 0.f;
  z = z <= 255.f ? z : 255.f;
  *scale = s;
  *zp = std::int32_t(std::nearbyint(z));
}

void min_max(const float* x, std::size_t n, float* lo, float* hi) {
  float l = 0.f, h = 0.f;
  for (std::size_t i = 0; i < n; ++i) {
    l = x[i] < l ? x[i] : l;
    h = x[i] > h ? x[i] : h;
  }
  *lo = l;
  *hi = h;
}

}  // namespace nncore::quant
