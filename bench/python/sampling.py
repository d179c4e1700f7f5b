"""One timing sample for the benchmarks that interleave libraries: a call repeated for at least
min_s, after one untimed call (a single call just after a pause reads the threads' wake-up and
cold caches too)."""

from __future__ import annotations

import time

from nncore import _core


def sample(fn, min_s: float) -> float:
    """Per-call seconds of one sample: the call repeated until min_s has passed.

    The loop is bounded by time.perf_counter (monotonic, but it may step in 4 ms here); the
    duration comes from the TSC clock when the two agree, else from perf_counter (a TSC read on
    another vCPU after a migration can be skewed)."""
    clock = _core.bench_clock
    fn()
    n, t0, p0 = 0, clock(), time.perf_counter()
    while True:
        fn()
        n += 1
        dp = time.perf_counter() - p0
        if dp >= min_s or n >= 100000:
            dt = clock() - t0
            ok = dt > 0 and abs(dt - dp) <= 0.005 + 0.2 * dp
            return (dt if ok else dp) / n
