// Per-ISA activation span kernels (private to the kernels directory; see activations_impl.inc).
#pragma once
#include <cstddef>

#include "nncore/activations.h"

namespace nncore {
#define NNCORE_ACT_DECLARE(ns)                                                                \
  namespace ns {                                                                              \
  void forward_span(Act a, float alpha, const float* z, float* y, std::size_t n);             \
  void backward_span(Act a, float alpha, const float* z, const float* y, const float* dy,     \
                     float* dz, std::size_t n);                                               \
  void softmax_rows(const float* z, float* y, std::size_t rows, std::size_t cols);            \
  void softmax_backward_rows(const float* y, const float* dy, float* dz, std::size_t rows,    \
                             std::size_t cols);                                               \
  }
NNCORE_ACT_DECLARE(act_scalar)
#if NNCORE_HAVE_AVX2
NNCORE_ACT_DECLARE(act_avx2)
#endif
#if NNCORE_HAVE_AVX512
NNCORE_ACT_DECLARE(act_avx512)
#endif
#undef NNCORE_ACT_DECLARE
}  // namespace nncore
