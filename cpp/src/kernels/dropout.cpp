// Dropout dispatcher (see nncore/dropout.h): per-ISA span kernel, fixed chunks of kChunk
// elements (multiples of 64 so every chunk starts on a Philox block boundary) spread over
// threads; the mask depends only on the element index, never on the split.
#include "nncore/dropout.h"

#include <algorithm>
#include <cmath>

#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/threading.h"

namespace nncore {

#define NNCORE_DROPOUT_DECLARE(ns)                                                            \
  namespace ns {                                                                              \
  void apply_span(float* y, const float* x, std::size_t i0, std::size_t len, std::uint32_t thr, \
                  float scale, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0,          \
                  std::uint32_t k1, std::uint32_t* bits);                                     \
  void apply_bits_span(float* y, const float* x, std::size_t len, float scale,                \
                       const std::uint32_t* bits);                                            \
  void mask_span(std::uint8_t* keep, std::size_t i0, std::size_t len, std::uint32_t thr,      \
                 std::uint32_t c2, std::uint32_t c3, std::uint32_t k0, std::uint32_t k1);     \
  }
NNCORE_DROPOUT_DECLARE(dropout_scalar)
#if NNCORE_HAVE_AVX2
NNCORE_DROPOUT_DECLARE(dropout_avx2)
#endif
#if NNCORE_HAVE_AVX512
NNCORE_DROPOUT_DECLARE(dropout_avx512)
#endif

namespace {
constexpr std::size_t kChunk = 1 << 14;
constexpr std::size_t kParallelMin = 1 << 16;

using ApplyFn = decltype(&dropout_scalar::apply_span);
ApplyFn apply_kernel() {
  switch (active_isa()) {
#if NNCORE_HAVE_AVX512
    case Isa::avx512: return dropout_avx512::apply_span;
#endif
#if NNCORE_HAVE_AVX2
    case Isa::avx2: return dropout_avx2::apply_span;
#endif
    default: return dropout_scalar::apply_span;
  }
}
using BitsFn = decltype(&dropout_scalar::apply_bits_span);
BitsFn bits_kernel() {
  switch (active_isa()) {
#if NNCORE_HAVE_AVX512
    case Isa::avx512: return dropout_avx512::apply_bits_span;
#endif
#if NNCORE_HAVE_AVX2
    case Isa::avx2: return dropout_avx2::apply_bits_span;
#endif
    default: return dropout_scalar::apply_bits_span;
  }
}

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
  ApplyFn f = apply_kernel();
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
  BitsFn f = bits_kernel();
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
