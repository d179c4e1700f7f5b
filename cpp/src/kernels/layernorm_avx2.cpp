// Layer-norm kernels compiled for avx2 (flags from the file name; see layernorm_impl.inc).
#define NNCORE_LN_NS ln_avx2
#include "layernorm_impl.inc"
