// SHA-256 (FIPS 180-4), for the .nnc file checksum; private to the core.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace nncore {

std::array<std::uint8_t, 32> sha256(const std::uint8_t* data, std::size_t n);

}  // namespace nncore
