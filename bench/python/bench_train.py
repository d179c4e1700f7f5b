"""Training-epoch benchmark of DESIGN.md §6: nncore vs PyTorch and JAX (and scikit-learn), same run.

Data: 60,000 × 784 synthetic float32 rows, 10 classes (labels from a random linear teacher, so the
task is learnable). Model: 784-512(BN, ReLU, Dropout .2)-512(BN, ReLU, Dropout .2)-10, Adam 1e-3,
softmax cross-entropy. For each batch size and thread count, full epochs of nncore and each PyTorch
peer run interleaved (nncore, peer 1, peer 2, ..., nncore, ...; on 2+ threads each after a pause in
which the previous library's idle workers stop spinning: settle.py); the table reports medians and
the ratios. PyTorch peers (--torch-peers): "default" (eager, torch.optim.Adam's default foreach
implementation), "fused" (eager, Adam(fused=True): the strongest eager optimizer) and "compile"
(torch.compile of the model, Adam(fused=True)); JAX (whole step jitted, or the epoch in lax.scan,
the faster) runs in its own pinned process, one timed epoch per rep, interleaved with the others. Also: the plain MLP (no BN/Dropout) at bs 128
against scikit-learn's MLPClassifier, batch-1 and batch-1024 predict latency, and the peak memory an
epoch adds (each library in a fresh process).

    python bench/python/bench_train.py                    # the full run (several minutes)
    python bench/python/bench_train.py --quick            # a smoke run
    python bench/python/bench_train.py --isa avx2         # AVX2 path; OpenBLAS/ATen on AVX2 too
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402
from settle import settle  # noqa: E402

if __name__ == "__main__":
    apply_isa_environment()

import numpy as np  # noqa: E402

import nncore as nc  # noqa: E402

D, H, K = 784, 512, 10

# The TSC (seconds): this VM's CLOCK_MONOTONIC, behind time.perf_counter, steps by 4-36 ms at times,
# which once turned a 15 ms predict into 10 ms.
_clock = nc._core.bench_clock


def make_data(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, D), dtype=np.float32)
    teacher = rng.standard_normal((D, K), dtype=np.float32)
    y = np.argmax(X @ teacher, axis=1).astype(np.int64)
    return X, y


def nncore_model(bn_dropout: bool = True, seed: int = 0):
    layers = []
    for _ in range(2):
        if bn_dropout:
            layers += [nc.Dense(H), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.2)]
        else:
            layers += [nc.Dense(H, "relu")]
    layers.append(nc.Dense(K))
    m = nc.Sequential(layers, input_dim=D, seed=seed)
    m.compile(optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy")
    return m


def torch_model(bn_dropout: bool = True, seed: int = 0, peer: str = "default"):
    """(model, optimizer) of a PyTorch peer: "default", "fused" or "compile" (see the header)."""
    import torch

    torch.manual_seed(seed)
    nn = torch.nn
    layers, d = [], D
    for _ in range(2):
        layers.append(nn.Linear(d, H))
        if bn_dropout:
            layers += [nn.BatchNorm1d(H), nn.ReLU(), nn.Dropout(0.2)]
        else:
            layers.append(nn.ReLU())
        d = H
    layers.append(nn.Linear(d, K))
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=peer in ("fused", "compile"))
    if peer == "compile":
        model = torch.compile(model)
    return model, opt


def nncore_epoch(model, X, y, bs):
    t = _clock()
    model.fit(X, y, epochs=1, batch_size=bs)
    return _clock() - t


def torch_epoch(model_opt, Xt, yt, bs, seed=0):
    import torch

    model, opt = model_opt
    model.train()
    lossf = torch.nn.CrossEntropyLoss()
    n = Xt.shape[0]
    t = _clock()
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    for i in range(0, n, bs):
        idx = perm[i : i + bs]
        if len(idx) < 2:  # BatchNorm1d cannot train on one row
            continue
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    return _clock() - t


def sklearn_epoch(X, y, bs, threads=1):
    """One epoch of MLPClassifier with its BLAS (OpenBLAS through numpy) on `threads` threads,
    like the other libraries of the row (unlimited, OpenBLAS uses every core)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    clf = MLPClassifier(
        hidden_layer_sizes=(H, H),
        batch_size=bs,
        max_iter=1,
        solver="adam",
        learning_rate_init=1e-3,
        shuffle=True,
        random_state=0,
        alpha=0.0,
    )
    with threadpool_limits(limits=threads, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = _clock()
        clf.fit(X, y)
        return _clock() - t


def jax_epoch(threads: int, bs: int, rows: int, reps: int) -> float:
    """Median epoch time of JAX/XLA (the faster of jit-per-step and lax.scan), in a child process
    pinned to `threads` cores (bench/python/jax_peer.py); nan when the child fails."""
    r = subprocess.run(
        [
            sys.executable,
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "jax_peer.py"),
            "--threads",
            str(threads),
            "--bs",
            str(bs),
            "--rows",
            str(rows),
            "--reps",
            str(reps),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
        return float(out["time"])
    except (IndexError, KeyError, json.JSONDecodeError):
        print(f"jax child failed: {r.stderr[-500:]}", file=sys.stderr)
        return float("nan")


def set_threads(n, have_torch):
    nc.set_num_threads(n)
    if have_torch:
        import torch

        torch.set_num_threads(n)


def _per_call(fn, reps, inner):
    """Median over `reps` of the mean time of `inner` back-to-back calls."""
    times = []
    for _ in range(reps):
        t = _clock()
        for _ in range(inner):
            fn()
        times.append((_clock() - t) / inner)
    return statistics.median(times)


def predict_latency(rows, reps, have_torch):
    out = {}
    X, _ = make_data(max(rows, 1024), seed=1)
    xb = X[:rows]
    inner = 2000 if rows == 1 else 20
    m = nncore_model()
    m.predict(xb)
    out["nncore"] = _per_call(lambda: m.predict(xb), reps, inner)
    m.predict(xb, fold_batchnorm=True)
    out["nncore_folded"] = _per_call(lambda: m.predict(xb, fold_batchnorm=True), reps, inner)
    if have_torch:
        import torch

        tm, _ = torch_model()
        tm.eval()
        xt = torch.from_numpy(xb)
        with torch.no_grad():
            tm(xt)
            out["torch"] = _per_call(lambda: tm(xt), reps, inner // 4 or 1)
    return out


def memory_child(lib: str, rows: int, bs: int):
    """Runs in a fresh process: peak RSS added by one epoch (MiB): the peak (VmHWM, reset just
    before the epoch through /proc/self/clear_refs) minus the resident size before it."""

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])  # kB
        return 0

    def reset_peak():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    X, y = make_data(rows)
    if lib == "nncore":
        nc.set_num_threads(1)
        m = nncore_model()
        m.predict(X[:2])
        reset_peak()
        before = status("VmRSS:")
        nncore_epoch(m, X, y, bs)
    else:
        import torch

        torch.set_num_threads(1)
        mo = torch_model()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        with torch.no_grad():
            mo[0](Xt[:2])
        reset_peak()
        before = status("VmRSS:")
        torch_epoch(mo, Xt, yt, bs)
    after = status("VmHWM:")
    print(json.dumps({"lib": lib, "added_mib": (after - before) / 1024}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--batch-sizes", default="32,128,512,2048")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="6,000 rows, one rep")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-jax", action="store_true")
    ap.add_argument(
        "--torch-peers",
        default="fused,compile",
        help="comma-separated PyTorch peers: default, fused, compile (empty: none)",
    )
    ap.add_argument("--memory-child", nargs=3, metavar=("LIB", "ROWS", "BS"))
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512 (peers too)")
    args = ap.parse_args()
    if args.memory_child:
        lib, rows, bs = args.memory_child
        memory_child(lib, int(rows), int(bs))
        return
    if args.quick:
        args.rows, args.reps = 6000, 1
    try:
        import torch

        have_torch = True
    except ImportError:
        have_torch = False
    try:
        import sklearn  # noqa: F401

        have_sklearn = not args.skip_sklearn
    except ImportError:
        have_sklearn = False

    import importlib.util

    have_jax = not args.skip_jax and importlib.util.find_spec("jax") is not None
    X, y = make_data(args.rows)
    if have_torch:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    bss = [int(b) for b in args.batch_sizes.split(",")]
    torch_peers = [p for p in args.torch_peers.split(",") if p] if have_torch else []
    if args.isa == "avx2" and "compile" in torch_peers:
        # torch 2.13's inductor-compiled model crashed the process (SIGSEGV) under
        # ATEN_CPU_CAPABILITY=avx2 on the Intel Xeon model 207, with nncore's main as well.
        torch_peers.remove("compile")
        print("# torch.compile left out: it crashes under ATEN_CPU_CAPABILITY=avx2 (torch 2.13)")
    threads = [int(t) for t in args.threads.split(",")]
    print(
        f"# nncore {nc.__version__} {nc.config()['isa']}; torch "
        f"{torch.__version__ if have_torch else 'absent'}; {args.rows} rows, {args.reps} reps"
    )
    print(f"# {describe_environment()}")
    rows_out = []
    for nt in threads:
        set_threads(nt, have_torch)
        # Untimed warm-up at each thread count: the first 2-thread epoch after minutes of
        # 1-thread ones once ran at the 1-thread speed (as in bench_gemm.py, as if the idle vCPU
        # had to be woken first).
        nncore_epoch(nncore_model(), X[:6000], y[:6000], 128)
        for bs in bss:
            m = nncore_model()
            # Each peer's model is built (and torch.compile'd: its first epochs compile) and
            # warmed up before the timed reps.
            peers = {}
            for name in torch_peers:
                peers[name] = torch_model(peer=name)
                torch_epoch(peers[name], Xt[:6000], yt[:6000], bs)
                torch_epoch(peers[name], Xt[:6000], yt[:6000], bs)
            tn, tt, tj = [], {name: [] for name in torch_peers}, []
            for _ in range(args.reps):  # interleaved: nncore, each peer, JAX, nncore, ...
                settle(nt)
                tn.append(nncore_epoch(m, X, y, bs))
                for name in torch_peers:
                    settle(nt)
                    tt[name].append(torch_epoch(peers[name], Xt, yt, bs))
                # JAX in its own pinned process (it compiles in an untimed epoch first), one
                # timed epoch per rep, so it sees the same neighbours' load as the others.
                if have_jax:
                    tj.append(jax_epoch(nt, bs, args.rows, 1))
            a = statistics.median(tn)
            med = {name: statistics.median(v) for name, v in tt.items()}
            j = statistics.median(tj) if tj else float("nan")
            rows_out.append((nt, bs, a, med, j))
            # On a shared VM the spread and the per-rep (paired) ratio show how much of a
            # difference between runs is the neighbours' load rather than either library.
            peers_s = "".join(
                f"  torch-{name} {med[name]:7.3f} s ({med[name] / a:4.2f}x, paired "
                f"{statistics.median(q / p for p, q in zip(tn, tt[name])):.2f}x)"
                for name in torch_peers
            )
            print(
                f"threads={nt} bs={bs:5d}  nncore {a:7.3f} s ({min(tn):.3f}-{max(tn):.3f})"
                f"{peers_s}  jax {j:7.3f} s ({j / a:4.2f}x)",
                flush=True,
            )
    head = "".join(f" torch {n} (s) | / nncore |" for n in torch_peers)
    print(f"\n| threads | batch | nncore epoch (s) |{head} JAX jit/scan (s) | JAX / nncore |")
    print("|---|---|---|" + "---|---|" * len(torch_peers) + "---|---|")
    for nt, bs, a, med, j in rows_out:
        cells = "".join(f" {med[n]:.3f} | {med[n] / a:.2f}× |" for n in torch_peers)
        print(f"| {nt} | {bs} | {a:.3f} |{cells} {j:.3f} | {j / a:.2f}× |")

    # Plain MLP at bs 128 against scikit-learn (and torch), 1 thread.
    set_threads(1, have_torch)
    tn, tt, ts = [], [], []
    m = nncore_model(bn_dropout=False)
    mo = torch_model(bn_dropout=False) if have_torch else None
    for _ in range(args.reps):
        tn.append(nncore_epoch(m, X, y, 128))
        if have_torch:
            tt.append(torch_epoch(mo, Xt, yt, 128))
        if have_sklearn:
            ts.append(sklearn_epoch(X, y, 128, threads=1))
    a = statistics.median(tn)
    print("\nplain MLP 784-512-512-10, bs 128, 1 thread")
    print(f"  nncore {a:.3f} s")
    if tt:
        print(f"  torch  {statistics.median(tt):.3f} s  ({statistics.median(tt) / a:.2f}x)")
    if ts:
        print(f"  sklearn {statistics.median(ts):.3f} s  ({statistics.median(ts) / a:.2f}x)")

    for rows in (1, 1024):
        lat = predict_latency(rows, 7, have_torch)
        s = (
            f"predict batch {rows} (1 thread): nncore {lat['nncore'] * 1e6:.1f} us, "
            f"folded BN {lat['nncore_folded'] * 1e6:.1f} us"
        )
        if "torch" in lat:
            s += f", torch {lat['torch'] * 1e6:.1f} us ({lat['torch'] / lat['nncore']:.2f}x)"
        print(s)

    for lib in ["nncore"] + (["torch"] if have_torch else []):
        r = subprocess.run(
            [sys.executable, __file__, "--memory-child", lib, str(args.rows), "128"],
            capture_output=True,
            text=True,
            env=dict(os.environ),
        )
        try:
            mib = json.loads(r.stdout.strip().splitlines()[-1])["added_mib"]
            print(f"memory added by one bs-128 epoch: {lib} {mib:.1f} MiB")
        except (IndexError, json.JSONDecodeError):
            print(f"memory child for {lib} failed: {r.stderr[-500:]}")


if __name__ == "__main__":
    main()
