"""predict with and without held parameter views (issue #32, bug 2): holding ``model.parameters()``
must cost predict nothing measurable while nothing is written through the views.

    PYTHONPATH=python python bench/python/bench_held_views.py [--threads 1] [--rounds 5]

Interleaved: each round times the same model's predict without views, then with views held, and
reports the medians and their ratio. Also counts the re-packs (``eval_prepares``) while views
were held and nothing was written (0 is the design: the core watches the arena's pages).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nncore as nc

CASES = [
    ("784->512, batch 32", [512], 32),
    ("784-512-512-10, batch 128", [512, 512, 10], 128),
    ("784-512-512-10, batch 1", [512, 512, 10], 1),
]


def _median_us(f, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=100)
    args = ap.parse_args()
    nc.set_num_threads(args.threads)
    print(f"{'model':28s} {'no views us':>12s} {'views us':>10s} {'ratio':>6s} {'re-packs':>8s}")
    for name, units, bs in CASES:
        layers = [nc.Dense(u, "relu") for u in units[:-1]] + [nc.Dense(units[-1])]
        model = nc.Sequential(layers, input_dim=784, seed=0)
        X = np.random.default_rng(0).random((bs, 784), dtype=np.float32)
        model.predict(X)
        plain, held, repacks = [], [], 0
        call = model.predict
        for _ in range(args.rounds):
            plain.append(_median_us(lambda: call(X), args.calls))  # noqa: B023
            views = model.parameters()
            model.predict(X)  # the first call after parameters() re-packs: a write may have come
            before = getattr(model.engine.core, "eval_prepares", 0)
            held.append(_median_us(lambda: call(X), args.calls))  # noqa: B023
            repacks += getattr(model.engine.core, "eval_prepares", -1) - before
            del views
            model.predict(X)
        a, b = float(np.median(plain)), float(np.median(held))
        print(f"{name:28s} {a:12.1f} {b:10.1f} {b / a:6.2f} {repacks:8d}")


if __name__ == "__main__":
    main()
