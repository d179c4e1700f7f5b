"""What an embedding input costs in a training step: the same MLP fed (a) by nc.TabularInput
(8 numeric columns + 6 code columns of cardinalities 5 .. 100,000, 8-wide tables: 56 features) and
(b) by a plain 56-column float matrix, at equal width, so every layer after the input is the same.
Whole epochs through the core's fused loop (train_epoch, GIL released), interleaved, medians;
then the core's per-phase profile of the embedding's forward and backward, with the bytes each
must move and the rate that implies next to a plain copy (numpy) of the same size.

Bytes per step, forward: the batch's codes are read (4 B each), one table row per code is read
and the output row written (4 B per float); backward: the whole table gradient is written (the
fused step overwrites gradients instead of zeroing them: 4 B per table float) and, per code, dy
read and the gradient row read and written. The optimizer's pass over the tables is the same
for any parameter and is counted in "optimizer", not here.

    PYTHONPATH=python python bench/python/bench_embedding.py [--batch 512] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import nncore as nc  # noqa: E402

_clock = nc._core.bench_clock  # the TSC: this VM's monotonic clock steps at times

NUMERIC = 8
CARDS = [5, 50, 500, 5_000, 50_000, 100_000]
DIM = 8
HIDDEN = 256


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, NUMERIC + len(CARDS))).astype(np.float32)
    for j, c in enumerate(CARDS):
        X[:, NUMERIC + j] = rng.integers(0, c, n)
    y = rng.integers(0, 2, n).astype(np.int64)
    return X, y


def _model(first, n_in):
    layers = [first] if first is not None else []
    layers += [nc.Dense(HIDDEN, "relu"), nc.Dense(HIDDEN, "relu"), nc.Dense(2)]
    m = nc.Sequential(layers, input_dim=n_in, seed=0)
    return m.compile("adam", "cross_entropy")


def _tabular():
    return nc.TabularInput(
        numeric=list(range(NUMERIC)),
        categorical={NUMERIC + j: c for j, c in enumerate(CARDS)},
        embed_dim=DIM,
    )


def _epoch_seconds(model, X, y, batch):
    net = model.engine.core
    t0 = _clock()
    net.train_epoch(X, y, None, batch, None, 0, 1 << 40)
    return _clock() - t0


def _profile(model, X, y, batch):
    net = model.engine.core
    net.set_profiling(True)
    net.reset_profile()
    _epoch_seconds(model, X, y, batch)
    prof = net.profile()
    net.set_profiling(False)
    return prof


def _copy_rate(nbytes):
    """GB/s of a numpy copy of this many bytes (source and destination warm): the yardstick."""
    a = np.ones(max(1, nbytes // 4), np.float32)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(20):
        t0 = _clock()
        np.copyto(b, a)
        best = min(best, _clock() - t0)
    return 2 * a.nbytes / best / 1e9  # read + write


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=32_768)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    X, y = _data(args.rows)
    width = NUMERIC + DIM * len(CARDS)
    Xd = np.random.default_rng(1).normal(size=(args.rows, width)).astype(np.float32)
    steps = -(-args.rows // args.batch)
    table_floats = sum(c * DIM for c in CARDS)
    print(f"{platform.processor() or platform.machine()}, nncore {nc.config()['isa']}")
    print(
        f"MLP {width}-{HIDDEN}-{HIDDEN}-2, Adam, batch {args.batch}, {args.rows} rows; embedding: "
        f"{NUMERIC} numeric + {len(CARDS)} code columns, cardinalities {CARDS}, dim {DIM} "
        f"({table_floats / 1e6:.2f} M table floats)"
    )
    for t in args.threads:
        nc.set_num_threads(t)
        emb, plain = _model(_tabular(), X.shape[1]), _model(None, width)
        for m, data in ((emb, X), (plain, Xd)):  # warm-up: workspaces, pages
            _epoch_seconds(m, data, y, args.batch)
        te, tp = [], []
        for _ in range(args.reps):
            te.append(_epoch_seconds(emb, X, y, args.batch))
            tp.append(_epoch_seconds(plain, Xd, y, args.batch))
        me, mp = statistics.median(te) / steps, statistics.median(tp) / steps
        prof, prof_plain = _profile(emb, X, y, args.batch), _profile(plain, Xd, y, args.batch)
        fwd = prof.get("0.embedding.forward", 0.0) / steps
        bwd = prof.get("0.embedding.backward", 0.0) / steps
        opt = prof.get("optimizer", 0.0) / steps
        b = args.batch
        fwd_bytes = 4 * (b * len(CARDS) + b * DIM * len(CARDS) + b * width)
        bwd_bytes = 4 * (table_floats + 3 * b * DIM * len(CARDS))
        print(f"\n{t} thread(s): step {me * 1e6:.0f} us with the embedding input, "
              f"{mp * 1e6:.0f} us with a plain {width}-column input "
              f"({(me - mp) * 1e6:+.0f} us, {100 * (me / mp - 1):+.1f}%)")  # fmt: skip
        print(f"  embedding forward  {fwd * 1e6:7.1f} us  {fwd_bytes / 1e6:6.2f} MB  "
              f"{fwd_bytes / max(fwd, 1e-12) / 1e9:6.2f} GB/s")  # fmt: skip
        print(f"  embedding backward {bwd * 1e6:7.1f} us  {bwd_bytes / 1e6:6.2f} MB  "
              f"{bwd_bytes / max(bwd, 1e-12) / 1e9:6.2f} GB/s")  # fmt: skip
        opt_plain = prof_plain.get("optimizer", 0.0) / steps
        print(f"  optimizer {opt * 1e6:7.1f} us ({opt_plain * 1e6:.1f} us without the tables: "
              f"{(opt - opt_plain) * 1e6:+.1f} us for {table_floats / 1e6:.2f} M more "
              f"parameters, {28 * table_floats / max(opt - opt_plain, 1e-12) / 1e9:.1f} GB/s at "
              "Adam's 28 B per parameter)")  # fmt: skip
        print(f"  numpy copy of the backward's bytes: {_copy_rate(bwd_bytes):.2f} GB/s")
        for k, v in sorted(prof.items()):
            print(f"    {k:32s} {v / steps * 1e6:8.1f} us/step")
    nc.set_num_threads(0)


if __name__ == "__main__":
    main()
