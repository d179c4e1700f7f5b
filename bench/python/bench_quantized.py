"""int8 predict (``model.quantize``) against nncore's fp32 predict on the bench model
784-512(BN, ReLU, Dropout)-512(BN, ReLU, Dropout)-10, at batch 1, 32, 1024, 4096, interleaved
rounds, medians; one int8 row per int8 kernel set the ISA can run (VNNI and not).

    PYTHONPATH=python python bench/python/bench_quantized.py [--rounds 7] [--threads 1]
                                                             [--isa native|avx2|avx512]
                                                             [--kernels amx,avx512]

Each round runs fp32 and every int8 kernel set on the same rows in turn; each sample repeats the
call for at least --sample-ms. Speedup = fp32 time / int8 time (> 1: int8 faster). Accuracy: the
int8 argmax agreement with fp32 on the 4096 rows (the bench data has random labels).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402

apply_isa_environment()

import numpy as np  # noqa: E402
from sampling import sample  # noqa: E402

import nncore as nc  # noqa: E402

from bench_train import make_data, nncore_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--batches", default="1,32,1024,4096")
    ap.add_argument("--sample-ms", type=float, default=40.0)
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512")
    ap.add_argument("--activations", default="static", help="static or dynamic")
    ap.add_argument(
        "--kernels",
        default="",
        help="only int8 kernel sets whose name has one of these (comma-separated)",
    )
    args = ap.parse_args()

    X, _ = make_data(4096, seed=1)
    m = nncore_model()
    m.fit(X[:1024], np.zeros(1024, np.int64), epochs=1, batch_size=256, verbose=0)
    q = m.quantize(X[:1024], activations=args.activations)
    isa = nc._core.isa()
    kernels = [k for k in nc._core.int8_kernels() if isa != "avx2" or not k.startswith("avx512")]
    kernels = [k for k in kernels if not k.startswith("scalar") or isa == "scalar"]
    kernels = [k for k in kernels if any(w in k for w in args.kernels.split(","))]
    agree = {}
    for k in kernels:
        nc._core.set_int8_kernel(k)
        agree[k] = float((q.predict(X).argmax(1) == m.predict(X).argmax(1)).mean())
    print(f"# bench_quantized.py: fp32 {nc.config()['gemm_kernel']}, int8 sets {kernels}")
    print(f"# {describe_environment()}")
    print(f"# activations {args.activations}; rounds={args.rounds}, sample >= {args.sample_ms} ms")
    print(f"# argmax agreement int8 vs fp32 (4096 rows): {agree}\n")
    print("| batch | threads | fp32 µs | int8 kernel | int8 µs | fp32 / int8 |")
    print("|---|---|---|---|---|---|")
    for threads in [int(t) for t in args.threads.split(",")]:
        nc.set_num_threads(threads)
        for rows in [int(b) for b in args.batches.split(",")]:
            xb = np.ascontiguousarray(X[:rows])
            times: dict[str, list] = {"fp32": [], **{k: [] for k in kernels}}
            for _ in range(args.rounds):
                nc._core.set_int8_kernel("")
                times["fp32"].append(sample(lambda xb=xb: m.predict(xb), args.sample_ms / 1000))
                for k in kernels:
                    nc._core.set_int8_kernel(k)
                    times[k].append(sample(lambda xb=xb: q.predict(xb), args.sample_ms / 1000))
            med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
            for k in kernels:
                print(
                    f"| {rows} | {threads} | {med['fp32']:.1f} | {k} | {med[k]:.1f} | "
                    f"{med['fp32'] / med[k]:.2f}x |"
                )
            sys.stdout.flush()
    nc._core.set_int8_kernel("")


if __name__ == "__main__":
    main()
