"""The CLI's sidecar (``model.nnc.json``: the task, classes and preprocessing saved next to a
model) read like a model file: a bounded regular file, its JSON limited as the model header is,
then every field's type, length and range checked against the model it travels with, so a
tampered sidecar is a one-line error instead of a traceback or a silent broadcast."""

from __future__ import annotations

import math
import os
import stat
from typing import TYPE_CHECKING, Any

from ._format import ModelFileError, read_json

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+; annotations are not evaluated at run time
    from typing import TypeGuard

FORMAT = 2  # 2 added the regression target's standardization (target_mean, target_scale)
FORMATS = (1, 2)
MAX_BYTES = 64 << 20  # a sidecar holds names, categories and one mean/scale per column
TASKS = ("classification", "regression")
IMPUTE = ("none", "mean", "median", "zero")


class SidecarError(ValueError):
    """A sidecar that does not fit its model; the message is one line naming the file."""


def read_sidecar(path: str, input_dim: int, output_dim: int) -> dict[str, Any]:
    """The validated sidecar of a model with these input and output widths."""
    meta = read_json(_read_regular(path), path)
    return check_sidecar(meta, path, input_dim, output_dim)


def _read_regular(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise SidecarError(f"{path}: cannot open the sidecar ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SidecarError(f"{path}: the sidecar is not a regular file")
        if st.st_size > MAX_BYTES:
            raise SidecarError(f"{path}: {st.st_size} bytes is more than a sidecar holds")
        return f.read(MAX_BYTES + 1)


def check_sidecar(meta: Any, path: str, input_dim: int, output_dim: int) -> dict[str, Any]:
    """``meta`` if every field fits a model of these widths, else SidecarError naming the field."""

    def bad(what: str) -> SidecarError:
        return SidecarError(f"{path}: {what}")

    if not isinstance(meta, dict):
        raise bad("the sidecar must be a JSON object")
    if meta.get("format") not in FORMATS:
        raise bad(f"format must be 1 or 2, got {_show(meta.get('format'))}")
    if meta.get("task") not in TASKS:
        raise bad(f"task must be one of {', '.join(TASKS)}, got {_show(meta.get('task'))}")
    if not isinstance(meta.get("target"), str):
        raise bad("target must be a column name")
    classes = meta.get("classes")
    if meta["task"] == "classification":
        if not _strings(classes) or len(classes) != output_dim or len(set(classes)) != len(classes):
            raise bad(f"classes must be {output_dim} distinct names, one per model output")
    elif classes is not None or output_dim != 1:
        raise bad("a regression sidecar has no classes and its model one output")
    _check_target_scaling(meta, bad)
    if "table" in meta:
        _check_table(meta["table"], bad, input_dim)
        return meta
    features = meta.get("features")
    if not _strings(features) or len(features) != input_dim or len(set(features)) != input_dim:
        raise bad(f"features must be {input_dim} distinct column names (the model's inputs)")
    _numbers(meta.get("mean"), input_dim, "mean", bad)
    _numbers(meta.get("scale"), input_dim, "scale", bad, positive=True)
    return meta


def _check_target_scaling(meta: dict, bad) -> None:
    """Format 2 regression sidecars say how the target was standardized for training."""
    scaled = meta["format"] >= 2 and meta["task"] == "regression"
    for key in ("target_mean", "target_scale"):
        if not scaled:
            if key in meta:
                raise bad(f"{key} belongs to a format 2 regression sidecar only")
            continue
        v = meta.get(key)
        if (
            not isinstance(v, (int, float))
            or isinstance(v, bool)
            or not math.isfinite(v)
            or (key == "target_scale" and v <= 0)
        ):
            kind = "a positive finite number" if key == "target_scale" else "a finite number"
            raise bad(f"{key} must be {kind}")


def _check_table(t: Any, bad, input_dim: int) -> None:
    if not isinstance(t, dict):
        raise bad("table must be an object")
    names, kinds = t.get("names"), t.get("kinds")
    if not _strings(names) or len(set(names)) != len(names) or not names:
        raise bad("table.names must be distinct column names")
    if not isinstance(kinds, list) or len(kinds) != len(names):
        raise bad("table.kinds must give one kind per name")
    if any(k not in ("numeric", "categorical") for k in kinds):
        raise bad("table.kinds must be 'numeric' or 'categorical'")
    if t.get("impute") not in IMPUTE:
        raise bad(f"table.impute must be one of {', '.join(IMPUTE)}")
    if not isinstance(t.get("indicator"), bool):
        raise bad("table.indicator must be true or false")
    n_num = kinds.count("numeric")
    n_cat = len(kinds) - n_num
    cats = t.get("categories")
    if not isinstance(cats, list) or len(cats) != n_cat:
        raise bad(f"table.categories must hold {n_cat} lists, one per categorical column")
    for c in cats:
        if not _strings(c) or c != sorted(set(c)):
            raise bad("table.categories must be sorted lists of distinct strings")
    n_ind = 0
    if t["impute"] != "none":
        _numbers(t.get("impute_values"), n_num, "table.impute_values", bad)
        ind = t.get("indicator_columns")
        if (
            not isinstance(ind, list)
            or not all(isinstance(j, int) and not isinstance(j, bool) for j in ind)
            or ind != sorted(set(ind))
            or any(not 0 <= j < n_num for j in ind)
            or (ind and not t["indicator"])
        ):
            raise bad(f"table.indicator_columns must be increasing numeric columns in [0, {n_num})")
        n_ind = len(ind)
    elif "impute_values" in t or "indicator_columns" in t:
        raise bad("table.impute is 'none' but imputation values are given")
    if n_num:
        _numbers(t.get("mean"), n_num, "table.mean", bad)
        _numbers(t.get("scale"), n_num, "table.scale", bad, positive=True)
    width = n_num + n_ind + n_cat
    if width != input_dim:
        raise bad(f"the table gives {width} model inputs, the model takes {input_dim}")


def _strings(v: Any) -> TypeGuard[list[str]]:
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _numbers(v: Any, n: int, what: str, bad, positive: bool = False) -> None:
    if (
        not isinstance(v, list)
        or len(v) != n
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        or not all(math.isfinite(x) and (not positive or x > 0) for x in v)
    ):
        kind = "positive finite numbers" if positive else "finite numbers"
        raise bad(f"{what} must be {n} {kind}")


def _show(v: Any) -> str:
    return repr(v)[:60]


__all__ = ["FORMAT", "FORMATS", "ModelFileError", "SidecarError", "check_sidecar", "read_sidecar"]
