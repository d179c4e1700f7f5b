// Dropout kernels compiled for scalar (flags from the file name; see dropout_impl.inc).
#define NNCORE_DROPOUT_NS dropout_scalar
#include "dropout_impl.inc"
