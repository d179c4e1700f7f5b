// Subnormal floats as zero: on Intel CPUs every operation that reads or writes one takes a
// microcode assist (20-140x slower; bench/results/issue33.md#subnormals). Where nncore produces
// values that can fall that low (loss gradients of a saturated softmax, decaying optimizer
// states) it stores them flushed. An integer test on the bits, so every ISA gives the same result.
#pragma once
#include <cstdint>
#include <cstring>

namespace nncore {

// x, or ±0 (its sign kept) when x is subnormal. Always inlined: called once per element, and an
// out-of-line copy is reached through the PLT in the shared module (1.5 % of a digits L-BFGS fit).
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline float
flush_subnormal(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  if ((b & 0x7F800000u) == 0) b &= 0x80000000u;
  float r;
  std::memcpy(&r, &b, sizeof r);
  return r;
}

}  // namespace nncore
