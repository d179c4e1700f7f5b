"""Input checks shared by the public API: one place that turns user data into what the core takes.

Policy: features become C-contiguous float32 (float64, integer and bool input is converted; object,
string, complex and structured arrays are rejected); NaN/inf are rejected naming the first bad cell;
empty arrays and wrong shapes are rejected with the expected shape in the message.
"""

from __future__ import annotations

import numpy as np

_MAX_INT32 = 2**31 - 1


def _as_numeric(a, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{name}: cannot be converted to an array ({e})") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name}: expected a numeric array (float, int or bool), got dtype {arr.dtype}"
        )
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = ", ".join(str(int(i)) for i in bad)
        value = arr[tuple(bad)]
        raise ValueError(
            f"{name}: contains {value} at index ({where}); NaN and inf are not allowed"
        )


def check_X(X, *, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """Return X as a C-contiguous float32 (n, d) array, or raise naming the problem."""
    arr = _as_numeric(X, name)
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = " (use X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample)"
        raise ValueError(
            f"{name}: expected a 2-D array (samples, features), got {arr.ndim}-D{hint}"
        )
    n, d = arr.shape
    if n == 0 or d == 0:
        raise ValueError(f"{name}: empty array of shape {arr.shape}")
    if d > _MAX_INT32 or n > 2**62:
        raise ValueError(f"{name}: shape {arr.shape} is too large")
    if n_features is not None and d != n_features:
        raise ValueError(f"{name}: expected {n_features} features (columns), got {d}")
    check_finite(arr, name)
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        # float64 values beyond float32's range would become inf silently.
        if not np.isfinite(out).all():
            raise ValueError(f"{name}: values exceed the float32 range")
    return out


def check_labels(y, n_rows: int, n_classes: int | None, name: str = "y") -> np.ndarray:
    """Integer class labels (n,) in [0, n_classes) as int32."""
    arr = _as_numeric(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected class labels of shape ({n_rows},), got {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name}: has {arr.shape[0]} rows but X has {n_rows}")
    if arr.dtype.kind == "f":
        check_finite(arr, name)
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: class labels must be integers")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int32)
    if arr.size and arr.min() < 0:
        i = int(np.argmin(arr))
        raise ValueError(f"{name}: label {arr[i]} at row {i} is negative")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        i = int(np.argmax(arr))
        raise ValueError(
            f"{name}: label {arr[i]} at row {i} is out of range for {n_classes} outputs "
            f"(labels must be in [0, {n_classes}))"
        )
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_targets(y, n_rows: int, n_outputs: int, name: str = "y") -> np.ndarray:
    """Float targets as a C-contiguous float32 (n, n_outputs) array."""
    arr = _as_numeric(y, name)
    if arr.ndim == 1 and n_outputs == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        raise ValueError(
            f"{name}: expected targets of shape ({n_rows}, {n_outputs}), got {arr.shape}"
        )
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name}: has {arr.shape[0]} rows but X has {n_rows}")
    check_finite(arr, name)
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_sample_weight(w, n_rows: int, name: str = "sample_weight") -> np.ndarray | None:
    if w is None:
        return None
    arr = _as_numeric(w, name)
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise ValueError(f"{name}: expected shape ({n_rows},), got {arr.shape}")
    check_finite(arr, name)
    if (arr < 0).any():
        raise ValueError(f"{name}: weights must be >= 0")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
