// Layer normalisation kernels over x (n, c) row-major, per row (sample), as torch.nn.LayerNorm(c):
// y = (x - mean)·rstd·gamma + beta with the row's mean and rstd = 1/sqrt(biased var + eps). Row
// sums run in double in one fixed order (layernorm_impl.inc) and the parameter gradients sum each
// feature over the rows in row order, so results depend on neither the thread count nor the ISA.
// It leaves out normalising over more than the last dimension (a (n, c) batch has only one).
#pragma once

namespace nncore {

// x (n, c), gamma (c), beta (c) -> y (n, c), mean (n), mean_lo (n), rstd (n). The row's mean is
// the float pair mean + mean_lo (its double value to ~48 bits: a float mean would shift x - mean
// by up to half an ulp of a large mean). gamma / beta may be null (scale 1 / shift 0:
// elementwise_affine=False, or bias=False).
void ln_forward(float* y, float* mean, float* mean_lo, float* rstd, const float* x,
                const float* gamma, const float* beta, int n, int c, float eps);
// dy (n, c), forward's x, statistics and gamma -> dx (n, c) (written; skipped when null), and
// dgamma, dbeta (c) accumulated (+=; each skipped when null).
void ln_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                 const float* mean, const float* mean_lo, const float* rstd, const float* gamma,
                 int n, int c);

}  // namespace nncore
