// Private to cpp/src/optim: the per-chunk update kernels of the optimizers, one table per ISA
// (registered in the ISA context, isa/context_<isa>.cpp).
// Every kernel is elementwise over [0, n) of one chunk; the driver (optimizers.cpp) splits the
// arena into fixed chunks and runs them under OpenMP. Scalars arrive precomputed as torch does.
#pragma once
#include <cstddef>
#include <cstdint>

#include "nncore/cpu.h"

namespace nncore::optim_detail {

// g' = clamp(g * scale, -clip, clip): scale folds clip-by-norm and maximize (sign), clip = +inf
// when clip-by-value is off. Comparisons keep NaN as NaN (torch's clamp propagates it).
struct Prep {
  float scale = 1.0f;
  float clip = __builtin_inff();
};

struct SgdK {
  Prep pre;
  float neg_lr, wd, momentum, one_minus_damp;
  bool has_wd, has_mom, nesterov, first;
};
struct AdagradK {
  Prep pre;
  float neg_clr, wd, eps;
  bool has_wd;
};
struct RmspropK {
  Prep pre;
  float neg_lr, wd, alpha, one_minus_alpha, w, one_minus_w, eps, momentum;
  bool has_wd, centered, has_mom;
};
struct AdamK {
  Prep pre;
  // torch's p -= step·m / (sqrt(v)/sqrt(bc2) + eps) is computed as
  // p += (-step·sqrt(bc2))·m / (sqrt(v) + eps·sqrt(bc2)): the same value up to rounding, with one
  // division per element instead of two: sqrt and division bound Adam's step
  // (bench/results/design_choices.md#adam-one-division).
  float neg_step_bc2, eps_bc2, wd, decay, w1, one_minus_w1, beta2, one_minus_beta2;
  bool has_wd, decoupled, amsgrad;
};
struct NadamK {
  Prep pre;
  float wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, bc2, eps, c_grad, c_avg;
  bool has_wd, decoupled;
};

struct AdadeltaK {
  Prep pre;
  float neg_lr, wd, rho, one_minus_rho, eps;
  bool has_wd;
};

struct Kernels {
  // Sum of squares in double: 32 lanes (lane = i mod 32), then a fixed pairwise tree.
  double (*sumsq)(const float* g, std::size_t n);
  // The largest |x[i]| as its bit pattern (sign bit cleared, a non-negative int32 that orders
  // like the float); patterns from 0x7f800000 up are inf and NaN.
  std::int32_t (*max_abs_bits)(const float* x, std::size_t n);
  // g *= s.
  void (*scale)(float* g, std::size_t n, float s);
  // g = clamp(g, -c, c).
  void (*clamp)(float* g, std::size_t n, float c);
  void (*sgd)(float* p, const float* g, float* buf, std::size_t n, const SgdK& k);
  void (*adagrad)(float* p, const float* g, float* sum, std::size_t n, const AdagradK& k);
  void (*rmsprop)(float* p, const float* g, float* sq, float* gavg, float* buf, std::size_t n,
                  const RmspropK& k);
  void (*adam)(float* p, const float* g, float* m, float* v, float* vmax, std::size_t n,
               const AdamK& k);
  void (*nadam)(float* p, const float* g, float* m, float* v, std::size_t n, const NadamK& k);
  void (*adadelta)(float* p, const float* g, float* sq, float* acc, std::size_t n,
                   const AdadeltaK& k);
};

namespace scalar {
const Kernels& table();
}
namespace avx2 {
const Kernels& table();
}
namespace avx512 {
const Kernels& table();
}

}  // namespace nncore::optim_detail
