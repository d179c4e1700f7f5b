// Thread count for the OpenMP regions of the core.
// set_num_threads(n > 0) pins it; otherwise omp_get_max_threads() is used at each call, so
// OMP_NUM_THREADS and threadpoolctl limits are respected.
#pragma once

namespace nncore {

bool have_openmp();
int num_threads();
void set_num_threads(int n);  // n <= 0 returns to the OpenMP default
int num_cores();
int num_threads_setting();  // what set_num_threads pinned (0: the OpenMP default)              //
                            // omp_get_num_procs() (1 without OpenMP)

}  // namespace nncore
