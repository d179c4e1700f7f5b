// The int8 epilogue and input quantizer compiled for scalar (the body: requant_impl.inc).
#define NNCORE_QUANT_NS q_scalar
#include "quant/requant_impl.inc"
