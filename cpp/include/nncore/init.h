// Weight initialisers for a (fan_out, fan_in) weight, PyTorch's formulas (gain 1, except
// "auto" which picks by the activation that follows: He for the ReLU family, Xavier for
// tanh/sigmoid, LeCun for SELU).
#pragma once
#include <string>

#include "nncore/activations.h"
#include "nncore/rng.h"

namespace nncore {

enum class Init : int {
  auto_ = 0,
  xavier_uniform,
  xavier_normal,
  he_uniform,
  he_normal,
  lecun_normal,
  orthogonal,
  zeros
};

Init parse_init(const std::string& name);  // throws std::invalid_argument naming the choices
const char* init_name(Init i);
Init resolve_auto_init(Act following_activation);
// w (fan_out, fan_in), drawn from rng in row-major order.
void init_weights(Init init, float* w, int fan_out, int fan_in, Rng& rng);

}  // namespace nncore
