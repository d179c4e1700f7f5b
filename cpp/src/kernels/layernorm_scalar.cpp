// Layer-norm kernels compiled for scalar (flags from the file name; see layernorm_impl.inc).
#define NNCORE_LN_NS ln_scalar
#include "layernorm_impl.inc"
