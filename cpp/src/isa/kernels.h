// The per-ISA entry points of the elementwise kernel families, declared once for every ISA
// namespace that defines them (each family's *_impl.inc, compiled per ISA; see
// cmake/NncoreIsa.cmake). Only the context tables (context_*.cpp) and the reference paths use
// these names; everything else dispatches through isa::active().
#pragma once
#include <cstddef>
#include <cstdint>

#include "nncore/activations.h"

namespace nncore {

#define NNCORE_DECLARE_ISA_KERNELS(act_ns, bn_ns, dropout_ns, ln_ns)                              \
  namespace act_ns {                                                                              \
  void forward_span(Act a, float alpha, const float* z, float* y, std::size_t n);                 \
  void backward_span(Act a, float alpha, const float* z, const float* y, const float* dy,         \
                     float* dz, std::size_t n);                                                   \
  void softmax_rows(const float* z, float* y, std::size_t rows, std::size_t cols);                \
  void softmax_backward_rows(const float* y, const float* dy, float* dz, std::size_t rows,        \
                             std::size_t cols);                                                   \
  }                                                                                               \
  namespace bn_ns {                                                                               \
  void forward_train_cols(float* y, float* mean, float* invstd, const float* x,                   \
                          const float* gamma, const float* beta, int n, int c, float eps,         \
                          float momentum, float* running_mean, float* running_var, int j0, int w, \
                          bool relu, bool wide);                                                  \
  void forward_eval_cols(float* y, float* invstd, const float* x, const float* gamma,             \
                         const float* beta, const float* running_mean, const float* running_var,  \
                         int n, int c, float eps, int j0, int w, bool relu);                      \
  void backward_cols(float* dx, float* dgamma, float* dbeta, const float* dy, const float* ry,    \
                     const float* x, const float* mean, const float* invstd, const float* gamma,  \
                     int n, int c, bool training, int j0, int w, bool wide, double* sums);        \
  void forward_apply_rows(float* y, const float* x, const float* mean, const float* invstd,       \
                          const float* gamma, const float* beta, int c, int r0, int r1,           \
                          bool relu);                                                             \
  void backward_dx_rows(float* dx, const float* dy, const float* ry, const float* x,              \
                        const float* mean, const float* invstd, const float* gamma,               \
                        const double* sums, int n, int c, int r0, int r1);                        \
  }                                                                                               \
  namespace dropout_ns {                                                                          \
  void apply_span(float* y, const float* x, std::size_t i0, std::size_t len, std::uint32_t thr,   \
                  float scale, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0,              \
                  std::uint32_t k1, std::uint32_t* bits);                                         \
  void apply_bits_span(float* y, const float* x, std::size_t len, float scale,                    \
                       const std::uint32_t* bits);                                                \
  void mask_span(std::uint8_t* keep, std::size_t i0, std::size_t len, std::uint32_t thr,          \
                 std::uint32_t c2, std::uint32_t c3, std::uint32_t k0, std::uint32_t k1);         \
  }                                                                                               \
  namespace ln_ns {                                                                               \
  void forward_rows(float* y, float* mean, float* mean_lo, float* rstd, const float* x,           \
                    const float* gamma, const float* beta, int c, float eps, int r0, int r1);     \
  void backward_rows(float* dx, const float* dy, const float* x, const float* mean,               \
                     const float* mean_lo, const float* rstd, const float* gamma, int c, int r0,  \
                     int r1);                                                                     \
  void param_grads_cols(float* dgamma, float* dbeta, const float* dy, const float* x,             \
                        const float* mean, const float* mean_lo, const float* rstd, int n, int c, \
                        int j0, int w);                                                           \
  }

NNCORE_DECLARE_ISA_KERNELS(act_scalar, bn_scalar, dropout_scalar, ln_scalar)
#if NNCORE_HAVE_AVX2
NNCORE_DECLARE_ISA_KERNELS(act_avx2, bn_avx2, dropout_avx2, ln_avx2)
#endif
#if NNCORE_HAVE_AVX512
NNCORE_DECLARE_ISA_KERNELS(act_avx512, bn_avx512, dropout_avx512, ln_avx512)
#endif
#undef NNCORE_DECLARE_ISA_KERNELS

}  // namespace nncore
