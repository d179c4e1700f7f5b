"""Thread scaling past 2 cores (for a many-core machine): GEMM GFLOP/s on 2048³ and 1024×784×512
against numpy (OpenBLAS) and PyTorch (MKL on x86), and the bs-2048 training epoch against PyTorch
eager with `Adam(fused=True)`, at 1, 2, 4, 8, 16 threads (capped at the machine's cores). One
process; the libraries interleave sample by sample, with a pause before each multi-threaded one
(settle.py: another library's idle pool spinning would hold a core); a GEMM sample is >= 20 ms of
back-to-back calls; medians; Markdown tables.

    python bench/python/scaling.py [--threads 1,2,4,8,16] [--reps 5] [--rows 60000] [--epochs 2]
                                   [--isa native|avx2|avx512]

``--isa avx2`` holds nncore and its peers to the AVX2 family (bench/python/isa_env.py).

"% of peak" is GFLOP/s over threads × the one-core FMA peak measured at the start
(`_core.bench_fma_peak`), so it also shows what the all-core clock and memory take away.
Target (issue 33): ≥ 12× over 1 thread at 16 threads on 2048³ and the bs-2048 epoch.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402

if __name__ == "__main__":  # before numpy and torch load: their kernel choice reads it
    apply_isa_environment()

import numpy as np  # noqa: E402
from sampling import sample  # noqa: E402
from settle import settle  # noqa: E402

import nncore as nc  # noqa: E402

import bench_train as bt  # noqa: E402


def timed(fn, threads, min_s=0.02):
    """Seconds per call of fn after the settle pause (sampling.sample: >= min_s of calls)."""
    settle(threads)
    return sample(fn, min_s)


def gemm_rows(shapes, threads, reps, torch, blas_limits, peak):
    rng = np.random.default_rng(0)
    print(
        "\n| shape M×K×N | threads | nncore GFLOP/s | % of peak | speed-up vs 1 thread "
        "| numpy GFLOP/s | torch GFLOP/s | vs numpy | vs torch |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for M, K, N in shapes:
        A = rng.standard_normal((M, K), dtype=np.float32)
        B = rng.standard_normal((K, N), dtype=np.float32)
        At, Bt = (torch.from_numpy(A), torch.from_numpy(B)) if torch else (None, None)
        flop = 2.0 * M * N * K
        base = None
        for t in threads:
            nc.set_num_threads(t)
            if torch:
                torch.set_num_threads(t)
            libs = {"nncore": lambda A=A, B=B: nc._core.sgemm(A, B)}
            if blas_limits:
                libs["numpy"] = lambda A=A, B=B: A @ B
            if torch:
                libs["torch"] = lambda At=At, Bt=Bt: At @ Bt
            for f in libs.values():  # warm-up: pools started, pages touched
                f()
            samples = {k: [] for k in libs}
            with blas_limits(t, user_api="blas") if blas_limits else contextlib.nullcontext():
                names = list(libs)
                for r in range(reps):  # interleaved rounds, each starting with the next library
                    for k in names[r % len(names) :] + names[: r % len(names)]:
                        samples[k].append(timed(libs[k], t))
            g = {k: flop / statistics.median(v) / 1e9 for k, v in samples.items()}
            base = base or g["nncore"]
            nu, to = g.get("numpy", float("nan")), g.get("torch", float("nan"))
            print(
                f"| {M}×{K}×{N} | {t} | {g['nncore']:.0f} | {100 * g['nncore'] / (t * peak):.0f} % "
                f"| {g['nncore'] / base:.2f}× | {nu:.0f} | {to:.0f} | {g['nncore'] / nu:.2f}× "
                f"| {g['nncore'] / to:.2f}× |",
                flush=True,
            )


def epoch_rows(threads, rows, epochs, torch):
    X, y = bt.make_data(rows)
    Xt, yt = (torch.from_numpy(X), torch.from_numpy(y)) if torch else (None, None)
    print(
        "\n| threads | nncore bs-2048 epoch (s) | torch Adam(fused=True) (s) | torch / nncore "
        "| nncore speed-up vs 1 thread | torch speed-up vs 1 thread |"
    )
    print("|---|---|---|---|---|---|")
    base_n = base_t = None
    for t in threads:
        bt.set_threads(t, torch is not None)
        m = bt.nncore_model()
        mo = bt.torch_model(peer="fused") if torch else None
        # Untimed warm-up on a slice: the first fit of a process pays for fresh huge pages
        # (0.01-0.13 s of kernel compaction here), which would weigh on a 16-thread epoch.
        bt.nncore_epoch(m, X[:4096], y[:4096], 2048)
        if torch:
            bt.torch_epoch(mo, Xt[:4096], yt[:4096], 2048)
        tn, tt = [], []
        for _ in range(epochs):
            settle(t)
            tn.append(bt.nncore_epoch(m, X, y, 2048))
            if torch:
                settle(t)
                tt.append(bt.torch_epoch(mo, Xt, yt, 2048))
        a = statistics.median(tn)
        b = statistics.median(tt) if tt else float("nan")
        base_n, base_t = base_n or a, base_t or b
        print(
            f"| {t} | {a:.3f} | {b:.3f} | {b / a:.2f}× | {base_n / a:.2f}× | {base_t / b:.2f}× |",
            flush=True,
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--skip-gemm", action="store_true")
    ap.add_argument("--skip-epoch", action="store_true")
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512 (isa_env.py)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    threads = sorted({t for t in (int(s) for s in args.threads.split(",")) if t <= cores})
    try:
        import torch
    except ImportError:
        torch = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    nc.set_num_threads(1)
    peak = statistics.median(nc._core.bench_fma_peak(None, 50))
    print(
        f"# {cores} cores; nncore {nc.config()['isa']}, one-core FMA peak {peak:.1f} GFLOP/s; "
        f"torch {torch.__version__ if torch else 'absent'}"
        f"{'' if threadpool_limits else '; numpy skipped (no threadpoolctl to set its threads)'}"
    )
    print(f"# {describe_environment()}")
    if not args.skip_gemm:
        gemm_rows(
            [(2048, 2048, 2048), (1024, 784, 512)],
            threads,
            args.reps,
            torch,
            threadpool_limits,
            peak,
        )
    if not args.skip_epoch:
        epoch_rows(threads, args.rows, args.epochs, torch)


if __name__ == "__main__":
    main()
