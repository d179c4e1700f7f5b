"""The ``nncore`` command line.

    nncore                                 5-fold stratified CV on the embedded digits data
    nncore cv DATA --target COL [options]  k-fold cross-validation, per-fold scores, mean ± std
    nncore train DATA --target COL --out model.nnc [options]
    nncore predict model.nnc DATA [--out preds.csv] [--proba]

DATA is a CSV file with a header row (the separator is detected, ``--sep`` sets it) or an .npz
file with arrays ``X`` and ``y``. A target that is not numeric, or holds few distinct integers, is
a classification target (``--task`` overrides); rows without a target value are dropped and
counted. Features are standardized inside each fold with statistics of the training part only;
a regression target is standardized for training and predictions come back in its units.
Training stops early when the loss on a held-out part of the training rows stops improving
(``--no-early-stopping`` turns it off). ``train`` writes the model file plus a sidecar
``<out>.json`` holding what ``predict`` needs besides the network: the task, the class names, the
feature columns and their preprocessing. Bad input prints one line to stderr and exits with
status 2; argument errors are found before any data is read.

Mixed tables (``nncore._cli_table``): ``--categorical auto`` turns every column holding text into
integer codes that feed learned embeddings (``nc.TabularInput``; ``--embed-dim`` sets their
width), and ``--impute mean|median|zero`` fills missing numeric cells (empty, NA, NaN, ?, null),
with ``--missing-indicator`` adding a 0/1 column per column that had missing values. Codes,
fill values and standardization come from the training rows (each fold's training part in
``cv``) and are saved in the sidecar; ``predict`` applies them, and a category unseen in
training reads the embedding's reserved "unknown" row.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time

import numpy as np

from . import _cli_args
from ._cli_data import DataError, Dataset, load
from ._cli_fit import ModelFactory, fit_model, log, scores
from ._cli_folds import describe_data, factory, jobs_for, prepare, run_cv, splitter, summary
from ._cli_table import TableError, TablePrep, read_cells

DEFAULTS = _cli_args.DEFAULTS
SIDECAR_FORMAT = 2

__all__ = ["CLIError", "DEFAULTS", "ModelFactory", "build_parser", "cmd_cv", "cmd_predict",
           "cmd_train", "cv_splitter", "main", "sidecar_path"]  # fmt: skip


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit status 2."""


def cv_splitter(task, folds, seed):
    """The splitter ``nncore cv`` uses: shuffled k-fold, stratified for classification.

    Parameters
    ----------
    task : {"classification", "regression"}
        Stratify by class for classification.
    folds : int
        The number of folds (>= 2).
    seed : int
        Seeds the shuffle.

    Returns
    -------
    StratifiedKFold or KFold
        An ``nncore.model_selection`` splitter.
    """
    return splitter(task, folds, seed)


def sidecar_path(model_path) -> str:
    """The sidecar that travels with a model file: ``<model_path>.json``.

    Parameters
    ----------
    model_path : str or path-like
        The model file.

    Returns
    -------
    str
        The sidecar's path.
    """
    return os.fspath(model_path) + ".json"


def _dataset(args) -> Dataset:
    try:
        return load(args.data, args.target, task=args.task, categorical=args.categorical,
                    impute=args.impute, sep=args.sep, encoding=args.encoding,
                    decimal=args.decimal)  # fmt: skip
    except DataError as e:
        raise CLIError(str(e)) from None


def _header(ds, spec, prep, what: str) -> None:
    log(describe_data(ds, prep))
    log(f"model: {factory(ds, spec, prep).describe()}; {spec.fit.describe()}; {what}")


def _footer(t0: float, jobs: int = 1) -> None:
    import nncore as nc

    threads = nc.get_num_threads()
    if jobs > 1:  # run_cv gives each fold threads // jobs
        threads = max(1, threads // jobs)
    how = f"{threads} thread{'s' * (threads != 1)}"
    if jobs > 1:
        how = f"{jobs} folds at a time, {how} each"
    log(f"total time: {time.perf_counter() - t0:.3f} s ({nc.config()['isa']}, {how})")


def cmd_cv(args) -> int:
    """``nncore cv``: k-fold cross-validation with one line per fold and the mean ± std.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``cv`` arguments (see ``nncore cv --help``).

    Returns
    -------
    int
        The exit status (0).
    """
    spec = _cli_args.spec(args)
    ds = _dataset(args)
    if ds.classes is not None:
        counts = np.bincount(ds.y, minlength=len(ds.classes))
        if counts.min() < args.folds:
            j = int(np.argmin(counts))
            raise CLIError(
                f"class {ds.classes[j]!r} has only {counts[j]} member(s), fewer than "
                f"n_splits={args.folds} (use fewer --folds)"
            )
    try:
        folds = list(splitter(ds.task, args.folds, args.seed).split(ds.cells, ds.y))
    except ValueError as e:
        raise CLIError(str(e)) from None
    strat = "stratified " if ds.task == "classification" else ""
    _header(ds, spec, prepare(ds, spec), f"{args.folds}-fold {strat}CV (seed {args.seed})")
    t0 = time.perf_counter()
    jobs = jobs_for(args.jobs, args.folds, args.verbose)
    results = run_cv(ds, spec, folds, jobs)
    for line in summary(results):
        log(line)
    _footer(t0, jobs)
    return 0


def cmd_train(args) -> int:
    """``nncore train``: train on every row and write the model file and its sidecar.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``train`` arguments (see ``nncore train --help``).

    Returns
    -------
    int
        The exit status (0).
    """
    from .io import write_atomic

    spec = _cli_args.spec(args)
    ds = _dataset(args)
    prep = prepare(ds, spec)
    _header(ds, spec, prep, "trained on every row")
    t0 = time.perf_counter()
    X = prep.transform(ds.cells)
    f = fit_model(factory(ds, spec, prep), X, ds.y, spec.fit)
    ep = f"{f.epochs_run} epochs" + (f", best {f.best_epoch}" if f.best_epoch else "")
    s = "  ".join(f"{k} {v:.4f}" for k, v in scores(ds.task, ds.y, f.predict(X)).items())
    log(f"trained: {ep}; training {s}")
    if f.note:
        log(f"note: {f.note}")
    f.model.save(args.out)
    meta = _sidecar(ds, prep, f)
    write_atomic(sidecar_path(args.out), [json.dumps(meta, indent=1).encode("utf-8")])
    log(f"wrote {args.out} and {sidecar_path(args.out)}")
    _footer(t0)
    return 0


def _sidecar(ds: Dataset, prep: TablePrep, f) -> dict:
    meta = {"format": SIDECAR_FORMAT, "task": ds.task, "target": ds.target,
            "classes": ds.classes, "features": ds.names}  # fmt: skip
    if ds.task == "regression":
        meta["target_mean"], meta["target_scale"] = f.y_mean, f.y_scale
    if any(ds.kinds) or prep.impute != "none":
        meta["table"] = prep.to_json()
    else:  # a plain numeric table: its standardization, as the first sidecars had it
        assert prep.scaler is not None  # a table without categorical columns has numeric ones
        meta["mean"], meta["scale"] = prep.scaler.mean_.tolist(), prep.scaler.scale_.tolist()
    return meta


def cmd_predict(args) -> int:
    """``nncore predict``: predictions (or ``--proba`` class probabilities) for a table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``predict`` arguments (see ``nncore predict --help``).

    Returns
    -------
    int
        The exit status (0).
    """
    import nncore as nc

    from ._format import ModelFileError
    from ._sidecar import SidecarError, read_sidecar

    if not os.path.exists(args.model):
        raise CLIError(f"{args.model}: no such file")
    side = sidecar_path(args.model)
    if not os.path.exists(side):
        raise CLIError(f"{side}: missing (the sidecar written by 'nncore train' with the model)")
    model = nc.load(args.model)
    try:  # checked against the model it travels with, like a model file against its arrays
        width = int(model.input_dim or 0)  # a loaded model is built: its input_dim is known
        outputs = model.predict(np.zeros((1, width), np.float32)).shape[1]
        meta = read_sidecar(side, width, outputs)
    except (SidecarError, ModelFileError) as e:
        raise CLIError(str(e)) from None
    if args.proba and meta["task"] != "classification":
        raise CLIError(f"--proba: {args.model} is a regression model (no class probabilities)")
    out = model.predict(_predict_inputs(args, meta))
    if meta["task"] == "regression":
        out = out * meta.get("target_scale", 1.0) + meta.get("target_mean", 0.0)
    return _write_predictions(args, meta, out)


def _predict_inputs(args, meta) -> np.ndarray:
    try:
        prep = TablePrep.from_json(meta["table"] if "table" in meta else _numeric_table(meta))
        if args.data.endswith(".npz"):
            from ._cli_data import read_npz

            cells, _ = read_npz(args.data)
            names, lines = [f"x{j}" for j in range(cells.shape[1])], None
        else:
            cells, _, names, lines = read_cells(args.data, None, args.sep, args.encoding,
                                                args.decimal)  # fmt: skip
        missing = [c for c in prep.names if c not in names]
        if missing:
            raise CLIError(
                f"{args.data}: missing feature column(s) {', '.join(map(repr, missing))}"
            )
        return prep.transform(cells[:, [names.index(c) for c in prep.names]], lines)
    except (TableError, DataError, KeyError, TypeError) as e:
        raise CLIError(str(e)) from None


def _numeric_table(meta) -> dict:
    """A plain numeric sidecar (features, mean, scale) as a table section."""
    n = len(meta["features"])
    return {"names": meta["features"], "kinds": ["numeric"] * n, "impute": "none",
            "indicator": False, "categories": [], "mean": meta["mean"],
            "scale": meta["scale"]}  # fmt: skip


def _write_predictions(args, meta, out) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if args.proba:
        w.writerow(meta["classes"])
        w.writerows([[f"{v:.6g}" for v in row] for row in out])
    elif meta["task"] == "classification":
        w.writerow([meta["target"]])
        w.writerows([[c] for c in np.asarray(meta["classes"])[np.argmax(out, axis=1)]])
    else:
        w.writerow([meta["target"]])
        w.writerows([[f"{v:.6g}"] for v in out[:, 0]])
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``nncore`` argument parser (the CLI reference is generated from it).

    Returns
    -------
    argparse.ArgumentParser
        With the subcommands ``cv``, ``train`` and ``predict``.
    """
    return _cli_args.build_parser(CLIError, {"cv": cmd_cv, "train": cmd_train,
                                             "predict": cmd_predict})  # fmt: skip


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``). No command runs ``cv``, on the embedded digits
        data when no file is given either.

    Returns
    -------
    int
        The exit status: 0, 2 for bad input (one line on stderr), 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--cmake-dir"], ["--include"]):  # paths of the installed C++ API
        from . import cpp_paths

        try:
            print(cpp_paths.cmake_dir() if argv[0] == "--cmake-dir" else cpp_paths.include_dir())
        except FileNotFoundError as e:
            print(f"nncore: error: {e}", file=sys.stderr)
            return 2
        return 0
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["cv", *argv]  # no command: CV on the embedded digits data
    try:
        args = build_parser().parse_args(argv)
        _cli_args.check(args, CLIError)  # every argument, before any data is read
        return args.func(args)
    except SystemExit as e:  # --help, --version
        return int(e.code or 0)
    except CLIError as e:
        print(f"nncore: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, ImportError) as e:
        from .io import ModelFileError

        kind = "" if isinstance(e, (ValueError, ModelFileError)) else f"{type(e).__name__}: "
        print(f"nncore: error: {kind}{e}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nncore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
