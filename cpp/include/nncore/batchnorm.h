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

}  // namespace nncore
