// Layer-norm kernels compiled for avx512 (flags from the file name; see layernorm_impl.inc).
#define NNCORE_LN_NS ln_avx512
#include "layernorm_impl.inc"
