"""Batch inference: nncore's predict against PyTorch eval (and numpy as a floor) at batch sizes
1, 32, 1024, 4096, on 1 and 2 threads, interleaved, medians.

    PYTHONPATH=python python bench/python/bench_predict.py [--rounds 9] [--threads 1,2]
                                                           [--isa native|avx2|avx512]

The model is bench_train.py's: 784-512(BN, ReLU, Dropout .2)-512(BN, ReLU, Dropout .2)-10,
softmax output. nncore's `predict` (its default: the folded plan), `predict(fold_batchnorm=False)`
(layer by layer) and PyTorch's `model.eval()` forward under `torch.inference_mode()` followed by a
softmax (what `predict` returns) run the same rows in one round, in turn; each sample repeats the
call for at least --sample-ms. Ratios are PyTorch time / nncore time (> 1: nncore faster).
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

import nncore as nc  # noqa: E402

from bench_train import make_data, nncore_model, torch_model  # noqa: E402

_clock = nc._core.bench_clock


def sample(fn, min_s: float) -> float:
    fn()
    n, t0 = 0, _clock()
    while True:
        fn()
        n += 1
        dt = _clock() - t0
        if dt >= min_s or n >= 200000:
            return dt / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,32,1024,4096")
    ap.add_argument("--sample-ms", type=float, default=40.0)
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512 (peers too)")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    X, _ = make_data(4096, seed=1)
    m = nncore_model()
    # A few training steps so that BatchNorm's running statistics are not the identity.
    m.fit(X[:1024], np.zeros(1024, np.int64), epochs=1, batch_size=256, verbose=0)
    if torch is not None:
        tm, _ = torch_model()
        tm.eval()
    print(
        f"# bench_predict.py: nncore {nc.config()['gemm_kernel']}, torch "
        f"{torch.__version__ if torch else 'not installed'}"
    )
    print(f"# {describe_environment()}")
    print(f"# rounds={args.rounds}, sample >= {args.sample_ms} ms, medians of per-call times\n")
    print(
        "| batch | threads | nncore µs | layer-by-layer µs | torch µs | torch / nncore | torch / layers |"
    )
    print("|---|---|---|---|---|---|---|")
    for threads in [int(t) for t in args.threads.split(",")]:
        nc.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        for rows in [int(b) for b in args.batches.split(",")]:
            xb = np.ascontiguousarray(X[:rows])
            calls = {
                "nncore": lambda xb=xb: m.predict(xb),
                "layers": lambda xb=xb: m.predict(xb, fold_batchnorm=False),
            }
            if torch is not None:
                xt = torch.from_numpy(xb)

                def tcall(xt=xt):
                    with torch.inference_mode():
                        return torch.softmax(tm(xt), dim=1).numpy()

                calls["torch"] = tcall
            times = {k: [] for k in calls}
            for _ in range(args.rounds):
                for k, fn in calls.items():
                    times[k].append(sample(fn, args.sample_ms / 1000))
            med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
            t = med.get("torch")
            cells = [f"{med['nncore']:.1f}", f"{med['layers']:.1f}"]
            if t:
                cells += [f"{t:.1f}", f"{t / med['nncore']:.2f}x", f"{t / med['layers']:.2f}x"]
            else:
                cells += ["-", "-", "-"]
            print(f"| {rows} | {threads} | " + " | ".join(cells) + " |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
