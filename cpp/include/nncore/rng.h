// Random numbers for the core. Two generators, both pure functions of their seed so runs
// are reproducible whatever the thread count:
//  - Philox4x32-10 (Salmon et al., SC'11): counter-based, for dropout masks and per-element
//    draws, keyed by (seed) with the counter built from (step, layer, element).
//  - Rng: a small sequential generator (splitmix64 → xoshiro256**) for initialisation and
//    shuffling, where order is fixed anyway.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace nncore {

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> ctr,
                                           std::array<std::uint32_t, 2> key);

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next_u64();
  double uniform();                  // [0, 1) with 53 random bits
  double normal();                   // standard normal (Box-Muller, no cached pair)
  std::uint64_t below(std::uint64_t n);  // uniform integer in [0, n), unbiased

 private:
  std::uint64_t s_[4];
};

std::uint64_t splitmix64(std::uint64_t& state);
// Derives an independent 64-bit seed for a named stream (layer init, shuffling, dropout...).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace nncore
