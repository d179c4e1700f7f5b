// Run-time ISA selection: which SIMD kernel family the process uses.
// Chosen once (NNCORE_ISA overrides detection); tests may switch it with set_active_isa.
#pragma once
#include <string>

namespace nncore {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };

const char* isa_name(Isa isa);
// Parses "scalar" | "avx2" | "avx512" | "neon"; throws std::invalid_argument otherwise.
Isa parse_isa(const std::string& name);
// Compiled into this build AND runnable on this CPU/OS (AVX-512 state saved by the OS, ...).
bool isa_supported(Isa isa);
Isa best_isa();
// The ISA in use. The first call reads NNCORE_ISA (throws std::invalid_argument on an unknown
// or unsupported value) or picks best_isa().
Isa active_isa();
// Forces a path (tests, benchmarks). Throws if the ISA is not supported here.
void set_active_isa(Isa isa);

}  // namespace nncore
