// Weight penalties and constraints of a Dense layer.
//   penalty = l1·Σ|w| + l2·Σw²   (Keras' convention: the gradient of l2·w² is 2·l2·w)
//   max-norm: each unit's incoming weight row is rescaled to L2 norm <= max_norm.
#pragma once
#include <cstddef>

namespace nncore {

double l1_l2_penalty(const float* w, std::size_t n, float l1, float l2);
// dw += l1·sign(w) + 2·l2·w
void l1_l2_grad(float* dw, const float* w, std::size_t n, float l1, float l2);
// w (rows, cols): rows whose L2 norm exceeds max_norm are scaled down to it.
void max_norm_rows(float* w, int rows, int cols, float max_norm);

}  // namespace nncore
