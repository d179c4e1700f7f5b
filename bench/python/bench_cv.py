"""The `python -m nncore` cross-validation timed against scikit-learn's MLPClassifier and PyTorch
(eager) on the same folds: digits, 5-fold stratified (seeded), features standardized per fold
(fitted on the training part), one hidden ReLU layer, Adam, the same epochs, batch size and
learning rate, no L2. Each repetition runs every framework once (interleaved; on several threads
each after a pause in which the previous one's idle workers stop spinning: settle.py) and the table
reports the median wall time of the whole 5-fold CV (standardize + fit + predict) and the mean
fold accuracy. scikit-learn is kept from stopping early (tol=0, n_iter_no_change=epochs).

    PYTHONPATH=python python bench/python/bench_cv.py [--reps 5] [--markdown bench/results/cv.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import warnings

import numpy as np

import nncore as nc
from nncore.cli import DEFAULTS, ModelFactory, cv_splitter
from nncore.model_selection import Standardizer, cross_validate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from settle import settle  # noqa: E402

_clock = nc._core.bench_clock  # the TSC: this VM's monotonic clock steps by 4-36 ms at times


def folds_and_data(seed, n_folds):
    X, y = nc.datasets.load_digits(return_X_y=True)
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.int32)
    folds = list(cv_splitter("classification", n_folds, seed).split(X, y))
    return X, y, folds


def run_nncore(X, y, folds, a):
    nc.set_num_threads(
        a.threads
    )  # explicit: torch.set_num_threads changes the shared OpenMP default
    factory = ModelFactory(X.shape[1], 10, "classification", a.hidden, lr=a.lr, seed=a.seed)
    t0 = _clock()
    res = cross_validate(
        factory,
        X,
        y,
        folds,
        standardize=True,
        return_train_score=False,
        fit_params={"epochs": a.epochs, "batch_size": a.batch_size},
        n_jobs=a.jobs,  # folds side by side in threads, as the command line's cv runs them
    )
    return _clock() - t0, float(res["test_accuracy"].mean())


def run_sklearn(X, y, folds, a):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    t0 = _clock()
    accs = []
    for tr, te in folds:
        s = Standardizer().fit(X[tr])
        clf = MLPClassifier(
            tuple(a.hidden),
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=a.batch_size,
            learning_rate_init=a.lr,
            max_iter=a.epochs,
            tol=0.0,
            n_iter_no_change=a.epochs + 1,
            shuffle=True,
            random_state=a.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(s.transform(X[tr]).astype(np.float64), y[tr])
        accs.append(np.mean(clf.predict(s.transform(X[te]).astype(np.float64)) == y[te]))
    return _clock() - t0, float(np.mean(accs))


def run_torch(X, y, folds, a):
    import torch

    torch.set_num_threads(a.torch_threads)
    torch.manual_seed(a.seed)
    t0 = _clock()
    accs = []
    for tr, te in folds:
        s = Standardizer().fit(X[tr])
        xt = torch.from_numpy(s.transform(X[tr]))
        yt = torch.from_numpy(y[tr].astype(np.int64))
        layers, d = [], X.shape[1]
        for h in a.hidden:
            layers += [torch.nn.Linear(d, h), torch.nn.ReLU()]
            d = h
        net = torch.nn.Sequential(*layers, torch.nn.Linear(d, 10))
        opt = torch.optim.Adam(net.parameters(), lr=a.lr)
        lossf = torch.nn.CrossEntropyLoss()
        n = len(tr)
        for _ in range(a.epochs):
            perm = torch.randperm(n)
            for b in range(0, n, a.batch_size):
                idx = perm[b : b + a.batch_size]
                opt.zero_grad()
                lossf(net(xt[idx]), yt[idx]).backward()
                opt.step()
        with torch.no_grad():
            pred = net(torch.from_numpy(s.transform(X[te]))).argmax(1).numpy()
        accs.append(np.mean(pred == y[te]))
    return _clock() - t0, float(np.mean(accs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    # a fixed epoch count for all three (the CLI's DEFAULTS["epochs"] is early stopping's ceiling)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--hidden", default=DEFAULTS["hidden"])
    p.add_argument("--folds", type=int, default=DEFAULTS["folds"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="nncore threads")
    p.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="PyTorch intra-op threads (1: its fastest at batch 32; 2 spins badly on a busy machine)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="nncore folds at once, each on threads // jobs threads (default: as `python -m "
        "nncore cv`, one fold per thread up to the folds)",
    )
    p.add_argument("--markdown", default=None, help="write the table to this file")
    a = p.parse_args()
    if a.jobs is None:
        a.jobs = max(1, min(a.threads, a.folds))
    a.hidden = [int(v) for v in a.hidden.split(",")]
    X, y, folds = folds_and_data(a.seed, a.folds)
    runners = {"nncore": run_nncore}
    try:
        import sklearn  # noqa: F401

        runners["scikit-learn MLPClassifier"] = run_sklearn
    except ImportError:
        pass
    try:
        import torch

        runners[f"PyTorch {torch.__version__} eager ({a.torch_threads} thread)"] = run_torch
    except ImportError:
        pass
    for f in runners.values():  # warm-up (imports, first allocations)
        f(X, y, folds[:1], argparse.Namespace(**{**vars(a), "epochs": 1}))
    times = {k: [] for k in runners}
    accs = {}
    for _ in range(a.reps):
        for k, f in runners.items():
            settle(max(a.threads, a.torch_threads))
            t, acc = f(X, y, folds, a)
            times[k].append(t)
            accs[k] = acc
    base = statistics.median(times["nncore"])
    cfg = nc.config()
    arch = "-".join(str(v) for v in [64, *a.hidden, 10])
    lines = [
        f"digits (1797 x 64), {a.folds}-fold stratified CV (seed {a.seed}), MLP {arch} ReLU, "
        f"Adam lr={a.lr:g}, {a.epochs} epochs, batch {a.batch_size}; median of {a.reps} "
        "interleaved repetitions; time = whole CV (standardize + fit + predict)",
        "",
        "| framework | median time (s) | min (s) | mean fold accuracy | nncore speed-up |",
        "|---|---|---|---|---|",
    ]
    for k in runners:
        med = statistics.median(times[k])
        lines.append(
            f"| {k} | {med:.3f} | {min(times[k]):.3f} | {accs[k]:.4f} | {med / base:.1f}x |"
        )
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"nncore ISA {cfg['isa']}, {a.threads} threads ({a.jobs} folds at a time), Python "
        f"{platform.python_version()}"
    )
    text = "\n".join(lines)
    print(machine)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("# Cross-validation benchmark: nncore vs scikit-learn vs PyTorch\n\n")
            f.write(f"Machine: {machine}\n\n")
            f.write(f"Command: `PYTHONPATH=python python {' '.join(sys.argv)}`\n\n")
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
