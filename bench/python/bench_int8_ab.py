"""Interleaved A/B of int8 predict between two builds of nncore (e.g. a commit's `git archive`
built into build/base_src, and the working tree): alternating fresh processes, each timing int8
and fp32 predict on bench_quantized.py's model, medians per batch size; 1 thread.

    PYTHONPATH=python python bench/python/bench_int8_ab.py build/base_src/python python \
        [--activations static|dynamic] [--isa native|avx2] [--kernels vpmaddubsw] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child(args) -> None:
    """One process of one build: 'batch:int8 s:fp32 s' per batch (medians of 3 samples)."""
    sys.path.insert(0, HERE)
    from isa_env import apply_isa_environment

    apply_isa_environment()
    import numpy as np
    from sampling import sample

    import nncore as nc

    from bench_train import make_data, nncore_model

    X, _ = make_data(4096, seed=1)
    m = nncore_model()
    m.fit(X[:1024], np.zeros(1024, np.int64), epochs=1, batch_size=256, verbose=0)
    q = m.quantize(X[:1024], activations=args.activations)
    nc.set_num_threads(1)
    if args.kernels:
        nc._core.set_int8_kernel([k for k in nc._core.int8_kernels() if args.kernels in k][0])
    out = []
    for b in [int(v) for v in args.batches.split(",")]:
        xb = np.ascontiguousarray(X[:b])
        tq, tf = [], []
        for _ in range(3):
            tq.append(sample(lambda xb=xb: q.predict(xb), 0.05))
            tf.append(sample(lambda xb=xb: m.predict(xb), 0.05))
        out.append(f"{b}:{statistics.median(tq)}:{statistics.median(tf)}")
    print(" ".join(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before", help="the python/ folder of the old build")
    ap.add_argument("after", help="the python/ folder of the new build")
    ap.add_argument("--activations", default="static")
    ap.add_argument("--isa", default="native")
    ap.add_argument("--kernels", default="", help="an int8 kernel set whose name has this")
    ap.add_argument("--batches", default="32,1024,4096")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    times: dict = {}
    for _ in range(args.rounds):
        for name in ("before", "after"):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(getattr(args, name)))
            env["OMP_NUM_THREADS"] = "1"
            cmd = [sys.executable, os.path.abspath(__file__), args.before, args.after, "--child"]
            cmd += ["--activations", args.activations, "--isa", args.isa]
            cmd += ["--kernels", args.kernels, "--batches", args.batches]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            for tok in res.stdout.split():
                b, tq, tf = tok.split(":")
                times.setdefault((name, int(b)), []).append((float(tq), float(tf)))
    print(f"# {args.activations}, --isa {args.isa}, kernels {args.kernels or 'default'}")
    print("| batch | before µs | after µs | after / before | fp32/int8 before | fp32/int8 after |")
    print("|---|---|---|---|---|---|")
    for b in [int(v) for v in args.batches.split(",")]:
        tb = statistics.median(t for t, _ in times[("before", b)]) * 1e6
        ta = statistics.median(t for t, _ in times[("after", b)]) * 1e6
        rb = statistics.median(f / t for t, f in times[("before", b)])
        ra = statistics.median(f / t for t, f in times[("after", b)])
        print(f"| {b} | {tb:.1f} | {ta:.1f} | {ta / tb:.3f} | {rb:.2f}x | {ra:.2f}x |")


if __name__ == "__main__":
    main()
