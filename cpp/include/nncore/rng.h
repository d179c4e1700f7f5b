// Random numbers for the core. Two generators, both pure functions of their seed so runs
// are reproducible whatever the thread count:
//  - Philox4x32-10 (Salmon et al., SC'11): counter-based, for dropout masks and per-element
//    draws, keyed by (seed) with the counter built from (step, layer, element).
//  - Rng: a small sequential generator (splitmix64 → xoshiro256**) for initialisation and
//    shuffling, where order is fixed anyway.
#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace nncore {

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> ctr,
                                           std::array<std::uint32_t, 2> key);
// Batched Philox4x32-10 over nblocks consecutive counters {block + b (low, high), c2, c3}:
// out[4·b + r] = word r of block b (out holds 4·nblocks words). Same bits as philox4x32_10.
void philox4x32_10_batch(std::uint32_t* out, std::size_t nblocks, std::uint64_t block,
                         std::uint32_t c2, std::uint32_t c3, std::array<std::uint32_t, 2> key);

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next_u64();
  double uniform();                      // [0, 1) with 53 random bits
  double normal();                       // standard normal (Box-Muller, no cached pair)
  std::uint64_t below(std::uint64_t n);  // uniform integer in [0, n), unbiased

 private:
  std::uint64_t s_[4];
};

std::uint64_t splitmix64(std::uint64_t& state);
// Derives an independent 64-bit seed for a named stream (layer init, shuffling, dropout...).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace nncore
