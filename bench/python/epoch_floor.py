"""bench_train.py's model (BatchNorm + dropout, Adam) against its GEMM floor: one `fit` epoch of
60,000 rows (best of --reps after a warm-up) over the epoch's GEMM FLOPs at the single-core FMA
peak. Without --peak the peak is measured here, before and after the epochs (the median of 100
runs of the core's FMA loop on the active ISA, `_core.bench_fma_peak`); the host's speed drifts,
so both are printed and the floor uses the higher.

    PYTHONPATH=python python bench/python/epoch_floor.py --batch-sizes 32,512,2048
    PYTHONPATH=python python bench/python/epoch_floor.py --peak 179 --batch-sizes 2048
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nncore as nc  # noqa: E402

import bench_train as bt  # noqa: E402


def gemm_gflop_per_row() -> float:
    """Forward X·Wᵀ of every Dense, the weight gradient of every Dense and the input gradient of
    all but the first: 2 FLOPs per multiply-add."""
    dims = [bt.D, bt.H, bt.H, bt.K]
    macs = [a * b for a, b in zip(dims[:-1], dims[1:])]
    return 2 * (2 * sum(macs) + sum(macs[1:])) / 1e9


def measured_peak() -> float:
    """Median GFLOP/s of 100 runs of the core's single-core FMA loop on the active ISA."""
    return statistics.median(nc._core.bench_fma_peak(nc._core.isa(), 100))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peak", type=float, help="single-core FMA peak, GFLOP/s (default: measure)")
    ap.add_argument("--batch-sizes", default="32,512,2048")
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    nc.set_num_threads(args.threads)
    X, y = bt.make_data(args.rows)
    peak = args.peak or measured_peak()
    work = gemm_gflop_per_row() * args.rows
    floor = work / (peak * args.threads)
    print(f"epoch GEMM work {work:.1f} GFLOP; peak {peak:.1f} GFLOP/s, floor {floor:.3f} s")
    results = []
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        m = bt.nncore_model(bn_dropout=True)
        m.fit(X[: args.rows // 10], y[: args.rows // 10], epochs=1, batch_size=bs)
        best = float("inf")
        for _ in range(args.reps):
            t = time.perf_counter()
            m.fit(X, y, epochs=1, batch_size=bs)
            best = min(best, time.perf_counter() - t)
        results.append((bs, best))
    if not args.peak:
        after = measured_peak()
        floor = work / (max(peak, after) * args.threads)
        print(f"peak after the epochs {after:.1f} GFLOP/s; floor at the higher {floor:.3f} s")
    for bs, best in results:
        print(f"bs {bs}: epoch {best:.3f} s, {best / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
