// Activation kernels compiled for avx2 (flags from the file name; see activations_impl.inc).
#define NNCORE_ACT_NS act_avx2
#include "activations_impl.inc"
