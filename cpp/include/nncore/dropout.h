// Inverted dropout with a stateless mask: keep(i) = philox_u32(seed, step, layer, i) >= threshold,
// threshold = floor(rate·2^32). Element i uses word i % 4 of the Philox4x32-10 block with counter
// (i / 4 low, i / 4 high, step, layer) and key (seed low, seed high), so backward regenerates
// the mask and nothing is stored. Kept values are scaled by float(1/(1 - rate)) with rate in double, as torch.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nncore {

std::uint32_t dropout_threshold(double rate);  // rate in [0, 1)
// y (n) = keep ? x·scale : 0. x == y allowed. Also used for backward (dx from dy, same mask).
void dropout_apply(float* y, const float* x, std::size_t n, double rate, std::uint64_t seed,
                   std::uint64_t step, std::uint32_t layer);
// The mask itself (1 = kept), for tests.
void dropout_mask(std::uint8_t* keep, std::size_t n, double rate, std::uint64_t seed,
                  std::uint64_t step, std::uint32_t layer);

}  // namespace nncore
