"""nncore's weight-gradient product dW = dYᵀ·X (TN, beta = 0) for a range of K (the batch size):
how its speed grows with the K block shows the per-tile cost that short K blocks expose
(bench/results/design_choices.md#gemm-strip). One thread; best of --rounds × --reps samples.

    PYTHONPATH=python python bench/python/gemm_k_sweep.py [--shapes 512x784x32,66x784x32,...]
"""

from __future__ import annotations

import argparse

import numpy as np

import nncore._core as core

_clock = core.bench_clock  # the TSC: this VM's monotonic clock steps by 4-36 ms at times
DEFAULT = "512x784x32,66x784x32,512x784x64,512x784x128,512x784x256,512x512x32,512x784x33"


def gflops(M: int, N: int, K: int, reps: int, rng) -> float:
    dY = rng.standard_normal((K, M)).astype(np.float32)  # A = dYᵀ (M × K)
    X = rng.standard_normal((K, N)).astype(np.float32)
    C = np.zeros((M, N), np.float32)

    def call():
        core.sgemm(dY, X, trans_a=True, C=C)

    call()
    block, t0 = 0, _clock()
    while _clock() - t0 < 0.05:  # calls per ~50 ms sample
        call()
        block += 1
    best = float("inf")
    for _ in range(reps):
        t0 = _clock()
        for _ in range(block):
            call()
        best = min(best, (_clock() - t0) / block)
    return 2.0 * M * N * K / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=DEFAULT, help="MxNxK, comma-separated (C is M x N)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    core.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"# isa {core.isa()}, 1 thread, best of {args.rounds} x {args.reps} samples")
    for shape in args.shapes.split(","):
        M, N, K = (int(v) for v in shape.split("x"))
        best = max(gflops(M, N, K, args.reps, rng) for _ in range(args.rounds))
        print(f"dW {M}x{N}, K = {K}: {best:.1f} GFLOP/s", flush=True)
    core.set_num_threads(0)


if __name__ == "__main__":
    main()
