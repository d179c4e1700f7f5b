#pragma once
// Elementwise passes over the parameter-sized arenas (optimizer update, gradient zeroing) run in
// fixed chunks, and each chunk can be given an owning thread: the network makes it the thread whose
// GEMM wrote that chunk's gradient. On a VM whose cores share no cache, moving the gradients
// between cores every step made a 2-thread epoch slower than 1 thread
// (bench/results/design_choices.md#owned-chunks). Results never depend on which thread runs a
// chunk.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nncore/threading.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

constexpr std::size_t kArenaChunk = 16384;  // floats (64 KiB)

inline std::int64_t arena_chunks(std::size_t n) {
  return std::int64_t((n + kArenaChunk - 1) / kArenaChunk);
}

// Calls f(c) for every chunk c in [0, nc): chunk c on thread owners[c] % team when owners holds
// nc entries, otherwise in even contiguous ranges; serially when !parallel.
template <class F>
void for_owned_chunks(std::int64_t nc, const std::vector<int>& owners, bool parallel, F&& f) {
#if NNCORE_HAVE_OPENMP
  const int nt = parallel ? num_threads() : 1;
  if (nt > 1) {
    const bool owned = std::int64_t(owners.size()) == nc;
#pragma omp parallel num_threads(nt)
    {
      const int team = omp_get_num_threads(), t = omp_get_thread_num();
      if (owned) {
        for (std::int64_t c = 0; c < nc; ++c)
          if (owners[std::size_t(c)] % team == t) f(c);
      } else {
        const std::int64_t lo = nc * t / team, hi = nc * (t + 1) / team;
        for (std::int64_t c = lo; c < hi; ++c) f(c);
      }
    }
    return;
  }
#else
  (void)owners;
  (void)parallel;
#endif
  for (std::int64_t c = 0; c < nc; ++c) f(c);
}

}  // namespace nncore
