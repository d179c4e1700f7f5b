// Batch normalisation kernels over x (n, c) row-major, per feature (column), as
// torch.nn.BatchNorm1d: biased batch variance for normalising, unbiased (n/(n-1)) for the running
// variance, running = (1 - momentum)·running + momentum·batch. Reductions run down columns in
// double, vectorised across features; threads own whole column blocks, so results do not depend
// on the thread count. The layer (cpp/src/layers/batchnorm.cpp) adds the spec keys:
//   momentum (0.1, in [0, 1]), eps (1e-5, > 0), affine (1/0),
//   batch1: 0 (default) = a training batch of one row is an error; 1 = such a batch is
//           normalised with the running statistics (as in evaluation) and does not update them.
#pragma once
#include <cstddef>

namespace nncore {

// Training forward: y (n, c), mean (c), invstd (c) = 1/sqrt(var_biased + eps) from x (n, c).
// gamma/beta (c) may be null (no affine). If running_mean/running_var are non-null they are
// updated with `momentum` (n must be >= 2 for the unbiased variance). relu: a following ReLU is
// fused in, y = max(·, 0) with the activation kernel's bits.
void bn_forward_train(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                      const float* beta, int n, int c, float eps, float momentum,
                      float* running_mean, float* running_var, bool relu = false);
// Evaluation forward with given statistics: y = (x - mean)·invstd·gamma + beta.
// invstd (c) is written from running_var: invstd = 1/sqrt(running_var + eps).
void bn_forward_eval(float* y, float* invstd, const float* x, const float* gamma, const float* beta,
                     const float* running_mean, const float* running_var, int n, int c, float eps,
                     bool relu = false);
// From how many rows the training forward and the backward sweep whole rows instead of
// 64-feature column blocks (default 1024; the same bits either way: a tuning and testing knob).
// Returns the previous value.
int bn_set_row_sweep_rows(int rows);
// Backward. dx (n, c) may be null; dgamma/dbeta (c) are accumulated (+=) when non-null.
// training: standard batch-statistics backward; otherwise the statistics are constants.
// relu_y: when non-null, dy is the gradient of a fused ReLU whose output was relu_y (n, c);
// the ReLU's backward (relu_y > 0 ? dy : 0) is applied on the fly.
void bn_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                 const float* mean, const float* invstd, const float* gamma, int n, int c,
                 bool training, const float* relu_y = nullptr);

// Block passes (synchronised BatchNorm over a data-parallel batch; batchnorm_sync.cpp): the
// training forward and backward cut at their reductions over rows, so that the per-block sums can
// be summed over every block of the global batch in between. Each sum runs in double, each column
// in row order, with the operations of bn_forward_train / bn_backward: a batch that is one block
// gets their bits. Portable code (no per-ISA variants), so every ISA gives the same bits.
// s (c) = sum over rows of x (n, c).
void bn_sum_rows(double* s, const float* x, int n, int c);
// q (c) = sum over rows of (x - mean)^2.
void bn_sum_squared_deviations(double* q, const float* x, const double* mean, int n, int c);
// y = (x - mean)·(invstd·gamma) + beta, the training forward's last pass (relu: fused ReLU).
void bn_normalize(float* y, const float* x, const float* mean, const float* invstd,
                  const float* gamma, const float* beta, int n, int c, bool relu);
// sums (2c) = [sum of dy, sum of dy·x̂], x̂ = (x - mean)·invstd; dy is masked by a fused ReLU's
// output relu_y (relu_y > 0 ? dy : 0) when relu_y is non-null.
void bn_sum_grads(double* sums, const float* dy, const float* relu_y, const float* x,
                  const float* mean, const float* invstd, int n, int c);
// dx = gamma·invstd·(dy - sums[0:c]/count - x̂·sums[c:2c]/count), sums over `count` rows.
void bn_backward_dx(float* dx, const float* dy, const float* relu_y, const float* x,
                    const float* mean, const float* invstd, const float* gamma, const double* sums,
                    double count, int n, int c);

}  // namespace nncore
