// Elementwise activations, forward and backward, dispatched to the active ISA.
// softmax is row-wise over `cols`; every other activation is elementwise over n values.
// Every ISA path gives the same bits: the maths is written with explicit operations
// (no libm, -ffp-contract=off), so vector and scalar code round identically.
#pragma once
#include <cstddef>
#include <string>

namespace nncore {

enum class Act : int {
  linear = 0,
  relu,
  leaky_relu,  // alpha = negative slope (default 0.01)
  elu,         // alpha (default 1.0)
  selu,
  gelu,  // exact (erf) form, as torch.nn.GELU()
  sigmoid,
  tanh,
  softplus,  // log(1 + e^x), as torch.nn.Softplus(beta=1, threshold=20)
  silu,
  softmax,  // row-wise
};

Act parse_act(const std::string& name);  // throws std::invalid_argument naming the choices
const char* act_name(Act a);
float act_default_alpha(Act a);  // 0.01 for leaky_relu, 1.0 for elu, else 0
// True when backward needs the pre-activation z; otherwise y = f(z) is enough
// (relu, leaky_relu, elu, selu, sigmoid, tanh, linear, softmax).
bool act_backward_needs_z(Act a);

// y = f(z) for n values (z == y allowed). For softmax, n = rows * cols and cols must be given.
void act_forward(Act a, float alpha, const float* z, float* y, std::size_t n, std::size_t cols = 0);
// dz = dy * f'(z). z or y may be null when not needed (see act_backward_needs_z).
// dz == dy allowed. For softmax, n = rows * cols.
void act_backward(Act a, float alpha, const float* z, const float* y, const float* dy, float* dz,
                  std::size_t n, std::size_t cols = 0);

}  // namespace nncore
