#pragma once
// The FMA throughput of one core, for benchmarks that report a share of it: independent chains
// of the ISA's widest FMA, in short runs so that a pre-empted run shows as one low sample.
#include <vector>

#include "nncore/cpu.h"

namespace nncore {

// GFLOP/s of each of `runs` runs of about 1 ms on the calling thread (2 flops per lane per FMA),
// for Isa::avx512, avx2 or neon where this CPU has it; empty for the others. A caller takes the
// best (bench_gemm.cpp) or the median (bench_gemm.py, next to each round of its samples).
std::vector<double> fma_peak_samples(Isa isa, int runs);

}  // namespace nncore
