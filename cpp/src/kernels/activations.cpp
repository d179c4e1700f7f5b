// Activation dispatcher: names and properties (from the schema), the per-ISA kernel table and
// the threading. Large arrays are cut into fixed chunks (elementwise, so results never depend on the thread count); short spans (GEMM
// epilogue rows) go straight to the kernel with no OpenMP region.
#include "nncore/activations.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "activations_isa.h"
#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

namespace nncore {

namespace {
struct ActKernels {
  decltype(&act_scalar::forward_span) forward;
  decltype(&act_scalar::backward_span) backward;
  decltype(&act_scalar::softmax_rows) softmax;
  decltype(&act_scalar::softmax_backward_rows) softmax_backward;
};

const ActKernels& kernels() {
  static const ActKernels scalar{act_scalar::forward_span, act_scalar::backward_span,
                                 act_scalar::softmax_rows, act_scalar::softmax_backward_rows};
#if NNCORE_HAVE_AVX2
  static const ActKernels avx2{act_avx2::forward_span, act_avx2::backward_span,
                               act_avx2::softmax_rows, act_avx2::softmax_backward_rows};
#endif
#if NNCORE_HAVE_AVX512
  static const ActKernels avx512{act_avx512::forward_span, act_avx512::backward_span,
                                 act_avx512::softmax_rows, act_avx512::softmax_backward_rows};
#endif
  switch (active_isa()) {
#if NNCORE_HAVE_AVX512
    case Isa::avx512: return avx512;
#endif
#if NNCORE_HAVE_AVX2
    case Isa::avx2: return avx2;
#endif
    default: return scalar;
  }
}

constexpr std::size_t kChunk = 1 << 14;      // elements per task
constexpr std::size_t kParallelMin = 1 << 16;  // below this one thread is faster
}  // namespace

Act parse_act(const std::string& name) {
  if (name == "none" || name.empty()) return Act::linear;
  std::vector<std::string> known;
  for (const auto& a : schema::activations()) {
    if (name == a.name) return a.act;
    known.push_back(a.name);
  }
  fail("unknown activation '" + name + "': expected one of " + schema::names(known));
}

const char* act_name(Act a) { return schema::activations().at(static_cast<int>(a)).name.c_str(); }

float act_default_alpha(Act a) { return schema::activations().at(static_cast<int>(a)).default_alpha; }

bool act_backward_needs_z(Act a) {
  return schema::activations().at(static_cast<int>(a)).backward_needs_z;
}

void act_forward(Act a, float alpha, const float* z, float* y, std::size_t n, std::size_t cols) {
  if (n == 0) return;
  const ActKernels& k = kernels();
  if (a == Act::softmax) {
    check(cols > 0 && n % cols == 0, "softmax: n must be a multiple of cols");
    const std::size_t rows = n / cols;
    if (n < kParallelMin) return k.softmax(z, y, rows, cols);
    const std::size_t rb = (kChunk + cols - 1) / cols;  // rows per task
    const long tasks = long((rows + rb - 1) / rb);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
    for (long t = 0; t < tasks; ++t) {
      const std::size_t r0 = std::size_t(t) * rb, r1 = std::min(rows, r0 + rb);
      k.softmax(z + r0 * cols, y + r0 * cols, r1 - r0, cols);
    }
    return;
  }
  if (n < kParallelMin) return k.forward(a, alpha, z, y, n);
  const long tasks = long((n + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
  for (long t = 0; t < tasks; ++t) {
    const std::size_t i0 = std::size_t(t) * kChunk, len = std::min(kChunk, n - i0);
    k.forward(a, alpha, z + i0, y + i0, len);
  }
}

void act_backward(Act a, float alpha, const float* z, const float* y, const float* dy, float* dz,
                  std::size_t n, std::size_t cols) {
  if (n == 0) return;
  const ActKernels& k = kernels();
  if (act_backward_needs_z(a)) check(z != nullptr, "act_backward: this activation needs z");
  else if (a != Act::linear) check(y != nullptr, "act_backward: this activation needs y");
  if (a == Act::softmax) {
    check(cols > 0 && n % cols == 0, "softmax: n must be a multiple of cols");
    const std::size_t rows = n / cols;
    if (n < kParallelMin) return k.softmax_backward(y, dy, dz, rows, cols);
    const std::size_t rb = (kChunk + cols - 1) / cols;
    const long tasks = long((rows + rb - 1) / rb);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
    for (long t = 0; t < tasks; ++t) {
      const std::size_t r0 = std::size_t(t) * rb, r1 = std::min(rows, r0 + rb);
      k.softmax_backward(y + r0 * cols, dy + r0 * cols, dz + r0 * cols, r1 - r0, cols);
    }
    return;
  }
  if (n < kParallelMin) return k.backward(a, alpha, z, y, dy, dz, n);
  const long tasks = long((n + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(num_threads()) schedule(static)
  for (long t = 0; t < tasks; ++t) {
    const std::size_t i0 = std::size_t(t) * kChunk, len = std::min(kChunk, n - i0);
    k.backward(a, alpha, z ? z + i0 : nullptr, y ? y + i0 : nullptr, dy + i0, dz + i0, len);
  }
}

}  // namespace nncore
