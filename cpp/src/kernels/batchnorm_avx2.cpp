// Batch-norm kernels compiled for avx2 (flags from the file name; see batchnorm_impl.inc).
#define NNCORE_BN_NS bn_avx2
#include "batchnorm_impl.inc"
