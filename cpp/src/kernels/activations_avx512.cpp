// Activation kernels compiled for avx512 (flags from the file name; see activations_impl.inc).
#define NNCORE_ACT_NS act_avx512
#include "activations_impl.inc"
