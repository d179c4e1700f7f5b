// See finite_bound.h. The scan is the optimizer kernels' max_abs_bits, per ISA: at batch 128
// the baseline SSE2 loop was compute-bound and cost what skipping the gradient read saved.
#include "nncore/finite_bound.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "isa/context.h"

namespace nncore {

float max_abs(const float* x, std::size_t n) {
  const std::int32_t m = isa::active().optim->max_abs_bits(x, n);
  if (m >= 0x7f800000) return HUGE_VALF;  // the patterns of inf and NaN
  float r;
  std::memcpy(&r, &m, sizeof r);
  return r;
}

bool sums_of_products_finite(double k, float a_max, float b_max) {
  if (!(std::isfinite(a_max) && std::isfinite(b_max)) || !(k >= 0) || k > double(1 << 24))
    return false;
  const double b = b_max > 1.f ? double(b_max) : 1.0;  // covers the plain sums (bias) too
  return k * double(a_max) * b <= 1e37;
}

}  // namespace nncore
