#pragma once
// Seconds for benchmarks, from the TSC on x86 (elsewhere the steady clock). On some VMs the
// monotonic clock advances in steps of milliseconds, which ruins µs-scale timings; the TSC does
// not. Its rate is calibrated once (first call, 1 s) against steady_clock as the median of five
// 0.2 s windows, so one clock step during calibration cannot skew every later reading
// (bench/results/design_choices.md#clock-steps).
namespace nncore {

double bench_seconds();

}  // namespace nncore
