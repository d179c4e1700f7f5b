// Proving a step's gradients finite without reading them: a weight gradient dW = dzᵀ·x over k
// rows is bounded by k·max|dz|·max|x|, so two scans of the (small, cache-hot) operands stand in
// for a pass over the (large) gradient. The optimizer's non-finite check then need not read it
// (bench/results/issue33.md#finite-by-bound).
#pragma once
#include <cstddef>

namespace nncore {

// The largest |x[i]| over [0, n), or +inf when any element is NaN or inf (0 for n = 0).
float max_abs(const float* x, std::size_t n);

// True when every partial sum of k products a·b with |a| <= a_max and |b| <= b_max, and every
// sum of k values |a| <= a_max, stays finite in float32 whatever the order and rounding
// (a margin of 30× below FLT_MAX covers the rounding growth (1 + 2^-24)^k for k <= 2^24).
bool sums_of_products_finite(double k, float a_max, float b_max);

}  // namespace nncore
