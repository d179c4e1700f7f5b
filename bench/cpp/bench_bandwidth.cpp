// Read bandwidth of one core for buffers of 0.5–8 MB, read over and over (as a batch-1 predict
// reads the 2.7 MB of weights of the 784-512-512-10 model): the floor for memory-bound kernels.
//   ./build/dev/bench_bandwidth [reps]
#if defined(__x86_64__)
#include <immintrin.h>
#define NNCORE_BENCH_AVX512 1
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "nncore/cpu.h"
#include "nncore/cycle_clock.h"

namespace {

#if NNCORE_BENCH_AVX512
__attribute__((target("avx512f"))) float read_avx512(const float* p, std::size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (std::size_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + i + 48));
  }
  alignas(64) float lanes[16];  // (not _mm512_reduce_add_ps: GCC 12 warns inside it)
  _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  float s = 0;
  for (float v : lanes) s += v;
  return s;
}
#else
float read_avx512(const float* p, std::size_t n) { return 0.f; }  // never called off x86
#endif

float read_plain(const float* p, std::size_t n) {
  float a[16] = {};
  for (std::size_t i = 0; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) a[j] += p[i + j];
  float s = 0;
  for (float v : a) s += v;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 2001;
  const bool wide = nncore::isa_supported(nncore::Isa::avx512);
  std::printf("# one-core read bandwidth (%s loads), median of %d passes\n",
              wide ? "AVX-512" : "compiler-vectorised", reps);
  nncore::CycleWindow window;  // ticks -> seconds over the whole run, converted at the end
  const double sizes[] = {0.5, 1.0, 1.6, 2.7, 4.0, 8.0};
  std::vector<double> median_ticks;
  for (double mb : sizes) {
    const std::size_t n = std::size_t(mb * (1 << 20) / 4) / 64 * 64;
    std::vector<float> v(n, 1.f);
    std::vector<std::uint64_t> t;
    volatile float sink = 0;
    for (int r = 0; r < reps; ++r) {
      asm volatile("" ::: "memory");  // the buffer may have changed: no hoisting of the read
      const std::uint64_t a = nncore::cycle_ticks();
      sink = sink + (wide ? read_avx512(v.data(), n) : read_plain(v.data(), n));
      t.push_back(nncore::cycle_ticks() - a);
    }
    std::sort(t.begin(), t.end());
    median_ticks.push_back(double(t[t.size() / 2]));
  }
  const double spt = window.seconds_per_tick();
  std::printf("| MB | median µs | GB/s |\n|---|---|---|\n");
  for (std::size_t k = 0; k < median_ticks.size(); ++k) {
    const double us = median_ticks[k] * spt * 1e6;
    std::printf("| %.1f | %.1f | %.0f |\n", sizes[k], us, sizes[k] * 1.048576e6 / us / 1e3);
  }
  return 0;
}
