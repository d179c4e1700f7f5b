"""Serving: predict throughput of one model shared by 1, 2 and 4 Python threads (rows/s at batch
1 and 64), nncore vs PyTorch in the same setting, and onnxruntime's latency for the exported model
beside nncore's own.

    PYTHONPATH=python python bench/python/bench_serve.py [--seconds 0.5] [--threads 1,2,4]

Every library gets one intra-op thread, so the Python threads are the only parallelism (the usual
setting of a threaded server); the model is 784-512-512-10 (ReLU), in evaluation mode.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time

import numpy as np

import nncore as nc

D, H, K = 784, 512, 10


def _model():
    m = nc.Sequential([nc.Dense(H, "relu"), nc.Dense(H, "relu"), nc.Dense(K)], input_dim=D, seed=0)
    m.compile(optimizer="adam", loss="cross_entropy")
    return m


def _torch_model(m):
    import torch

    p = m.parameters()
    net = torch.nn.Sequential(
        torch.nn.Linear(D, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, K),
        torch.nn.Softmax(dim=1),
    ).eval()
    with torch.no_grad():
        for i, layer in zip((0, 1, 2), (net[0], net[2], net[4])):
            layer.weight.copy_(torch.from_numpy(p[f"{i}.weight"]))
            layer.bias.copy_(torch.from_numpy(p[f"{i}.bias"]))

    def predict(x):
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    return predict


def throughput(predict, X, batch, nthreads, seconds):
    """Rows per second of nthreads Python threads calling predict on batches of `batch` rows."""
    predict(X[:batch])  # warm up (packing, workspaces)
    stop = threading.Event()
    counts = [0] * nthreads
    barrier = threading.Barrier(nthreads + 1)

    def worker(t):
        xb = X[(t * batch) % (len(X) - batch) :][:batch]
        barrier.wait()
        n = 0
        while not stop.is_set():
            predict(xb)
            n += 1
        counts[t] = n

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in ts:
        t.join()
    return sum(counts) * batch / (time.perf_counter() - t0)


def latency(predict, x, seconds):
    """Median seconds per call."""
    predict(x)
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--threads", default="1,2,4")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    nc.set_num_threads(1)
    m = _model()
    X = np.random.default_rng(0).normal(size=(4096, D)).astype(np.float32)
    libs = {"nncore": m.predict}
    try:
        import torch

        torch.set_num_threads(1)
        libs["PyTorch"] = _torch_model(m)
    except ImportError:
        pass
    print(
        f"# {platform.processor() or platform.machine()}, nncore ISA {nc.config()['isa']}, "
        f"{os.cpu_count()} CPUs, 1 intra-op thread per library"
    )
    print(
        "| batch | Python threads | "
        + " | ".join(f"{k} rows/s" for k in libs)
        + " | nncore / PyTorch |"
    )
    print("|---:|---:|" + "---:|" * (len(libs) + 1))
    for batch in (1, 64):
        for t in threads:
            r = {k: throughput(f, X, batch, t, args.seconds) for k, f in libs.items()}
            ratio = f"{r['nncore'] / r['PyTorch']:.2f}x" if "PyTorch" in r else "-"
            print(
                f"| {batch} | {t} | "
                + " | ".join(f"{v:,.0f}" for v in r.values())
                + f" | {ratio} |"
            )
    try:
        import onnxruntime as ort
    except ImportError:
        print("\n(onnxruntime not installed: no ONNX latency)")
        return
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.onnx")
        m.export_onnx(path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        libs["onnxruntime"] = lambda x: sess.run(None, {name: x})[0]
        np.testing.assert_allclose(libs["onnxruntime"](X[:64]), m.predict(X[:64]), atol=1e-5)
        print("\n| batch | " + " | ".join(f"{k} µs" for k in libs) + " |")
        print("|---:|" + "---:|" * len(libs))
        for batch in (1, 64):
            lat = {k: latency(f, X[:batch], args.seconds) * 1e6 for k, f in libs.items()}
            print(f"| {batch} | " + " | ".join(f"{v:,.1f}" for v in lat.values()) + " |")


if __name__ == "__main__":
    main()
