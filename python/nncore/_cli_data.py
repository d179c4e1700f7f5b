"""The command line's data: a CSV, an .npz or the embedded digits as one :class:`Dataset` (feature
cells, encoded target, the file line of each row), rows without a target dropped and counted.
Parsing numbers and fitting the preprocessing live in ``nncore._cli_table``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ._cli_csv import decimal_commas
from ._cli_table import TableError, column_kinds, numeric_table, read_cells

_F32_MAX = float(np.finfo(np.float32).max)  # features are float32 in the core, as in fit
# Target cells that mean "no value": such a row is dropped (and counted), never a class of its
# own. "none" is left out on purpose: it is a plausible class label ("none of the above").
MISSING_TARGET = frozenset({"", "na", "n/a", "nan", "null", "?"})
TASKS = ("auto", "classification", "regression")


class DataError(ValueError):
    """A problem with the data, printed as one line."""


@dataclass
class Dataset:
    cells: np.ndarray  # (n, d): str cells of a CSV, or float64 values (.npz, digits)
    y: np.ndarray  # int32 class codes or float32 values
    task: str
    classes: list | None
    names: list  # feature column names
    target: str
    kinds: list  # True for each categorical column
    desc: str  # what the report calls the data
    lines: np.ndarray | None = None  # file line of each row (CSV only)
    dropped: list = field(default_factory=list)  # file lines of rows without a target
    notes: list = field(default_factory=list)  # what the report should point out


def load(path, target, *, task="auto", categorical="none", impute="none", sep=None,
         encoding="utf-8", decimal=".") -> Dataset:  # fmt: skip
    """The dataset at ``path`` (None: the embedded digits)."""
    if path is None:
        return _digits()
    if path.endswith(".npz"):
        X, y = read_npz(path)
        if y is None:
            raise DataError(f"{path}: the .npz file has no array 'y'")
        names = [f"x{j}" for j in range(X.shape[1])]
        task, y_enc, classes = encode_target(y, task)
        desc = os.path.basename(path)
        return Dataset(X, y_enc, task, classes, names, target or "y", [False] * len(names), desc)
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if target is None:
        raise DataError(f"{path}: which column is the target? pass --target COLUMN")
    try:
        cells, y, names, lines = read_cells(path, target, sep, encoding, decimal)
    except TableError as e:
        raise DataError(str(e)) from None
    keep = ~np.isin(np.char.lower(y.astype(str)), list(MISSING_TARGET))
    dropped = lines[~keep].tolist()
    if not keep.any():
        raise DataError(f"{path}: every row's target {target!r} is missing")
    cells, y, lines = cells[keep], y[keep], lines[keep]
    try:
        kinds = column_kinds(cells, names, categorical, impute, lines)
    except TableError as e:
        raise DataError(f"{path}: {e}" if not str(e).startswith(path) else str(e)) from None
    task, y_enc, classes = encode_target(y, task, lines)
    if not any(kinds):
        cells = numeric_table(cells, lines)
    base = os.path.basename(path)
    ds = Dataset(cells, y_enc, task, classes, names, target, kinds, base, lines, dropped)
    commas = [n for j, n in enumerate(names) if kinds[j] and decimal_commas(cells[:, j])]
    if commas:
        one = len(commas) == 1
        ds.notes.append(
            f"column{'' if one else 's'} {', '.join(map(repr, commas))} hold{'s' if one else ''} "
            "numbers with decimal commas but read as text: --decimal , reads them as numbers"
        )
    return ds


def _digits() -> Dataset:
    from .datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = np.asarray(X, np.float64)
    names = [f"pixel{j}" for j in range(X.shape[1])]
    classes = [str(i) for i in range(10)]
    return Dataset(X, np.asarray(y, np.int32), "classification", classes, names, "digit",
                   [False] * len(names), "digits")  # fmt: skip


def read_npz(path: str):
    """(X float64 (n, d), y or None) of an .npz file with arrays ``X`` and ``y``."""
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z:
                raise DataError(
                    f"{path}: the .npz file has no array 'X' (found: {', '.join(z.files)})"
                )
            X = np.asarray(z["X"])
            y = np.asarray(z["y"]) if "y" in z else None
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: cannot read .npz file ({e})") from None
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D, got shape {X.shape}")
    if X.dtype.kind not in "fiub":
        raise DataError(f"{path}: X must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    ok = np.isfinite(X) & (np.abs(X) <= _F32_MAX)
    if not ok.all():
        i, j = np.argwhere(~ok)[0]
        raise DataError(
            f"{path}: X has the value {X[i, j]!r} at row {i}, column {j}: features must be "
            "finite float32 numbers (|x| <= 3.4e38), as fit requires"
        )
    if y is not None and len(y) != len(X):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)}")
    return X, y


def _where(i: int, lines) -> str:
    return f"line {int(lines[i])}" if lines is not None else f"data row {i + 1}"


def _as_numbers(y):
    if y.dtype.kind in "fiub":
        return y.astype(np.float64)
    try:
        return np.asarray(y, dtype=str).astype(np.float64)
    except ValueError:
        return None


def encode_target(y, task: str = "auto", lines=None):
    """(task, encoded y, class names or None). Classification targets become 0..k-1; ``auto``
    reads a non-numeric target, or one of at most 50 distinct integers, as classes."""
    if y.dtype.kind == "u" and y.size and int(y.max()) > np.iinfo(np.int64).max:
        raise DataError("integer targets must fit int64 (|y| < 2**63)")
    vals = _as_numbers(y)
    if task == "auto":
        if vals is None:
            task = "classification"
        else:
            integral = np.all(vals == np.round(vals))
            task = "classification" if integral and len(np.unique(vals)) <= 50 else "regression"
    if task == "regression":
        if vals is None:
            i = next(i for i, s in enumerate(y) if _as_numbers(np.array([s])) is None)
            raise DataError(
                f"the target column is not numeric ({str(y[i])!r} on {_where(i, lines)}): "
                "use --task classification"
            )
        if not np.isfinite(vals).all():
            i = int(np.argmax(~np.isfinite(vals)))
            raise DataError(f"the target has the non-finite value {str(y[i])!r} on "
                            f"{_where(i, lines)}")  # fmt: skip
        return task, vals.astype(np.float32), None
    if y.dtype.kind in "iu":  # exact: no trip through float64
        classes, enc = np.unique(y.astype(np.int64), return_inverse=True)
        names = [str(int(c)) for c in classes]
    elif vals is not None and np.all(vals == np.round(vals)):
        if np.abs(vals).max() >= 2.0**53:
            i = int(np.argmax(np.abs(vals) >= 2.0**53))
            raise DataError(
                f"integer class label {str(y[i]).strip()!r} ({_where(i, lines)}) is beyond "
                "2**53: labels that large do not stay distinct as numbers (and must fit int64); "
                "write them as text labels"
            )
        classes, enc = np.unique(vals.astype(np.int64), return_inverse=True)
        names = [str(int(c)) for c in classes]
    else:
        classes, enc = np.unique(y.astype(str), return_inverse=True)
        names = [str(c) for c in classes]
    if len(names) < 2:
        raise DataError(f"the target has a single class ({names[0]!r}); nothing to classify")
    return task, enc.astype(np.int32), names
