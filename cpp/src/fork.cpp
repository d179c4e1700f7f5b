// Fork safety for GCC's OpenMP runtime (libgomp).
//
// libgomp keeps one thread pool per thread that started a parallel region and has no fork
// handler: in a child made by fork() only the forking thread survives, its pool still lists the
// parent's worker threads, and the next parallel region with more than one thread waits on
// them forever (measured with GCC 12: a team of 2 or 4 hangs; a team of 1 runs; a thread
// created in the child starts a fresh pool and gets its threads). So the surviving thread of a
// process whose forking thread ran nncore's parallel code runs nncore single-threaded; other
// threads of the child are unaffected. Results do not change: they are the same bits on any
// thread count.
#include "nncore/fork.h"

#include <atomic>
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define NNCORE_HAVE_ATFORK 1
#endif

namespace nncore {

namespace {
thread_local bool t_team_started = false;  // this thread may own an OpenMP pool
thread_local bool t_pool_lost = false;     // this thread survived a fork while owning one

#if NNCORE_HAVE_ATFORK
void on_fork_child() {
  if (t_team_started) t_pool_lost = true;
}
// Registered at load time; this file is always linked, as num_threads() calls into it.
const int g_registered = pthread_atfork(nullptr, nullptr, on_fork_child);
#endif
}  // namespace

void note_team_started() { t_team_started = true; }
bool fork_pool_lost() { return t_pool_lost; }

}  // namespace nncore
