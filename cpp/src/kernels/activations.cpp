// Activation dispatcher: names and properties (from the schema), the ISA context's kernels and
// the threading. Large arrays are cut into fixed chunks (elementwise, so results never depend on
// the thread count); short spans (GEMM epilogue rows) go straight to the kernel with no OpenMP
// region.
#include "nncore/activations.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "isa/context.h"
#include "nncore/common.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

namespace nncore {

namespace {
constexpr std::size_t kChunk = 1 << 14;        // elements per task
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

namespace {
const schema::ActivationKind& kind(Act a) { return schema::activations().at(static_cast<int>(a)); }
}  // namespace

const char* act_name(Act a) { return kind(a).name.c_str(); }

float act_default_alpha(Act a) { return kind(a).default_alpha; }

bool act_backward_needs_z(Act a) { return kind(a).backward_needs_z; }

void act_forward(Act a, float alpha, const float* z, float* y, std::size_t n, std::size_t cols) {
  if (n == 0) return;
  const isa::ActKernels& k = isa::active().act;
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
  const isa::ActKernels& k = isa::active().act;
  if (act_backward_needs_z(a))
    check(z != nullptr, "act_backward: this activation needs z");
  else if (a != Act::linear)
    check(y != nullptr, "act_backward: this activation needs y");
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
