// Batch-norm kernels compiled for scalar (flags from the file name; see batchnorm_impl.inc).
#define NNCORE_BN_NS bn_scalar
#include "batchnorm_impl.inc"
