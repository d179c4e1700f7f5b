"""nncore.sklearn vs scikit-learn's MLPs, same run, identical constructor arguments.

Configurations: scikit-learn's defaults (adam, one hidden layer of 100), adam on a deeper net
(256, 128) with batches of 128, and lbfgs. Data: digits (1,797 x 64, 10 classes), a 60,000 x 784
synthetic 10-class set (labels from a random linear teacher) and a 200,000 x 50 regression set
(a random two-layer teacher plus noise); each split 80/20, the held-out score is accuracy or R².
Thread counts 1 and 2: nncore through nncore.num_threads, scikit-learn's BLAS through
threadpoolctl (nncore's few numpy calls too). The two fits of a row run back to back (on 2 threads
after a pause in which the other library's idle workers stop spinning: settle.py); the table
gives fit seconds, the ratio, both held-out scores and predict seconds on the held-out rows.
With ``--reps N`` each row's pair of fits is repeated N times (scikit-learn, nncore, scikit-learn,
...) and the table gives the medians, the ratio being the median of the per-pair ratios, so a
loaded machine's drift hits both libraries alike. Predict time is the median of ``--predict-calls``
calls on the held-out rows after the fit (the first call included).

    python bench/python/bench_sklearn.py                       # the full run (long)
    python bench/python/bench_sklearn.py --scale 0.1 --max-iter 5 --sets mnist,reg
    python bench/python/bench_sklearn.py --sparse              # peak memory of a sparse fit

``--max-iter`` caps max_iter for both libraries on the large sets (the same argument goes to
both, so the comparison stays like for like; n_iter_ is reported). ``--sparse`` fits a
100,000 x 10,000 CSR matrix at 0.1 % density in a child process and reports its peak RSS next to
the size the dense float32 matrix would have.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from settle import settle  # noqa: E402


def make_sets(scale: float, names):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    out = {}
    if "digits" in names:
        X, y = load_digits(return_X_y=True)
        out["digits"] = ("clf", *train_test_split(X / 16.0, y, test_size=0.2, random_state=0))
    rng = np.random.default_rng(0)
    if "mnist" in names:
        n = max(1000, int(60_000 * scale))
        X = rng.standard_normal((n, 784))
        y = np.argmax(X @ rng.standard_normal((784, 10)), axis=1)
        out[f"synthetic {n}x784"] = ("clf", *train_test_split(X, y, test_size=0.2, random_state=0))
    if "reg" in names:
        n = max(1000, int(200_000 * scale))
        X = rng.standard_normal((n, 50))
        h = np.tanh(X @ rng.standard_normal((50, 32)) / 7.0)
        y = h @ rng.standard_normal(32) + 0.1 * rng.standard_normal(n)
        out[f"regression {n}x50"] = ("reg", *train_test_split(X, y, test_size=0.2, random_state=0))
    return out


CONFIGS = {
    "defaults": {},
    "adam": dict(solver="adam", hidden_layer_sizes=(256, 128), batch_size=128),
    "lbfgs": dict(solver="lbfgs"),
}


def run_one(cls, kw, threads, Xtr, ytr, Xte, yte, predict_calls=1):
    from threadpoolctl import threadpool_limits

    import nncore

    with threadpool_limits(threads), nncore.num_threads(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(random_state=0, **kw)
        t0 = time.perf_counter()
        est.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        times = []
        for _ in range(max(1, predict_calls)):
            t0 = time.perf_counter()
            est.predict(Xte)
            times.append(time.perf_counter() - t0)
        score = est.score(Xte, yte)
    return fit_s, float(np.median(times)), score, est.n_iter_


def bench(args):
    import sklearn.neural_network as skn

    import nncore.sklearn as ncs

    sets = make_sets(args.scale, args.sets.split(","))
    rows = []
    for set_name, (kind, Xtr, Xte, ytr, yte) in sets.items():
        name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
        for cfg in args.configs.split(","):
            kw = dict(CONFIGS[cfg])
            if args.max_iter and not set_name.startswith("digits"):
                kw["max_iter"] = args.max_iter
            for threads in [int(t) for t in args.threads.split(",")]:
                pairs = []
                for _ in range(max(1, args.reps)):
                    data = (threads, Xtr, ytr, Xte, yte, args.predict_calls)
                    settle(threads)
                    sk_run = run_one(getattr(skn, name), kw, *data)
                    settle(threads)
                    pairs.append((sk_run, run_one(getattr(ncs, name), kw, *data)))
                sk = tuple(float(np.median([p[0][i] for p in pairs])) for i in range(4))
                nc = tuple(float(np.median([p[1][i] for p in pairs])) for i in range(4))
                sk = (*sk[:3], pairs[0][0][3])
                nc = (*nc[:3], pairs[0][1][3])
                row = dict(
                    set=set_name,
                    config=cfg,
                    threads=threads,
                    args=kw,
                    reps=len(pairs),
                    sk_fit=sk[0],
                    nc_fit=nc[0],
                    ratio=float(np.median([p[0][0] / p[1][0] for p in pairs])),
                    ratios=[p[0][0] / p[1][0] for p in pairs],
                    sk_score=sk[2],
                    nc_score=nc[2],
                    sk_predict=sk[1],
                    nc_predict=nc[1],
                    sk_iter=sk[3],
                    nc_iter=nc[3],
                )
                rows.append(row)
                print(
                    f"| {set_name} | {cfg} | {threads} | {sk[0]:.2f} | {nc[0]:.2f} | "
                    f"{row['ratio']:.1f}x | {sk[2]:.4f} | {nc[2]:.4f} | {sk[1] * 1e3:.1f} | "
                    f"{nc[1] * 1e3:.1f} | {sk[3]}/{nc[3]} |",
                    flush=True,
                )
    return rows


def sparse_child(n, d, density):
    import scipy.sparse as sp

    import nncore.sklearn as ncs

    # Built from coordinates: scipy.sparse.random draws from all n·d cells and itself peaks at
    # several GB for this shape, which would hide the fit's own peak.
    rng = np.random.default_rng(0)
    nnz = int(n * d * density)
    X = sp.csr_matrix(
        (rng.random(nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))), shape=(n, d)
    )
    y = np.asarray(X[:, :50].sum(axis=1)).ravel() > np.median(np.asarray(X[:, :50].sum(axis=1)))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ncs.MLPClassifier(hidden_layer_sizes=(100,), max_iter=2, random_state=0).fit(X, y)
    fit_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            dict(
                rows=n,
                cols=d,
                density=density,
                nnz=int(X.nnz),
                csr_mb=(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
                dense_float32_mb=n * d * 4 / 2**20,
                peak_rss_mb=peak / 1024,
                rss_before_fit_mb=base / 1024,
                fit_s=fit_s,
                n_iter=clf.n_iter_,
                train_acc=float(clf.score(X[:5000], y[:5000])),
            )
        )
    )


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sets", default="digits,mnist,reg")
    p.add_argument("--configs", default="defaults,adam,lbfgs")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the large sets' rows")
    p.add_argument("--max-iter", type=int, default=0, help="max_iter for both on the large sets")
    p.add_argument("--reps", type=int, default=1, help="interleaved repeats per row (medians)")
    p.add_argument("--predict-calls", type=int, default=1, help="predict calls per fit (median)")
    p.add_argument("--sparse", action="store_true")
    p.add_argument("--sparse-child", nargs=3, metavar=("N", "D", "DENSITY"))
    args = p.parse_args()
    if args.sparse_child:
        n, d, dens = args.sparse_child
        sparse_child(int(n), int(d), float(dens))
        return
    if args.sparse:
        r = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--sparse-child",
                "100000",
                "10000",
                "0.001",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(r.stdout.strip())
        return
    print(
        "| set | config | threads | sklearn fit s | nncore fit s | ratio | sklearn score | "
        "nncore score | sklearn predict ms | nncore predict ms | n_iter sk/nc |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = bench(args)
    print(json.dumps(rows, default=float))


if __name__ == "__main__":
    main()
