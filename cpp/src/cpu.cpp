// CPU feature detection and the process-wide ISA choice.
#include "nncore/cpu.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace nncore {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  if (name == "scalar") return Isa::scalar;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  if (name == "neon") return Isa::neon;
  throw std::invalid_argument("unknown ISA '" + name +
                              "': expected one of avx512, avx2, neon, scalar");
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
#if defined(NNCORE_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
    case Isa::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(NNCORE_HAVE_AVX512) && (defined(__GNUC__) || defined(__clang__))
    case Isa::avx512:
      // __builtin_cpu_supports also checks that the OS saves the ZMM/opmask state (XCR0).
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("fma");
#endif
#if defined(NNCORE_HAVE_NEON)
    case Isa::neon: return true;  // Advanced SIMD is mandatory on aarch64.
#endif
    default: return false;
  }
}

Isa best_isa() {
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::neon})
    if (isa_supported(isa)) return isa;
  return Isa::scalar;
}

namespace {
std::atomic<int> g_isa{-1};
std::mutex g_isa_mutex;
}  // namespace

Isa active_isa() {
  int v = g_isa.load(std::memory_order_acquire);
  if (v >= 0) return static_cast<Isa>(v);
  std::lock_guard<std::mutex> lock(g_isa_mutex);
  v = g_isa.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<Isa>(v);
  Isa isa = best_isa();
  if (const char* env = std::getenv("NNCORE_ISA"); env && *env) {
    isa = parse_isa(env);
    if (!isa_supported(isa))
      throw std::invalid_argument(
          std::string("NNCORE_ISA=") + env +
          " is not supported by this CPU or build (best available: " + isa_name(best_isa()) + ")");
  }
  g_isa.store(static_cast<int>(isa), std::memory_order_release);
  return isa;
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("ISA ") + isa_name(isa) +
                                " is not supported by this CPU or build");
  g_isa.store(static_cast<int>(isa), std::memory_order_release);
}

}  // namespace nncore
