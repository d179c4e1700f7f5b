// Activation kernels compiled for scalar (flags from the file name; see activations_impl.inc).
#define NNCORE_ACT_NS act_scalar
#include "activations_impl.inc"
