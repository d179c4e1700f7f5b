// Thread count for the OpenMP regions of the core.
// set_num_threads(n > 0) pins it; otherwise omp_get_max_threads() is used at each call, so
// OMP_NUM_THREADS and threadpoolctl limits are respected.
#pragma once

namespace nncore {

bool have_openmp();
int num_threads();
void set_num_threads(int n);  // n <= 0 returns to the OpenMP default
int num_cores();              // omp_get_num_procs() (1 without OpenMP)
int num_threads_setting();    // what set_num_threads pinned (0: the OpenMP default)

// While one is alive, num_threads() is 1 on the constructing thread: code that already runs as
// one thread of a team (predict's row blocks) calls the kernels without forking nested teams.
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;
};

}  // namespace nncore
