#pragma once
// A cheap, fine-grained clock for per-phase profiling. On some VMs the system clock advances in
// steps of milliseconds (bench/results/design_choices.md#clock-steps), which turns sub-millisecond
// phase timings into noise; the CPU's time-stamp counter does not. Ticks are converted to seconds
// by the ratio of wall time to ticks over a whole profiling window (seconds long), so a coarse wall
// clock costs little accuracy.
#include <chrono>
#include <cstdint>
#if defined(__x86_64__) || defined(_M_X64)
#include <x86intrin.h>
#endif

namespace nncore {

inline std::uint64_t cycle_ticks() {
#if defined(__x86_64__) || defined(_M_X64)
  return __rdtsc();
#else
  return (std::uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
#endif
}

// Start of a window: wall time and ticks taken together; seconds_per_tick() over the window.
struct CycleWindow {
  std::chrono::steady_clock::time_point wall0 = std::chrono::steady_clock::now();
  std::uint64_t tick0 = cycle_ticks();
  double seconds_per_tick() const {
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    std::uint64_t ticks = cycle_ticks() - tick0;
    if (ticks == 0 || wall <= 0) return 1e-9;  // no usable window yet: assume 1 GHz
    return wall / double(ticks);
  }
};

}  // namespace nncore
