// Data cache sizes of the CPU this process runs on, as the OS reports them: what the GEMM
// derives its MC and NC cache blocks from (gemm/gemm_blocking.cpp).
#pragma once
#include <string>

namespace nncore {

struct CacheSizes {
  long l1d = 0, l2 = 0, l3 = 0;  // bytes per cache instance; 0 = not reported
  int l3_sharing = 1;            // logical CPUs that share one L3 (1 when not reported)
  // What the blocking may count on: l3 / l3_sharing, at most what one core of this CPU model
  // can own (l3_cap; a VM's OS may report the whole socket's L3 as shared by its few vCPUs).
  long l3_per_cpu = 0;
  long l3_cap = 0;
  std::string source;  // "sysfs", "sysconf" or "default"; "+capped" when l3_cap applied
};

// The most L3 one core of the CPU this process runs on can own, from its CPUID vendor, family
// and model (its L3 slice; AMD's V-Cache parts for Zen); a generic bound elsewhere.
long l3_cap_per_core();

// Read once: Linux sysfs (/sys/devices/system/cpu/cpu0/cache), else sysconf, else defaults of
// a small x86 core (32 KiB / 512 KiB / 8 MiB). NNCORE_CACHE_L2 / NNCORE_CACHE_L3 (bytes, e.g.
// "524288" or "512K", "8M") override the reported sizes, to reproduce another CPU's blocking
// (and are not capped).
const CacheSizes& cache_sizes();

}  // namespace nncore
