"""The ``nncore`` command line.

    nncore                                 5-fold stratified CV on the embedded digits data
    nncore cv DATA --target COL [options]  k-fold cross-validation, per-fold scores, mean ± std
    nncore train DATA --target COL --out model.nnc [options]
    nncore predict model.nnc DATA [--out preds.csv]

DATA is a CSV file with a header row (every column but the target must be numeric) or an .npz
file with arrays ``X`` and ``y``. A target that is not numeric, or holds few distinct integers, is
a classification target (``--task`` overrides). Features are standardized inside each fold with
statistics of the training part only. ``train`` writes the model file plus a sidecar
``<out>.json`` holding what ``predict`` needs besides the network: the task, the class names (so
predictions print the original labels), the feature columns and the standardization (mean,
scale). Bad input prints one line to stderr and exits with status 2.

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
import json
import os
import sys
import time

import numpy as np

SIDECAR_FORMAT = 1
_F32_MAX = float(np.finfo(np.float32).max)  # features are float32 in the core, as in fit
# Target cells that mean "no value" (the tables' missing spellings): a row without a target is an
# error, never a class of its own.
_MISSING_TARGET = frozenset({"", "na", "n/a", "nan", "null", "?"})
# Tuned on digits for >= 0.975 mean 5-fold accuracy at the least time (every seed 0-5 tried
# scores >= 0.977 with 96 units, Adam lr 3e-3, 30 epochs; 64 units need ~50 epochs for that).
DEFAULTS = {"hidden": "96", "epochs": 30, "batch_size": 32, "lr": 3e-3, "folds": 5}


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit status 2."""


# ---------------------------------------------------------------------------------- data input


def _parse_float(s: str):
    try:
        return float(s)
    except ValueError:
        return None


def read_table(path: str, target: str | None):
    """(X float64 (n, d), y raw labels/values (n,) or None, feature names, target name)."""
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if path.endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as z:
                if "X" not in z:
                    raise CLIError(
                        f"{path}: the .npz file has no array 'X' (found: {', '.join(z.files)})"
                    )
                X = np.asarray(z["X"])
                y = np.asarray(z["y"]) if "y" in z else None
        except CLIError:
            raise
        except Exception as e:
            raise CLIError(f"{path}: cannot read .npz file ({e})") from None
        if X.ndim != 2:
            raise CLIError(f"{path}: X must be 2-D, got shape {X.shape}")
        if X.dtype.kind not in "fiub":
            raise CLIError(f"{path}: X must be numeric, got dtype {X.dtype}")
        X = X.astype(np.float64)
        if not (np.isfinite(X) & (np.abs(X) <= _F32_MAX)).all():
            i, j = np.argwhere(~(np.isfinite(X) & (np.abs(X) <= _F32_MAX)))[0]
            raise CLIError(
                f"{path}: X has the value {X[i, j]!r} at row {i}, column {j}: features must be "
                "finite float32 numbers (|x| <= 3.4e38), as fit requires"
            )
        if y is not None and len(y) != len(X):
            raise CLIError(f"{path}: X has {len(X)} rows but y has {len(y)}")
        return X, y, [f"x{j}" for j in range(X.shape[1])], target or "y"
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CLIError(f"{path}: cannot read CSV ({e})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise CLIError(f"{path}: expected a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise CLIError(f"{path}: line {i} has {len(r)} fields, the header has {len(header)}")
    ti = None
    if target is not None:
        if target not in header:
            raise CLIError(f"{path}: no target column {target!r} (columns: {', '.join(header)})")
        ti = header.index(target)
    names = [h for j, h in enumerate(header) if j != ti]
    if not names:
        raise CLIError(f"{path}: no feature columns besides the target")
    X = np.empty((len(rows) - 1, len(names)), np.float64)
    for i, r in enumerate(rows[1:]):
        k = 0
        for j, cell in enumerate(r):
            if j == ti:
                continue
            v = _parse_float(cell.strip())
            if v is not None and np.isfinite(v) and abs(v) > _F32_MAX:
                raise CLIError(
                    f"{path}: feature value {cell.strip()!r} in column {header[j]!r}, line {i + 2} "
                    "does not fit float32 (|x| <= 3.4e38), as fit requires"
                )
            if v is None or not np.isfinite(v):
                raise CLIError(
                    f"{path}: non-numeric feature value {cell!r} in column {header[j]!r}, line "
                    f"{i + 2} (--categorical auto encodes text columns, --impute fills missing "
                    "values)"
                )
            X[i, k] = v
            k += 1
    y = None if ti is None else np.array([r[ti].strip() for r in rows[1:]])
    return X, y, names, target


def encode_target(y, task: str):
    """(task, encoded y, class names or None). Classification targets become 0..k-1."""
    if y.dtype.kind in "US":
        blank = [i for i, c in enumerate(y) if str(c).strip().lower() in _MISSING_TARGET]
        if blank:
            raise CLIError(
                f"missing target value {str(y[blank[0]]).strip()!r} on data row {blank[0] + 1} "
                f"({len(blank)} row(s) in all): every row needs a target"
            )
    if y.dtype.kind == "u" and y.size and int(y.max()) > np.iinfo(np.int64).max:
        raise CLIError("integer targets must fit int64 (|y| < 2**63)")
    vals = None
    if y.dtype.kind in "fiub":
        vals = y.astype(np.float64)
    else:
        parsed = [_parse_float(s) for s in y]
        if all(p is not None for p in parsed):
            vals = np.array(parsed, dtype=np.float64)
    if task == "auto":
        if vals is None:
            task = "classification"
        else:
            integral = np.all(vals == np.round(vals))
            task = "classification" if integral and len(np.unique(vals)) <= 50 else "regression"
    if task == "regression":
        if vals is None:
            raise CLIError("the target column is not numeric: use --task classification")
        if not np.isfinite(vals).all():
            raise CLIError("the target column has non-finite values")
        return task, vals.astype(np.float32), None
    if y.dtype.kind in "iu":  # exact: no trip through float64
        classes, enc = np.unique(y.astype(np.int64), return_inverse=True)
        names = [str(int(c)) for c in classes]
    elif vals is not None and np.all(vals == np.round(vals)):
        if np.abs(vals).max() >= 2.0**53:
            i = int(np.argmax(np.abs(vals) >= 2.0**53))
            raise CLIError(
                f"integer class label {str(y[i]).strip()!r} (data row {i + 1}) is beyond 2**53: "
                "labels that large do not stay distinct as numbers (and must fit int64); "
                "write them as text labels"
            )
        classes, enc = np.unique(vals.astype(np.int64), return_inverse=True)
        names = [str(int(c)) for c in classes]
    else:
        classes, enc = np.unique(y.astype(str), return_inverse=True)
        names = [str(c) for c in classes]
    if len(names) < 2:
        raise CLIError(f"the target has a single class ({names[0]!r}); nothing to classify")
    return task, enc.astype(np.int32), names


def load_data(args):
    """(X, y encoded, task, class names, feature names, target name, description)."""
    if args.data is None:
        import nncore as nc

        X, y = nc.datasets.load_digits(return_X_y=True)
        X = np.asarray(X, np.float64)
        names = [f"pixel{j}" for j in range(X.shape[1])]
        return (
            X,
            np.asarray(y, np.int32),
            "classification",
            [str(i) for i in range(10)],
            names,
            "digit",
            "digits",
        )
    if args.target is None and not args.data.endswith(".npz") and os.path.exists(args.data):
        raise CLIError(f"{args.data}: which column is the target? pass --target COLUMN")
    X, y, names, target = read_table(args.data, args.target)
    if y is None:
        raise CLIError(
            f"{args.data}: no target: pass --target COLUMN"
            if not args.data.endswith(".npz")
            else f"{args.data}: the .npz file has no array 'y'"
        )
    task, y_enc, classes = encode_target(y, args.task)
    return X, y_enc, task, classes, names, target, os.path.basename(args.data)


# ------------------------------------------------------------------------------------ the model


class ModelFactory:
    """Builds a fresh compiled MLP (picklable, for parallel folds)."""

    def __init__(
        self,
        n_in,
        n_out,
        task,
        hidden,
        activation="relu",
        dropout=0.0,
        batchnorm=False,
        optimizer="adam",
        lr=1e-3,
        l2=0.0,
        seed=0,
        first=None,
    ):
        self.n_in, self.n_out, self.task, self.hidden = n_in, n_out, task, hidden
        self.activation, self.dropout, self.batchnorm = activation, dropout, batchnorm
        self.optimizer, self.lr, self.l2, self.seed = optimizer, lr, l2, seed
        self.first = first  # an input layer (TabularInput) or None

    def __call__(self):
        import nncore as nc

        from ._mlp import build_mlp

        classify = self.task == "classification"
        return build_mlp(
            self.n_in,
            self.n_out,
            self.hidden,
            self.activation,
            batchnorm=self.batchnorm,
            dropout=self.dropout,
            l2=self.l2,
            seed=self.seed,
            optimizer=nc.optim.get(self.optimizer, lr=self.lr),
            loss="cross_entropy" if classify else "mse",
            metrics=["accuracy"] if classify else None,
            first=self.first,
        )

    def describe(self) -> str:
        arch = "-".join(str(v) for v in [self.n_in, *self.hidden, self.n_out])
        if self.first is not None:
            arch = "embeddings-" + arch
        extra = (" batchnorm" if self.batchnorm else "") + (
            f" dropout {self.dropout}" if self.dropout else ""
        )
        return f"MLP {arch} {self.activation}{extra}, {self.optimizer} lr={self.lr:g}"


def _hidden(text: str):
    try:
        h = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(
            f"--hidden: expected comma-separated widths such as 128,64, got {text!r}"
        ) from None
    if any(v < 1 for v in h):
        raise CLIError(f"--hidden: widths must be positive, got {text!r}")
    return h


def _factory(args, X, task, classes, first=None):
    return ModelFactory(
        X.shape[1],
        len(classes) if task == "classification" else 1,
        task,
        _hidden(args.hidden),
        args.activation,
        args.dropout,
        args.batchnorm,
        args.optimizer,
        args.lr,
        args.l2,
        args.seed,
        first,
    )


def _check_common(args):
    if args.epochs < 1:
        raise CLIError(f"--epochs must be >= 1, got {args.epochs}")
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not 0.0 <= args.dropout < 1.0:
        raise CLIError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.lr <= 0:
        raise CLIError(f"--lr must be > 0, got {args.lr}")
    if args.embed_dim is not None and args.embed_dim < 1:
        raise CLIError(f"--embed-dim must be >= 1, got {args.embed_dim}")
    if args.missing_indicator and args.impute == "none":
        raise CLIError("--missing-indicator needs --impute mean|median|zero")
    if args.threads is not None:
        if args.threads < 1:
            raise CLIError(f"--threads must be >= 1, got {args.threads}")
        import nncore as nc

        nc.set_num_threads(args.threads)


# ------------------------------------------------------------------------------------ commands


def cv_splitter(task, folds, seed):
    from .model_selection import KFold, StratifiedKFold

    if task == "classification":
        return StratifiedKFold(folds, shuffle=True, seed=seed)
    return KFold(folds, shuffle=True, seed=seed)


def cmd_cv(args) -> int:
    import nncore as nc

    from .model_selection import cross_validate

    _check_common(args)
    if args.folds < 2:
        raise CLIError(f"--folds must be >= 2, got {args.folds}")
    if _mixed(args):
        return _cv_mixed(args)
    X, y, task, classes, _, _, desc = load_data(args)
    factory = _factory(args, X, task, classes)
    splitter = cv_splitter(task, args.folds, args.seed)
    scoring = ["accuracy"] if task == "classification" else ["r2", "mse"]
    if task == "classification":
        counts = np.bincount(y, minlength=len(classes))
        if counts.min() < args.folds:
            j = int(np.argmin(counts))
            raise CLIError(
                f"class {classes[j]!r} has only {counts[j]} member(s), fewer than "
                f"n_splits={args.folds} (use fewer --folds)"
            )
    try:
        folds = list(splitter.split(X, y))
    except ValueError as e:
        raise CLIError(str(e)) from None
    what = f"{len(classes)} classes" if classes else "regression"
    print(
        f"{desc}: {X.shape[0]} rows, {X.shape[1]} features, {what}; {factory.describe()}, "
        f"{args.epochs} epochs, batch {args.batch_size}, {args.folds}-fold "
        f"{'stratified ' if task == 'classification' else ''}CV"
    )
    t0 = time.perf_counter()
    res = cross_validate(
        factory,
        X,
        y,
        folds,
        scoring=scoring,
        standardize=True,
        fit_params={"epochs": args.epochs, "batch_size": args.batch_size},
        return_train_score=False,
        n_jobs=args.jobs,
    )
    total = time.perf_counter() - t0
    main = scoring[0]
    for i in range(len(folds)):
        extra = "".join(f"  {m} {res['test_' + m][i]:.4f}" for m in scoring[1:])
        print(
            f"fold {i + 1}: {main} {res['test_' + main][i]:.4f}{extra}  "
            f"({res['fit_time'][i] + res['score_time'][i]:.3f} s)"
        )
    s = res["test_" + main]
    print(f"mean {main}: {s.mean():.4f} ± {s.std():.4f}")
    print(f"total time: {total:.3f} s ({nc.config()['isa']}, {nc.get_num_threads()} threads)")
    return 0


def sidecar_path(model_path: str) -> str:
    return os.fspath(model_path) + ".json"


def cmd_train(args) -> int:
    from .io import write_atomic
    from .preprocessing import Standardizer

    _check_common(args)
    if _mixed(args):
        return _train_mixed(args)
    X, y, task, classes, names, target, desc = load_data(args)
    factory = _factory(args, X, task, classes)
    scaler = Standardizer().fit(X)
    model = factory()
    t0 = time.perf_counter()
    model.fit(scaler.transform(X), y, epochs=args.epochs, batch_size=args.batch_size)
    elapsed = time.perf_counter() - t0
    out = args.out
    model.save(out)
    meta = {
        "format": SIDECAR_FORMAT,
        "task": task,
        "target": target,
        "classes": classes,
        "features": names,
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
    }
    write_atomic(sidecar_path(out), [json.dumps(meta, indent=1).encode("utf-8")])
    ev = model.evaluate(scaler.transform(X), y)
    score = ", ".join(f"{k} {v:.4f}" for k, v in ev.items())
    print(
        f"{desc}: trained {factory.describe()} on {X.shape[0]} rows in {elapsed:.3f} s "
        f"(training {score}); wrote {out} and {sidecar_path(out)}"
    )
    return 0


def cmd_predict(args) -> int:
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
    if "table" in meta:
        return _write_predictions(args, meta, _predict_mixed(model, meta, args.data))
    if args.data.endswith(".npz"):
        X, _, _, _ = read_table(args.data, None)
    else:
        X, _, names, _ = read_table(
            args.data, meta["target"] if _has_column(args.data, meta["target"]) else None
        )
        missing = [c for c in meta["features"] if c not in names]
        if missing:
            raise CLIError(
                f"{args.data}: missing feature column(s) {', '.join(map(repr, missing))}"
            )
        X = X[:, [names.index(c) for c in meta["features"]]]
    features, mean, scale = meta["features"], np.asarray(meta["mean"]), np.asarray(meta["scale"])
    if X.shape[1] != len(features):
        raise CLIError(f"{args.data}: expected {len(features)} features, got {X.shape[1]}")
    out = model.predict(((X - mean) / scale).astype(np.float32))
    return _write_predictions(args, meta, _decode(out, meta))


def _decode(out, meta):
    if meta["task"] == "classification":
        return np.asarray(meta["classes"])[np.argmax(out, axis=1)]
    return np.array([f"{v:.6g}" for v in out[:, 0]])


def _write_predictions(args, meta, preds) -> int:
    lines = [meta["target"], *preds.tolist()]
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


# ------------------------------------------------------------------ mixed tables (_cli_table)


def _mixed(args) -> bool:
    return args.categorical == "auto" or args.impute != "none"


def _load_mixed(args):
    """(cells, y encoded, task, classes, feature names, target, kinds)."""
    from ._cli_table import TableError, column_kinds, read_cells

    if args.data is None or args.data.endswith(".npz"):
        raise CLIError("--categorical and --impute read CSV files")
    if args.target is None:
        raise CLIError(f"{args.data}: which column is the target? pass --target COLUMN")
    try:
        cells, y, names = read_cells(args.data, args.target)
        kinds = column_kinds(cells, names, args.categorical)
    except TableError as e:
        raise CLIError(str(e)) from None
    task, y_enc, classes = encode_target(y, args.task)
    return cells, y_enc, task, classes, names, args.target, kinds


def _prep(args, names, kinds, cells):
    from ._cli_table import TableError, TablePrep

    try:
        return TablePrep(names, kinds, args.impute, args.missing_indicator).fit(cells)
    except TableError as e:
        raise CLIError(str(e)) from None


def _train_mixed(args) -> int:
    from .io import write_atomic

    cells, y, task, classes, names, target, kinds = _load_mixed(args)
    prep = _prep(args, names, kinds, cells)
    X = prep.transform(cells)
    factory = _factory(args, X, task, classes, prep.input_layer(args.embed_dim))
    model = factory()
    t0 = time.perf_counter()
    model.fit(X, y, epochs=args.epochs, batch_size=args.batch_size)
    elapsed = time.perf_counter() - t0
    model.save(args.out)
    meta = {
        "format": SIDECAR_FORMAT,
        "task": task,
        "target": target,
        "classes": classes,
        "features": names,
        "table": prep.to_json(),
    }
    write_atomic(sidecar_path(args.out), [json.dumps(meta, indent=1).encode("utf-8")])
    score = ", ".join(f"{k} {v:.4f}" for k, v in model.evaluate(X, y).items())
    print(
        f"{os.path.basename(args.data)}: {prep.describe()}; trained {factory.describe()} on "
        f"{X.shape[0]} rows in {elapsed:.3f} s (training {score}); wrote {args.out} and "
        f"{sidecar_path(args.out)}"
    )
    return 0


def _cv_mixed(args) -> int:
    """CV with the table preprocessing fitted on each fold's training part."""
    import nncore as nc

    if args.jobs != 1:
        raise CLIError("--jobs is not supported with --categorical / --impute (folds run in turn)")
    cells, y, task, classes, names, _, kinds = _load_mixed(args)
    try:
        folds = list(cv_splitter(task, args.folds, args.seed).split(cells, y))
    except ValueError as e:
        raise CLIError(str(e)) from None
    main = "accuracy" if task == "classification" else "r2"
    print(
        f"{os.path.basename(args.data)}: {len(y)} rows, {len(names)} features "
        f"({sum(kinds)} categorical), {len(classes) if classes else 'regression'}"
        f"{' classes' if classes else ''}; {args.folds}-fold CV, {args.epochs} epochs"
    )
    scores = []
    t0 = time.perf_counter()
    for i, (tr, te) in enumerate(folds):
        prep = _prep(args, names, kinds, cells[tr])
        Xtr, Xte = prep.transform(cells[tr]), prep.transform(cells[te])
        model = _factory(args, Xtr, task, classes, prep.input_layer(args.embed_dim))()
        model.fit(Xtr, y[tr], epochs=args.epochs, batch_size=args.batch_size)
        out = model.predict(Xte)
        if task == "classification":
            s = float(np.mean(np.argmax(out, axis=1) == y[te]))
        else:
            resid = ((out[:, 0] - y[te]) ** 2).sum()
            s = float(1 - resid / max(((y[te] - y[te].mean()) ** 2).sum(), 1e-300))
        scores.append(s)
        print(f"fold {i + 1}: {main} {s:.4f}")
    arr = np.asarray(scores)
    print(f"mean {main}: {arr.mean():.4f} ± {arr.std():.4f}")
    elapsed = time.perf_counter() - t0
    print(f"total time: {elapsed:.3f} s ({nc.config()['isa']}, {nc.get_num_threads()} threads)")
    return 0


def _predict_mixed(model, meta, path):
    from ._cli_table import TableError, TablePrep, read_cells

    try:
        prep = TablePrep.from_json(meta["table"])
        target = meta["target"] if _has_column(path, meta["target"]) else None
        cells, _, names = read_cells(path, target)
        missing = [c for c in prep.names if c not in names]
        if missing:
            raise CLIError(f"{path}: missing feature column(s) {', '.join(map(repr, missing))}")
        X = prep.transform(cells[:, [names.index(c) for c in prep.names]])
    except (TableError, KeyError, TypeError) as e:
        raise CLIError(str(e)) from None
    return _decode(model.predict(X), meta)


def _has_column(path, name) -> bool:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return False
    return name in [h.strip() for h in header]


# --------------------------------------------------------------------------------------- parser


def _model_options(p):
    p.add_argument("--target", help="the target column (CSV)")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    p.add_argument("--hidden", default=DEFAULTS["hidden"], help="hidden widths, e.g. 128,64")
    p.add_argument("--activation", default="relu")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batchnorm", action="store_true")
    p.add_argument("--l2", type=float, default=0.0)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--categorical",
        choices=["none", "auto"],
        default="none",
        help="auto: text columns become integer codes feeding learned embeddings",
    )
    p.add_argument("--embed-dim", type=int, default=None, help="embedding width (default: rule)")
    p.add_argument(
        "--impute",
        choices=["none", "mean", "median", "zero"],
        default="none",
        help="fill missing numeric cells with the training rows' statistic",
    )
    p.add_argument(
        "--missing-indicator", action="store_true", help="add a 0/1 column per imputed column"
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        raise CLIError(message)


def build_parser():
    parser = _Parser(
        prog="nncore",
        description="Train and evaluate MLPs with nncore. --cmake-dir / --include print where "
        "the C++ inference API (nncore/model.h) is installed.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser("cv", help="k-fold cross-validation")
    p.add_argument("data", nargs="?", default=None, help="CSV or NPZ (default: embedded digits)")
    _model_options(p)
    p.add_argument("--folds", type=int, default=DEFAULTS["folds"])
    p.add_argument("--jobs", type=int, default=1, help="folds in parallel (needs joblib)")
    p.set_defaults(func=cmd_cv)
    p = sub.add_parser("train", help="train on all rows and save the model")
    p.add_argument("data")
    _model_options(p)
    p.add_argument("--out", required=True, help="model file to write (plus <out>.json)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("predict", help="predict with a saved model")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", default=None, help="CSV to write (default: stdout)")
    p.set_defaults(func=cmd_predict)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--cmake-dir"], ["--include"]):  # paths of the installed C++ API
        from . import cpp_paths

        try:
            print(cpp_paths.cmake_dir() if argv[0] == "--cmake-dir" else cpp_paths.include_dir())
        except FileNotFoundError as e:
            print(f"nncore: error: {e}", file=sys.stderr)
            return 2
        return 0
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["cv", *argv]  # no command: CV on the embedded digits data
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
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
