"""The command line's cross-validation and its report, one path for every table (numeric,
text columns, missing cells, .npz, digits): each fold fits the table preprocessing on its training
rows, trains through ``nncore._cli_fit`` and scores the held-out rows; folds run in turn or
several at once in threads (``--jobs``), with the same scores either way."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ._cli_data import Dataset
from ._cli_fit import FitSettings, ModelFactory, fit_model, log, scores
from ._cli_table import TablePrep
from ._config import get_num_threads, num_threads


@dataclass
class Spec:
    """What a model needs besides the data (picklable for joblib workers)."""

    hidden: list
    activation: str
    dropout: float
    batchnorm: bool
    optimizer: str
    lr: float
    l2: float
    seed: int
    loss: str | None
    embed_dim: int | None
    impute: str
    indicator: bool
    fit: FitSettings


def prepare(ds: Dataset, spec: Spec, rows=None) -> TablePrep:
    """The table preprocessing fitted on ``rows`` (default all)."""
    cells = ds.cells if rows is None else ds.cells[rows]
    return TablePrep(ds.names, ds.kinds, spec.impute, spec.indicator).fit(cells)


def factory(ds: Dataset, spec: Spec, prep: TablePrep) -> ModelFactory:
    n_out = 1 if ds.classes is None else len(ds.classes)
    return ModelFactory(prep.width, n_out, ds.task, spec.hidden, spec.activation, spec.dropout,
                        spec.batchnorm, spec.optimizer, spec.lr, spec.l2, spec.seed,
                        prep.input_layer(spec.embed_dim), spec.loss)  # fmt: skip


def describe_data(ds: Dataset, prep: TablePrep) -> str:
    """``name: N rows[, dropped], d features (kinds), target T: task``."""
    rows = f"{len(ds.y)} rows"
    if ds.dropped:
        shown = ", ".join(map(str, ds.dropped[:5])) + (", ..." if len(ds.dropped) > 5 else "")
        n = len(ds.dropped)
        rows += f" used, {n} without a target value dropped (line{'s' * (n > 1)} {shown})"
    what = f"{len(ds.classes)} classes" if ds.classes else "regression"
    text = (f"{ds.desc}: {rows}, {len(ds.names)} features ({prep.describe()}); target "
            f"{ds.target!r}: {what}")  # fmt: skip
    return "\n".join([text, *(f"note: {n}" for n in ds.notes)])


def splitter(task: str, folds: int, seed: int):
    """Shuffled (stratified for classification) k-fold splitter."""
    from .model_selection import KFold, StratifiedKFold

    if task == "classification":
        return StratifiedKFold(folds, shuffle=True, seed=seed)
    return KFold(folds, shuffle=True, seed=seed)


def run_fold(ds: Dataset, spec: Spec, train, test, label: str, stop=None) -> dict:
    """Fit the preprocessing and a model on the training rows, score the test rows; ``stop``
    (a threading.Event) ends the training early when set."""
    prep = prepare(ds, spec, train)
    Xtr, Xte = prep.transform(ds.cells[train]), prep.transform(ds.cells[test])
    f = fit_model(factory(ds, spec, prep), Xtr, ds.y[train], spec.fit, f"{label} " if label else "",
                  stop)  # fmt: skip
    t0 = time.perf_counter()
    out = scores(ds.task, ds.y[test], f.predict(Xte))
    return dict(scores=out, epochs=f.epochs_run, best=f.best_epoch, note=f.note,
                seconds=f.seconds + time.perf_counter() - t0)  # fmt: skip


def fold_line(i: int, r: dict) -> str:
    """``fold 1: accuracy 0.9750  (41 epochs, best 21; 0.031 s)``."""
    s = "  ".join(f"{k} {v:.4f}" for k, v in r["scores"].items())
    ep = f"{r['epochs']} epochs" + (f", best {r['best']}" if r["best"] is not None else "")
    return f"fold {i + 1}: {s}  ({ep}; {r['seconds']:.3f} s)"


def _threads() -> int:
    """nncore's thread budget: --threads, else OMP_NUM_THREADS / threadpoolctl, else the cores."""
    return max(1, int(get_num_threads()))


def jobs_for(jobs: int | None, folds: int, verbose: bool) -> int:
    """Folds trained at once: ``--jobs`` (-1: one per thread of the budget), by default one per
    thread up to the number of folds, or one with ``--verbose``, whose per-epoch lines then come
    in order."""
    if jobs is None:
        jobs = 1 if verbose else -1
    return max(1, min(folds, _threads() if jobs == -1 else jobs))


def run_cv(ds: Dataset, spec: Spec, folds: list, jobs: int) -> list:
    """Every fold's result, printing each fold's line in fold order as it finishes.

    With ``jobs`` > 1 the folds train in that many threads, each with threads // jobs of nncore's
    threads. A small model (the digits run: a 64-96-10 MLP, ~1 ms epochs) keeps one core busy
    only part of the time on its own, and its training releases the GIL, so folds side by side
    use the cores better than each fold's products split across them. Training is bitwise the
    same on any thread count: the scores equal --jobs 1.
    """
    k = len(folds)
    labels = [f"fold {i + 1}/{k}" for i in range(k)]
    if jobs == 1:
        results = []
        for i, (tr, te) in enumerate(folds):
            results.append(run_fold(ds, spec, tr, te, labels[i]))
            log(fold_line(i, results[-1]))
        return results
    stop = threading.Event()
    results = []
    with num_threads(max(1, _threads() // jobs)), ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(run_fold, ds, spec, tr, te, labels[i], stop)
                   for i, (tr, te) in enumerate(folds)]  # fmt: skip
        try:
            for i, f in enumerate(futures):
                results.append(f.result())
                log(fold_line(i, results[-1]))
        except BaseException:  # an error or Ctrl-C: the other folds stop at their next chunk
            stop.set()
            for f in futures:
                f.cancel()
            raise
    return results


def summary(results: list) -> list:
    """The mean ± std line of the main score and the notes (once, naming their folds)."""
    main = next(iter(results[0]["scores"]))
    s = np.array([r["scores"][main] for r in results])
    lines = [f"mean {main}: {s.mean():.4f} ± {s.std():.4f}"]
    if len(results[0]["scores"]) > 1:
        for m in list(results[0]["scores"])[1:]:
            v = np.array([r["scores"][m] for r in results])
            lines[0] += f"  (mean {m}: {v.mean():.4g})"
    notes: dict = {}
    for i, r in enumerate(results):
        if r["note"]:
            key = " ".join(r["note"].split()[:3])  # the same kind of note, numbers aside
            notes.setdefault(key, (r["note"], []))[1].append(str(i + 1))
    for note, which in notes.values():
        lines.append(f"note: fold{'s' * (len(which) > 1)} {', '.join(which)}: {note}")
    return lines
