// Batch-norm kernels compiled for avx512 (flags from the file name; see batchnorm_impl.inc).
#define NNCORE_BN_NS bn_avx512
#include "batchnorm_impl.inc"
