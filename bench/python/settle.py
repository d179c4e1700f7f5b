"""A pause between two libraries' multi-threaded timings, so the one timed next gets the cores.

Idle worker threads keep spinning after a library returns: onnxruntime's intra-op pool for
~40 ms (measured on AMD EPYC Zen 4: 40-50 ms of a worker's CPU time after its last `run`), the
OpenBLAS server threads for up to ~0.1 s, libgomp's (nncore's, PyTorch's) for a few ms. A
library timed inside that tail runs with a core fewer: nncore's 2-thread batch-1 predict read
204 µs instead of 33 µs right after onnxruntime's (bench/results/issue33.md#spin-tails). The
pause is idle time (sleep), so the spinners run out and block before the next sample."""

from __future__ import annotations

import time

DEFAULT_MS = 250.0


def settle(threads: int, ms: float = DEFAULT_MS) -> None:
    """Sleeps ms before a sample on more than one thread (one thread has no idle workers)."""
    if threads > 1 and ms > 0:
        time.sleep(ms / 1e3)
