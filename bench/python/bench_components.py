"""Per-component cost of model building blocks (issue #19): a training step with and without the
component, the rest of the arithmetic equal, timed per phase by the core's profiler
(``Network.set_profiling``; forward and backward of every top-level layer, loss, optimizer).

Sections (``--section``; default all):

``residual``
    ``Dense(W, relu) -> [Dense(W, relu) -> Dense(W)] -> Dense(10)`` trained as a plain stack and
    with the bracketed pair inside ``nc.Residual`` (identity skip): the same GEMMs, plus the
    skip's add in forward and, in backward, a copy of dy for the body and the add of the skip's
    gradient. Each step of the two models runs in turn, each phase timed per step; the table
    gives the minimum (the machine's cost, least disturbed by other load) and the median per
    step, and the block's extra bytes at the bandwidth of a large copy; then the block's parts as
    the profiler names them (``body.<j>.<type>.<pass>``, ``skip.<pass>``: the skip's add and, in
    backward, the copy of dy).

    python bench/python/bench_components.py                  # all sections
    python bench/python/bench_components.py --section residual --width 512 --batch 256
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402

if __name__ == "__main__":
    apply_isa_environment()

import numpy as np  # noqa: E402

import nncore as nc  # noqa: E402

_clock = nc._core.bench_clock


def _phases(models: dict, X, y, steps: int) -> dict:
    """{model name: {phase: [seconds of each step]}}: ``steps`` training steps of each model on
    the batch (X, y), interleaved step by step so that load on the machine hits all alike."""
    out: dict = {k: {} for k in models}
    for m in models.values():  # warm-up: workspace, packed weights, optimizer state
        m.train_step(X, y)
        m.engine.core.set_profiling(True)
    for _ in range(steps):
        for k, m in models.items():
            net = m.engine.core
            net.reset_profile()
            t0 = _clock()
            m.train_step(X, y)
            wall = _clock() - t0
            for phase, sec in [*net.profile().items(), ("step", wall)]:
                out[k].setdefault(phase, []).append(sec)
    return out


def _copy_bandwidth(nbytes: int = 64 << 20) -> float:
    """Bytes per second moved (read + write) by a large numpy copy: the memory traffic scale."""
    a = np.ones(nbytes // 4, np.float32)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(5):
        t0 = _clock()
        np.copyto(b, a)
        best = min(best, _clock() - t0)
    return 2 * nbytes / best


def residual(width: int, batch: int, steps: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)

    def build(block: bool):
        pair = [nc.Dense(width, "relu"), nc.Dense(width)]
        mid = [nc.Residual(pair)] if block else pair
        m = nc.Sequential([nc.Dense(width, "relu"), *mid, nc.Dense(10)], input_dim=64, seed=0)
        return m.compile(optimizer="adam", loss="cross_entropy")

    runs = _phases({"plain": build(False), "residual": build(True)}, X, y, steps)

    def pair(kind, pass_, stat):
        # per step: the pair's two Dense phases, or the block's one phase
        keys = (
            [f"1.dense.{pass_}", f"2.dense.{pass_}"] if kind == "plain" else [f"1.residual.{pass_}"]
        )
        per_step = [sum(v) for v in zip(*(runs[kind][k] for k in keys))]
        return stat(per_step)

    floats = batch * width
    # forward: read f(x) and x, write y; backward: copy dy (read, write), add (2 reads, 1 write)
    traffic = {"forward": 3 * floats * 4, "backward": 5 * floats * 4}
    bw = _copy_bandwidth()
    print(f"residual block: width {width}, batch {batch}, {steps} steps per model, interleaved")
    head = f"{'phase (min | median us)':<26}{'plain':>20}{'block':>20}{'extra':>20}{'traffic':>9}"
    print(head)
    rows = [(f"the pair {p}", lambda k, s, p=p: pair(k, p, s), traffic[p]) for p in traffic]
    rows += [
        (label, lambda k, s, key=key: s(runs[k][key]), None)
        for key, label in (("optimizer", "optimizer"), ("step", "whole step"))
    ]
    for label, get, bytes_ in rows:
        cells = []
        for stat in (min, statistics.median):
            a, b = get("plain", stat), get("residual", stat)
            cells.append((a * 1e6, b * 1e6, (b - a) * 1e6))
        (a0, b0, d0), (a1, b1, d1) = cells
        t = f"{bytes_ / bw * 1e6:9.1f}" if bytes_ else ""
        print(f"{label:<26}{a0:>9.1f} |{a1:>9.1f}{b0:>9.1f} |{b1:>9.1f}{d0:>9.1f} |{d1:>9.1f}{t}")
    inside = [
        f"{key[2:]} {min(runs['residual'][key]) * 1e6:.1f}"
        for key in runs["residual"]
        if key.startswith("1.") and (".body." in key or ".skip." in key)
    ]
    print("inside the block (min us): " + ", ".join(inside))
    print(
        f"traffic: the block's extra bytes at the copy bandwidth, {bw / 1e9:.1f} GB/s (read +"
        f" write, 64 MiB); threads {nc.get_num_threads()}; {describe_environment()}"
    )


SECTIONS = {"residual": residual}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--section", choices=sorted(SECTIONS), action="append")
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=0, help="0: the core's default")
    args = ap.parse_args(argv)
    if args.threads:
        nc.set_num_threads(args.threads)
    for name in args.section or sorted(SECTIONS):
        SECTIONS[name](args.width, args.batch, args.steps)


if __name__ == "__main__":
    main()
