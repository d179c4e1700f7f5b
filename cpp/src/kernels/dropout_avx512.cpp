// Dropout kernels compiled for avx512 (flags from the file name; see dropout_impl.inc).
#define NNCORE_DROPOUT_NS dropout_avx512
#include "dropout_impl.inc"
