"""Per-phase time of one training epoch of bench_train.py's model (Network.set_profiling):
which layer's forward/backward, the optimizer and the batch gather take the epoch.

    PYTHONPATH=python python bench/python/profile_epoch.py --batch-size 2048 --threads 1 [--plain]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nncore as nc  # noqa: E402

import bench_train as bt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--plain", action="store_true", help="the plain MLP (no BatchNorm/Dropout)")
    args = ap.parse_args()
    nc.set_num_threads(args.threads)
    X, y = bt.make_data(args.rows)
    m = bt.nncore_model(bn_dropout=not args.plain)
    m.fit(X[: args.rows // 10], y[: args.rows // 10], epochs=1, batch_size=args.batch_size)
    m.engine.core.set_profiling(True)
    m.engine.core.reset_profile()
    t = time.perf_counter()
    m.fit(X, y, epochs=1, batch_size=args.batch_size)
    epoch = time.perf_counter() - t
    phases = m.engine.core.profile()
    print(
        f"bs {args.batch_size}, {args.threads} thread(s): epoch {epoch:.3f} s, "
        f"phases sum {sum(phases.values()):.3f} s"
    )
    for name, sec in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {sec * 1e3:8.1f} ms  {100 * sec / epoch:5.1f} %")


if __name__ == "__main__":
    main()
