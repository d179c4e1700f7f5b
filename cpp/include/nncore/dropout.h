// Inverted dropout with a stateless mask: keep(i) = philox_u32(seed, step, layer, i) >= threshold,
// threshold = floor(rate·2^32). Element i uses word i % 4 of the Philox4x32-10 block with counter
// (i / 4 low, i / 4 high, step, layer) and key (seed low, seed high), so backward regenerates
// the mask and nothing needs to be stored; the layer stores it anyway (1 bit per element) so that
// backward is one pass over memory instead of ten Philox rounds per 4 elements. Kept values are
// scaled by float(1/(1 - rate)) with rate in double, as torch.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nncore {

std::uint32_t dropout_threshold(double rate);  // rate in [0, 1)
// y (n) = keep ? x·scale : 0. x == y allowed. Also used for backward (dx from dy, same mask).
// When bits is not null it receives the mask: bit i % 32 of bits[i / 32] = keep(i)
// (ceil(n / 32) words).
void dropout_apply(float* y, const float* x, std::size_t n, double rate, std::uint64_t seed,
                   std::uint64_t step, std::uint32_t layer, std::uint32_t* bits = nullptr);
// The same with the mask read from bits (as written by dropout_apply): same bits of y.
void dropout_apply_bits(float* y, const float* x, std::size_t n, double rate,
                        const std::uint32_t* bits);
// The mask itself (1 = kept), for tests.
void dropout_mask(std::uint8_t* keep, std::size_t n, double rate, std::uint64_t seed,
                  std::uint64_t step, std::uint32_t layer);

}  // namespace nncore
