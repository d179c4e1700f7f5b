// Dropout kernels compiled for avx2 (flags from the file name; see dropout_impl.inc).
#define NNCORE_DROPOUT_NS dropout_avx2
#include "dropout_impl.inc"
