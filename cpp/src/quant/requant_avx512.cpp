// The int8 epilogue and input quantizer compiled for avx512 (the body: requant_impl.inc).
#define NNCORE_QUANT_NS q_avx512
#include "quant/requant_impl.inc"
