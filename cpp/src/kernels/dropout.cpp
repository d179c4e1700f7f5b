// Dropout dispatcher (see nncore/dropout.h): the ISA context's span kernel, fixed chunks of kChunk
// elements (multiples of 64 so every chunk starts on a Philox block boundary) spread over
// threads; the mask depends only on the element index, never on the split.
#include "nncore/dropout.h"

#include <algorithm>
#include <cmath>

#include "nncore/common.h"
#include "isa/context.h"
#include "nncore/threading.h"

namespace nncore {

namespace {
constexpr std::size_t kChunk = 1 << 14;
constexpr std::size_t kParallelMin = 1 << 16;

float dropout_scale(double rate) { return float(1.0 / (1.0 - rate)); }
}  // namespace

std::uint32_t dropout_threshold(double rate) {
  check(rate >= 0.0 && rate < 1.0, "Dropout: rate must be in [0, 1)");
  const double t = std::floor(rate * 4294967296.0);
  return std::uint32_t(std::min(t, 4294967295.0));
}

void dropout_apply(float* y, const float* x, std::size_t n, double rate, std::uint64_t seed,
                   std::uint64_t step, std::uint32_t layer, std::uint32_t* bits) {
  const std::uint32_t thr = dropout_threshold(rate);
  const float scale = dropout_scale(rate);
  const std::uint32_t c2 = std::uint32_t(step), c3 = layer;
  const std::uint32_t k0 = std::uint32_t(seed), k1 = std::uint32_t(seed >> 32);
  const auto f = isa::active().dropout.apply;
  if (n < kParallelMin) return f(y, x, 0, n, thr, scale, c2, c3, k0, k1, bits);
  const long tasks = long((n + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
  for (long t = 0; t < tasks; ++t) {
    const std::size_t i0 = std::size_t(t) * kChunk, len = std::min(kChunk, n - i0);
    f(y + i0, x + i0, i0, len, thr, scale, c2, c3, k0, k1, bits ? bits + i0 / 32 : nullptr);
  }
}

void dropout_apply_bits(float* y, const float* x, std::size_t n, double rate,
                        const std::uint32_t* bits) {
  const float scale = dropout_scale(rate);
  const auto f = isa::active().dropout.apply_bits;
  if (n < kParallelMin) return f(y, x, n, scale, bits);
  const long tasks = long((n + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
  for (long t = 0; t < tasks; ++t) {
    const std::size_t i0 = std::size_t(t) * kChunk, len = std::min(kChunk, n - i0);
    f(y + i0, x + i0, len, scale, bits + i0 / 32);
  }
}

void dropout_mask(std::uint8_t* keep, std::size_t n, double rate, std::uint64_t seed,
                  std::uint64_t step, std::uint32_t layer) {
  dropout_scalar::mask_span(keep, 0, n, dropout_threshold(rate), std::uint32_t(step), layer,
                            std::uint32_t(seed), std::uint32_t(seed >> 32));
}

}  // namespace nncore
