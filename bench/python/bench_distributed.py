"""Data-parallel and streaming benchmarks (bench/RESULTS.md, section "Distributed and streaming").

    python bench/python/bench_distributed.py            # all parts, ~2 min on 2 cores
    python bench/python/bench_distributed.py --part dp   # mpirun 1, 2, 4 ranks only

Parts:
  dp      epoch time of data-parallel fit under mpirun -n 1, 2, 4 (more ranks than cores are
          oversubscribed), and the share of the epoch spent in communication (row exchange,
          batchnorm sums and gradient exchange, measured around the collectives and waits), for
          both reductions, with the gradient exchange overlapping backward or after it; then a
          model with BatchNorm, synchronised vs local statistics.
  model   the scaling model to 16 nodes x 16 cores at 10 and 100 Gbit/s (printed, with its
          assumptions), from the measured one-core step time and the gradient size.
  stream  rows/s of fit streaming from a Parquet file vs fit on the same rows in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
# Spinning OpenMP threads on a loaded 2-core machine made plain fit 10x slower (2.65 s vs 0.23 s
# per epoch); must be set before the OpenMP runtime starts.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import nncore as nc  # noqa: E402

N, D, H, K = 16384, 256, 256, 10
BATCH, BLOCK, EPOCHS = 256, 64, 2


def make_model(bn: bool = False):
    if bn:
        layers = [nc.Dense(H), nc.BatchNorm(), nc.Activation("relu")] * 2
    else:
        layers = [nc.Dense(H, "relu"), nc.Dense(H, "relu")]
    m = nc.Sequential([*layers, nc.Dense(K)], input_dim=D, seed=0)
    m.compile(optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy")
    return m


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(np.float32)
    return X, (X[:, :K].argmax(1)).astype(np.int64)


def worker(reduction: str, overlap: str, bn: str):
    import nncore.distributed as dist

    batchnorm = "local" if bn == "local" else "sync"
    ctx = dist.init(
        block_rows=BLOCK, reduction=reduction, overlap=overlap == "on", batchnorm=batchnorm
    )
    X, y = dist.shard(*data())
    m = make_model(bn != "none")
    h = m.fit(X, y, epochs=EPOCHS, batch_size=BATCH, seed=1, distributed=ctx)
    if ctx.rank == 0:
        last = {k: h.history[k][-1] for k in ("time", "comm_time", "grad_comm_time", "loss")}
        last["threads"] = nc.get_num_threads()
        print("RESULT " + json.dumps(last))


def part_dp():
    mpirun = shutil.which("mpirun")
    if not mpirun:
        print("dp: mpirun not found, skipped")
        return
    env = dict(
        os.environ,
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_mpi_yield_when_idle="1",
        OMP_WAIT_POLICY="passive",
        PYTHONPATH=str(ROOT / "python"),
    )
    m = make_model()
    X, y = data()
    m.fit(X[:512], y[:512], epochs=1, batch_size=BATCH)
    t0 = time.perf_counter()
    m.fit(X, y, epochs=1, batch_size=BATCH, seed=1)
    plain = time.perf_counter() - t0
    print(
        f"model {D}-{H}-{H}-{K} ({m.num_params} params, {4 * m.num_params / 1e6:.2f} MB of "
        f"gradient), {N} rows, batch {BATCH}, block_rows {BLOCK}, cores {os.cpu_count()}"
    )
    print(f"plain fit, one process, {nc.get_num_threads()} threads: {plain:.3f} s/epoch")
    print(
        "| model | ranks | reduction | overlap | threads/rank | epoch s | comm s | comm share "
        "| gradient exchange s | its share |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    configs = [("none", r, o) for r in ("tree", "allreduce") for o in ("off", "on")]
    configs += [("sync", "tree", "on"), ("local", "tree", "on")]
    for bn, reduction, overlap in configs:
        for n in (1, 2, 4):
            cmd = [mpirun, "-n", str(n), "--oversubscribe", "--bind-to", "none", sys.executable]
            cmd += [__file__, "--worker", reduction, overlap, bn]
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
            name = {"none": "no BN", "sync": "BN sync", "local": "BN local"}[bn]
            if line is None:
                print(f"| {name} | {n} | {reduction} | {overlap} | failed: {r.stderr[-300:]} |")
                continue
            res = json.loads(line[7:])
            t = res["time"]
            print(
                f"| {name} | {n} | {reduction} | {overlap} | {res['threads']} | {t:.3f} | "
                f"{res['comm_time']:.3f} | {res['comm_time'] / t:.0%} | "
                f"{res['grad_comm_time']:.3f} | {res['grad_comm_time'] / t:.0%} |"
            )


def part_model():
    """Scaling model; the one-core step time is measured here, the rest are stated assumptions."""
    m = make_model()
    X, y = data()
    nc.set_num_threads(1)
    m.fit(X[:1024], y[:1024], epochs=1, batch_size=BATCH)
    t0 = time.perf_counter()
    m.fit(X[:4096], y[:4096], epochs=1, batch_size=BATCH)
    per_row = (time.perf_counter() - t0) / 4096  # one core, forward+backward+update
    P = m.num_params
    G = 4 * P
    nodes, cores = 16, 16
    print(f"one-core time per row: {per_row * 1e6:.1f} us; gradient {G / 1e6:.2f} MB")
    print(
        "| global batch | net Gbit/s | compute ms/step | allreduce ms | tree-gather ms | "
        "efficiency (allreduce) | efficiency (tree) |"
    )
    print("|---|---|---|---|---|---|---|")
    alpha = 20e-6  # per-message latency (s), TCP-class network
    parallel_eff = 0.8  # OpenMP efficiency of 16 threads on one node (assumed)
    for batch in (4096, 65536):
        for gbit in (10, 100):
            bw = gbit * 1e9 / 8
            compute = batch * per_row / (nodes * cores * parallel_eff)
            ring = 2 * (nodes - 1) / nodes * G / bw + 2 * (nodes - 1) * alpha
            gather = (nodes - 1) * G / bw + np.log2(nodes) * alpha
            eff_r = compute / (compute + ring)
            eff_t = compute / (compute + gather)
            print(
                f"| {batch} | {gbit} | {compute * 1e3:.2f} | {ring * 1e3:.2f} | "
                f"{gather * 1e3:.2f} | {eff_r:.0%} | {eff_t:.0%} |"
            )


def part_stream():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        print("stream: pyarrow not installed, skipped")
        return
    from nncore.streaming import ParquetReader

    n, d = 200_000, 64
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, 0] * 2).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.parquet"
        cols = [pa.array(X[:, i]) for i in range(d)] + [pa.array(y)]
        names = [f"f{i}" for i in range(d)] + ["target"]
        pq.write_table(
            pa.Table.from_arrays(cols, names=names),
            path,
            row_group_size=16384,
            use_dictionary=False,
        )

        def model():
            m = nc.Sequential([nc.Dense(64, "relu"), nc.Dense(1)], input_dim=d, seed=0)
            m.compile(optimizer="adam", loss="mse")
            return m

        print(
            f"{n} rows x {d} float32 features ({n * d * 4 / 2**20:.0f} MB), model {d}-64-1, "
            f"batch 256, {nc.get_num_threads()} threads"
        )
        print("| input | epoch s | rows/s |")
        print("|---|---|---|")
        for name, run in (
            ("in memory (numpy)", lambda m: m.fit(X, y, epochs=1, batch_size=256)),
            (
                "Parquet, chunk 16384, no shuffle buffer",
                lambda m: m.fit(
                    ParquetReader(path, "target", chunk_rows=16384), epochs=1, batch_size=256
                ),
            ),
            (
                "Parquet, chunk 16384, shuffle buffer 65536",
                lambda m: m.fit(
                    ParquetReader(path, "target", chunk_rows=16384, shuffle_buffer=65536),
                    epochs=1,
                    batch_size=256,
                ),
            ),
        ):
            best = float("inf")
            for _ in range(2):
                m = model()
                t0 = time.perf_counter()
                run(m)
                best = min(best, time.perf_counter() - t0)
            print(f"| {name} | {best:.3f} | {n / best:,.0f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("dp", "model", "stream", "all"), default="all")
    ap.add_argument("--worker", nargs=3, metavar=("REDUCTION", "OVERLAP", "BN"))
    a = ap.parse_args()
    if a.worker:
        worker(*a.worker)
        return
    for part, fn in (("dp", part_dp), ("model", part_model), ("stream", part_stream)):
        if a.part in (part, "all"):
            print(f"\n## {part}")
            fn()


if __name__ == "__main__":
    main()
