"""nncore's SGEMM against numpy (OpenBLAS) and PyTorch, same run, interleaved, 1 and 2 threads.

    PYTHONPATH=python python bench/python/bench_gemm.py [--rounds 15] [--threads 1,2] [--shapes all]

Each sample runs a call repeatedly for >= --sample-ms (timed with _core.bench_clock, the TSC:
this VM's monotonic clock sometimes steps in 4 ms), rounds interleave nncore / numpy / torch, and the table reports per-call
medians (and bests) with ratios nncore-vs-peer (> 1 means nncore is faster). On one thread each
round also samples the FMA peak of the ISA in use (_core.bench_fma_peak, before and after the
libraries' samples), and "% peak" is the median over rounds of each library's GFLOP/s over that
round's peak: the host's drift between rounds cancels out of it. Forward shapes use
nncore's packed weight (the Dense layout: W (out, in) packed once as Wᵀ); numpy and torch get
X @ W.T. `--isa native|avx2|avx512` forces nncore's kernel family and gives OpenBLAS and PyTorch the
same one (bench/python/isa_env.py); numpy's kernel choice is printed (threadpoolctl).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402
from settle import DEFAULT_MS, settle  # noqa: E402

apply_isa_environment()

import numpy as np  # noqa: E402
from sampling import sample  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from nncore import _core  # noqa: E402

try:
    import torch  # noqa: E402
except ImportError:  # pragma: no cover
    torch = None

# name, M, K, N, kind: fwd (X·Wᵀ, W packed), nn (A·B), dx (dY·W), dw (dYᵀ·X accumulated)
SHAPES = [
    ("fwd 32x784x512", 32, 784, 512, "fwd"),
    ("fwd 128x784x512", 128, 784, 512, "fwd"),
    ("fwd 128x512x512", 128, 512, 512, "fwd"),
    ("fwd 512x512x512", 512, 512, 512, "fwd"),
    ("fwd 1024x784x512", 1024, 784, 512, "fwd"),
    ("nn 2048^3", 2048, 2048, 2048, "nn"),
    ("bwd dX 128x512x784", 128, 512, 784, "dx"),
    ("bwd dW 512x128x784", 512, 128, 784, "dw"),
    # the weight gradients of batch 32 and 64: one short K block, so per-tile costs show
    ("bwd dW 512x32x784", 512, 32, 784, "dw"),
    ("bwd dW 512x64x784", 512, 64, 784, "dw"),
    # scikit-learn's default MLP (one hidden layer of 100) in a full-batch L-BFGS chunk of 4096 rows
    ("lbfgs fwd 4096x784x100", 4096, 784, 100, "fwd"),
    ("lbfgs dW 100x4096x784", 100, 4096, 784, "dw"),
    ("batch-1 1x784x512", 1, 784, 512, "fwd"),
    ("batch-4 4x784x512", 4, 784, 512, "fwd"),
]


def make_calls(M, K, N, kind, rng):
    # The nncore calls pass their arguments by position, as the peers' calls do: pybind11 spends
    # ~0.7 us matching keyword arguments against these bindings' ten parameters, 4 % of batch-1.
    f32 = np.float32
    if kind == "fwd":
        X = rng.standard_normal((M, K)).astype(f32)
        W = rng.standard_normal((N, K)).astype(f32)
        P = _core.PackedB(W, trans_b=True)
        C = np.empty((M, N), f32)
        nc = lambda: _core.sgemm_packed(X, P, False, 1.0, 0.0, C)  # noqa: E731
        npf = lambda: np.matmul(X, W.T)  # noqa: E731
        tX, tW = (torch.from_numpy(X), torch.from_numpy(W)) if torch else (None, None)
        tf = (lambda: torch.matmul(tX, tW.T)) if torch else None
    elif kind in ("nn", "dx"):
        A = rng.standard_normal((M, K)).astype(f32)
        B = rng.standard_normal((K, N)).astype(f32)
        C = np.empty((M, N), f32)
        nc = lambda: _core.sgemm(A, B, False, False, 1.0, 0.0, C)  # noqa: E731
        npf = lambda: np.matmul(A, B)  # noqa: E731
        tA, tB = (torch.from_numpy(A), torch.from_numpy(B)) if torch else (None, None)
        tf = (lambda: torch.matmul(tA, tB)) if torch else None
    else:  # dw: dW (M=out, N=in) += dYᵀ (out × batch) · X (batch × in), K = batch
        dY = rng.standard_normal((K, M)).astype(f32)
        X = rng.standard_normal((K, N)).astype(f32)
        G = np.zeros((M, N), f32)
        nc = lambda: _core.sgemm(dY, X, True, False, 1.0, 1.0, G)  # noqa: E731
        npf = lambda: np.matmul(dY.T, X)  # noqa: E731
        tY, tX = (torch.from_numpy(dY), torch.from_numpy(X)) if torch else (None, None)
        tG = torch.zeros((M, N)) if torch else None
        tf = (lambda: tG.addmm_(tY.T, tX)) if torch else None
    return {"nncore": nc, "numpy": npf, "torch": tf}


TORCH_THREADS = torch.get_num_threads() if torch else 0


def round_peak():
    """This core's FMA peak now (GFLOP/s) for nncore's ISA: the median of ten ~1 ms runs, or None
    where the ISA has no vector FMA (scalar)."""
    runs = _core.bench_fma_peak(_core.isa(), 10)
    return statistics.median(runs) if runs else None


def set_threads(n):
    _core.set_num_threads(n)
    if torch:
        torch.set_num_threads(n if n > 0 else TORCH_THREADS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--warmup-s", type=float, default=0.5, help="per library, per thread count")
    ap.add_argument("--sample-ms", type=float, default=20.0)
    ap.add_argument(
        "--settle-ms",
        type=float,
        default=DEFAULT_MS,
        help="pause before each multi-threaded sample so other pools stop spinning",
    )
    ap.add_argument("--shapes", default="all", help="comma-separated name prefixes, or all")
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512 (peers too)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    shapes = (
        SHAPES
        if args.shapes == "all"
        else [s for s in SHAPES if any(s[0].startswith(p) for p in args.shapes.split(","))]
    )

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    print(
        f"# bench_gemm.py: nncore {_core.gemm_kernel(_core.isa())['name']} (isa {_core.isa()}), "
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}"
    )
    for i in blas:
        print(
            f"# numpy BLAS: {i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
            f"threading={i.get('threading_layer')} file={os.path.basename(i.get('filepath', ''))}"
        )
    print(f"# {describe_environment()}")
    print(
        f"# rounds={args.rounds}, sample >= {args.sample_ms} ms, medians of per-call times; "
        "ratio = peer time / nncore time (> 1: nncore faster)\n"
    )
    libs = ["nncore", "numpy"] + (["torch"] if torch else [])
    head = (
        "| shape | threads | "
        + " | ".join(f"{l} µs (med)" for l in libs)
        + " | nncore GFLOP/s | "
        + " | ".join(f"vs {l}" for l in libs[1:])
        + " | "
        + " | ".join(f"{l} % peak" for l in libs)
        + " |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for nt in [int(t) for t in args.threads.split(",")]:
        # Untimed warm-up at this thread count: right after the 1-thread rows the first
        # 2-thread row ran every library at its 1-thread speed (nncore 232 µs against 122 µs,
        # numpy 431 against 271 µs at fwd 32), as if the idle second vCPU had to be woken first.
        with threadpool_limits(limits=nt, user_api="blas"):
            set_threads(nt)
            warm = make_calls(*shapes[0][1:], rng)
            for l in libs:
                end = time.perf_counter() + args.warmup_s
                while time.perf_counter() < end:
                    warm[l]()
        for name, M, K, N, kind in shapes:
            calls = make_calls(M, K, N, kind, rng)
            times = {l: [] for l in libs}
            peaks = []
            with threadpool_limits(limits=nt, user_api="blas"):
                set_threads(nt)
                for _ in range(args.rounds):
                    before = round_peak() if nt == 1 else None
                    for l in libs:
                        settle(nt, args.settle_ms)
                        times[l].append(sample(calls[l], args.sample_ms / 1e3))
                    if before:
                        peaks.append((before + round_peak()) / 2)
            med = {l: statistics.median(v) for l, v in times.items()}
            flop = 2.0 * M * N * K
            gf = flop / med["nncore"] / 1e9
            share = (
                {
                    l: statistics.median(flop / t / 1e9 / p for t, p in zip(times[l], peaks))
                    for l in libs
                }
                if peaks
                else {}
            )
            row = (
                f"| {name} | {nt} | "
                + " | ".join(f"{med[l] * 1e6:.1f}" for l in libs)
                + f" | {gf:.1f} | "
                + " | ".join(f"{med[l] / med['nncore']:.2f}x" for l in libs[1:])
                + " | "
                + " | ".join(f"{100 * share[l]:.1f}" if share else "-" for l in libs)
                + " |"
            )
            print(row, flush=True)
    set_threads(0)


if __name__ == "__main__":
    main()
