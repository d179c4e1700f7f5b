// Philox4x32-10 and the sequential Rng (see rng.h).
#include "nncore/rng.h"

#include <cstring>

namespace nncore {

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> c,
                                           std::array<std::uint32_t, 2> k) {
  const std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  const std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    std::uint64_t p0 = std::uint64_t(M0) * c[0];
    std::uint64_t p1 = std::uint64_t(M1) * c[2];
    std::uint32_t hi0 = std::uint32_t(p0 >> 32), lo0 = std::uint32_t(p0);
    std::uint32_t hi1 = std::uint32_t(p1 >> 32), lo1 = std::uint32_t(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += W0;
    k[1] += W1;
  }
  return c;
}

namespace rng_detail {
#include "kernels/philox_batch.inc"
}  // namespace rng_detail

void philox4x32_10_batch(std::uint32_t* out, std::size_t nblocks, std::uint64_t block,
                         std::uint32_t c2, std::uint32_t c3, std::array<std::uint32_t, 2> key) {
  std::uint32_t tmp[64];
  for (std::size_t b = 0; b < nblocks; b += 16) {
    rng_detail::philox_batch16(tmp, block + b, c2, c3, key[0], key[1]);
    const std::size_t m = nblocks - b < 16 ? nblocks - b : 16;
    std::memcpy(out + 4 * b, tmp, sizeof(std::uint32_t) * 4 * m);
  }
}

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
  splitmix64(s);
  return splitmix64(s);
}

Rng::Rng(std::uint64_t seed) {
  for (auto& v : s_) v = splitmix64(seed);
}

static inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::uint64_t Rng::next_u64() {
  std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Lemire's nearly-divisionless method would do; rejection keeps it obviously unbiased.
  std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
  std::uint64_t v;
  do v = next_u64();
  while (v >= limit);
  return v % n;
}

}  // namespace nncore
