// The int8 epilogue and input quantizer compiled for avx2 (the body: requant_impl.inc).
#define NNCORE_QUANT_NS q_avx2
#include "quant/requant_impl.inc"
