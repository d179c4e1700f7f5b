// Thread-count policy (see threading.h).
#include "nncore/threading.h"

#include <atomic>

#include "nncore/fork.h"
#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

namespace {
std::atomic<int> g_threads{0};
thread_local int t_serial = 0;  // live SerialScopes on this thread
}  // namespace

SerialScope::SerialScope() { ++t_serial; }
SerialScope::~SerialScope() { --t_serial; }

bool have_openmp() { return NNCORE_HAVE_OPENMP != 0; }

int num_threads() {
#if NNCORE_HAVE_OPENMP
  if (fork_pool_lost() || t_serial) return 1;  // a team would hang (fork.cpp), or nest
  int n = g_threads.load(std::memory_order_relaxed);
  n = n > 0 ? n : omp_get_max_threads();
  if (n > 1) note_team_started();
  return n;
#else
  return 1;
#endif
}

void set_num_threads(int n) { g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }

int num_threads_setting() { return g_threads.load(std::memory_order_relaxed); }

int num_cores() {
#if NNCORE_HAVE_OPENMP
  return omp_get_num_procs();
#else
  return 1;
#endif
}

}  // namespace nncore
