"""Adam step time: nncore's fused core step on numpy arrays vs torch.optim.Adam (fused=True,
foreach=True, foreach=False) in the same process, interleaved, medians, 1 and 2 threads (on 2,
each sample after a pause in which the other library's idle workers stop spinning: settle.py).

Adam must move 28 bytes per parameter per step (read p, g, m, v; write p, m, v); GB/s below is
28 * n / time. nncore runs in two modes: the default (skip_nonfinite=1: a pre-pass over the
gradients computes the norm and checks for NaN/inf before any update, +4 B/param) and
skip_nonfinite=0 (the norm/finite check is fused into the update pass, chunk by chunk).

    PYTHONPATH=python python bench/python/bench_adam.py [--sizes 1e6 1e7] [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

import numpy as np

import nncore._core as core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from settle import settle  # noqa: E402

_clock = core.bench_clock  # the TSC: this VM's monotonic clock steps by 4-36 ms at times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args()
    import torch

    rows = []
    for n in (int(s) for s in args.sizes):
        rng = np.random.default_rng(0)
        p0 = rng.standard_normal(n).astype(np.float32)
        g = (rng.standard_normal(n) * 1e-2).astype(np.float32)
        for t in args.threads:
            core.set_num_threads(t)
            torch.set_num_threads(t)
            variants = {}
            for label, hp in (("nncore", {}), ("nncore fused-check", {"skip_nonfinite": 0})):
                p = p0.copy()
                opt = core.make_optimizer("adam", hp)

                def run(opt=opt, p=p, g=g):
                    opt.step(p, g)

                variants[label] = run
            for label, kw in (
                ("torch fused", {"fused": True}),
                ("torch foreach", {"foreach": True}),
                ("torch single", {"foreach": False}),
            ):
                tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
                tp.grad = torch.from_numpy(g.copy())
                topt = torch.optim.Adam([tp], lr=1e-3, **kw)

                def run(topt=topt):
                    topt.step()

                variants[label] = run
            # The clock on some VMs ticks in milliseconds: time blocks of ~0.1 s, not single steps.
            block = {}
            for k, f in variants.items():  # warm-up (state allocation, page faults) + calibration
                f()
                cnt, t0 = 0, _clock()
                while _clock() - t0 < 0.1:
                    f()
                    cnt += 1
                block[k] = max(1, cnt)
            times = {k: [] for k in variants}
            for _ in range(args.reps):
                for k, f in variants.items():
                    settle(t)
                    t0 = _clock()
                    for _ in range(block[k]):
                        f()
                    times[k].append((_clock() - t0) / block[k])
            med = {k: statistics.median(v) for k, v in times.items()}
            best_torch = min(v for k, v in med.items() if k.startswith("torch"))
            for k, v in med.items():
                rows.append(
                    (n, t, k, v * 1e3, 28 * n / v / 1e9, best_torch / v, min(times[k]) * 1e3)
                )
    core.set_num_threads(0)
    hdr = (
        "params",
        "threads",
        "variant",
        "median ms/step",
        "GB/s (28 B/param)",
        "speed vs best torch (medians)",
        "min ms/step",
    )
    if args.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for r in rows:
            print(
                f"| {r[0]:,} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.1f} | {r[5]:.2f}x | {r[6]:.3f} |"
            )
    else:
        print(
            f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
            f"isa {core.isa()}"
        )
        for r in rows:
            print(
                f"{r[0]:>10,} {r[1]:>2} {r[2]:<20} {r[3]:9.3f} ms {r[4]:7.1f} GB/s "
                f"{r[5]:5.2f}x  (min {r[6]:.3f} ms)"
            )


if __name__ == "__main__":
    main()
