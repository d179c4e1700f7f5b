// Data cache sizes of the CPU this process runs on, as the OS reports them: what the GEMM
// derives its MC and NC cache blocks from (gemm/gemm_blocking.cpp).
#pragma once
#include <string>

namespace nncore {

struct CacheSizes {
  long l1d = 0, l2 = 0, l3 = 0;  // bytes per cache instance; 0 = not reported
  int l3_sharing = 1;            // logical CPUs that share one L3 (1 when not reported)
  std::string source;            // "sysfs", "sysconf" or "default"
};

// Read once: Linux sysfs (/sys/devices/system/cpu/cpu0/cache), else sysconf, else defaults of
// a small x86 core (32 KiB / 512 KiB / 8 MiB). NNCORE_CACHE_L2 / NNCORE_CACHE_L3 (bytes, e.g.
// "524288" or "512K", "8M") override the reported sizes, to reproduce another CPU's blocking.
const CacheSizes& cache_sizes();

}  // namespace nncore
