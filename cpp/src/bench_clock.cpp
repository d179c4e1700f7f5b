#include "nncore/bench_clock.h"

#include <algorithm>
#include <chrono>

#include "nncore/cycle_clock.h"

namespace nncore {

double bench_seconds() {
  using clk = std::chrono::steady_clock;
#if defined(__x86_64__) || defined(_M_X64)
  static const double hz = [] {
    double r[5];
    for (double& x : r) {
      const auto a = clk::now();
      const std::uint64_t t0 = cycle_ticks();
      while (std::chrono::duration<double>(clk::now() - a).count() < 0.2) {
      }
      const std::uint64_t t1 = cycle_ticks();
      x = double(t1 - t0) / std::chrono::duration<double>(clk::now() - a).count();
    }
    std::sort(r, r + 5);
    return r[2];
  }();
  return double(cycle_ticks()) / hz;
#else
  return std::chrono::duration<double>(clk::now().time_since_epoch()).count();
#endif
}

}  // namespace nncore
