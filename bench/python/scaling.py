"""Thread scaling past 2 cores (for a many-core machine): GEMM GFLOP/s on 2048³ and 1024×784×512
against numpy and PyTorch, and the bs-2048 training epoch against PyTorch, at 1, 2, 4, 8, 16
threads (capped at the machine's cores). One process, interleaved, medians; prints Markdown tables.

    python bench/python/scaling.py [--threads 1,2,4,8,16] [--reps 5] [--rows 60000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import nncore as nc  # noqa: E402

import bench_train as bt  # noqa: E402


def best_of(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    threads = [t for t in (int(s) for s in args.threads.split(",")) if t <= cores]
    try:
        import torch
    except ImportError:
        torch = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    print(
        f"# {cores} cores; nncore {nc.config()['isa']}; torch {torch.__version__ if torch else 'absent'}"
    )

    rng = np.random.default_rng(0)
    shapes = [(2048, 2048, 2048), (1024, 784, 512)]
    print("\n| shape M×K×N | threads | nncore GFLOP/s | numpy GFLOP/s | torch GFLOP/s |")
    print("|---|---|---|---|---|")
    for M, K, N in shapes:
        A = rng.standard_normal((M, K), dtype=np.float32)
        B = rng.standard_normal((K, N), dtype=np.float32)
        flop = 2.0 * M * N * K
        for t in threads:
            nc.set_num_threads(t)
            a = best_of(lambda A=A, B=B: nc._core.sgemm(A, B), args.reps)
            if threadpool_limits:
                with threadpool_limits(t, user_api="blas"):
                    b = best_of(lambda A=A, B=B: A @ B, args.reps)
            else:
                b = float("nan")
            c = float("nan")
            if torch:
                torch.set_num_threads(t)
                At, Bt = torch.from_numpy(A), torch.from_numpy(B)
                c = best_of(lambda At=At, Bt=Bt: At @ Bt, args.reps)
            print(
                f"| {M}×{K}×{N} | {t} | {flop / a / 1e9:.0f} | {flop / b / 1e9:.0f} | {flop / c / 1e9:.0f} |",
                flush=True,
            )

    X, y = bt.make_data(args.rows)
    print(
        "\n| threads | nncore bs-2048 epoch (s) | PyTorch (s) | PyTorch / nncore | nncore speed-up vs 1 thread |"
    )
    print("|---|---|---|---|---|")
    base = None
    for t in threads:
        bt.set_threads(t, torch is not None)
        m = bt.nncore_model()
        mo = bt.torch_model() if torch else None
        tn, tt = [], []
        # Untimed warm-up on a slice: the first fit of a process pays for fresh huge pages
        # (0.01-0.13 s of kernel compaction here), which would weigh on a 16-thread epoch.
        bt.nncore_epoch(m, X[:4096], y[:4096], 2048)
        if torch:
            bt.torch_epoch(mo, torch.from_numpy(X[:4096]), torch.from_numpy(y[:4096]), 2048)
        for _ in range(args.epochs):
            tn.append(bt.nncore_epoch(m, X, y, 2048))
            if torch:
                tt.append(bt.torch_epoch(mo, torch.from_numpy(X), torch.from_numpy(y), 2048))
        a = statistics.median(tn)
        b = statistics.median(tt) if tt else float("nan")
        base = base or a
        print(f"| {t} | {a:.3f} | {b:.3f} | {b / a:.2f}× | {base / a:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
