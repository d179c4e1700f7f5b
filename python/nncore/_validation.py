"""Input checks shared by the public API: one place that turns user data into what the core takes.

Policy (every public entry point: fit, predict, evaluate, train_step, forward, backward, loss_fn):

- dtypes: features and targets become C-contiguous float32. float64 (and other float widths),
  integer and bool input is converted; float values beyond float32's range are rejected rather
  than silently becoming inf. object, string, bytes, complex, datetime and structured arrays are
  rejected with a TypeError (a complex cast would silently drop the imaginary part).
- layout: any strides are accepted (non-contiguous slices, negative strides, Fortran order,
  read-only arrays); a C-contiguous copy is made only when needed. Lists and other array-likes
  are converted with ``np.asarray``; ragged nested lists are rejected.
- values: NaN and inf are rejected (ValueError naming the row and column of the first bad cell).
- shapes: X must be 2-D (n, d) with n >= 1 and d >= 1 and d equal to the model's input_dim;
  targets (n,) or (n, outputs); labels (n,) or (n, 1), integers (integral floats and bools are
  accepted) in [0, outputs); sample weights (n,) finite and >= 0.
- sizes: rows and columns must fit the core's 32-bit indexing (at most 2**31-1). The bindings
  (cpp/bindings/arrays.h, register_network.cpp) repeat the checks as the last line of defence and
  also refuse, before allocating, a call whose rows x widest layer exceeds 2**31-1 elements
  (ValueError), a layer whose weight matrix exceeds 2**31-1 elements (ValueError) and a network or
  batch workspace larger than the machine's physical memory (MemoryError).
- integer hyper-parameters (epochs, batch_size, input_dim) must be Python/numpy ints (not bools
  or floats) within [minimum, 2**31-1].

Every error is a ValueError, TypeError or MemoryError whose message starts with or names the
argument.
"""

from __future__ import annotations

import os

import numpy as np

from . import _core

_MAX_INT32 = 2**31 - 1
_MAX_FLOAT32 = float(np.finfo(np.float32).max)
_FLOAT32 = np.dtype(np.float32)
_BLOCK = 1 << 22  # elements per block of the NaN scan
_CHECK_MEMORY_ABOVE = 1 << 30  # bytes; smaller requests are not worth reading /proc/meminfo


def _as_numeric(a, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{name}: cannot be converted to an array ({e})") from None
    if arr.dtype.kind not in "fiub" or arr.dtype.fields is not None:
        raise TypeError(
            f"{name}: expected a numeric array (float, int or bool), got dtype {arr.dtype}"
        )
    return arr


def _where(bad, ndim: int) -> str:
    idx = "index (" + ", ".join(str(int(i)) for i in bad) + ")"
    if ndim == 1:
        return f"{idx} (row {int(bad[0])})"
    if ndim == 2:
        return f"{idx} (row {int(bad[0])}, column {int(bad[1])})"
    return idx


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory, or 0 when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def check_memory(nbytes: int, name: str, what: str) -> None:
    """MemoryError before an allocation that cannot fit (checked only for big requests)."""
    if nbytes < _CHECK_MEMORY_ABOVE:
        return
    avail = available_memory()
    if avail and nbytes > avail:
        raise MemoryError(
            f"{name}: {what} would need {nbytes / 2**30:.1f} GiB, more than the "
            f"{avail / 2**30:.1f} GiB of memory available"
        )


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError naming the first NaN/inf cell (and values beyond float32's range).
    Big arrays are scanned in row blocks, so the check itself needs little memory."""
    if arr.dtype.kind != "f" or arr.size == 0:
        return
    # contiguous float32/float64 arrays are scanned in C++ (-2: anything else, numpy below)
    first = _core.find_nonfinite(arr) if isinstance(arr, np.ndarray) else -2
    if first == -1:
        return
    if first >= 0:
        bad = np.array(np.unravel_index(first, arr.shape)) if arr.ndim else np.zeros(0, int)
        value = arr[tuple(bad)]
        _raise_nonfinite(name, value, bad, arr.ndim)
    rows = arr.shape[0] if arr.ndim else 1
    step = max(1, _BLOCK // max(1, arr.size // rows)) if arr.ndim else 1
    for r0 in range(0, rows, step):
        block = arr[r0 : r0 + step] if arr.ndim else arr
        with np.errstate(all="ignore"):
            ok = np.isfinite(block)
            if arr.dtype.itemsize > 4:
                # float64 values beyond float32's range would become inf silently in the cast.
                ok &= np.abs(block) <= _MAX_FLOAT32
        if not ok.all():
            bad = np.argwhere(~ok)[0]
            value = block[tuple(bad)]
            if arr.ndim:
                bad[0] += r0
            _raise_nonfinite(name, value, bad, arr.ndim)


def _raise_nonfinite(name, value, bad, ndim):
    what = (
        "NaN and inf are not allowed"
        if not np.isfinite(value)
        else ("values must fit in float32 (|x| <= 3.4e38)")
    )
    raise ValueError(f"{name}: contains {value} at {_where(bad, ndim)}; {what}")


def check_X(
    X, *, n_features: int | None = None, name: str = "X", finite: bool = True
) -> np.ndarray:
    """Return X as a C-contiguous float32 (n, d) array, or raise naming the problem.
    finite=False leaves NaN/inf to the caller (categorical codes, nncore.embedding)."""
    if (  # the common case in ~0.4 µs (a batch-1 predict is ~20 µs); errors take the full path
        type(X) is np.ndarray
        and X.dtype == _FLOAT32
        and X.ndim == 2
        and X.flags.c_contiguous
        and 0 < X.shape[0] <= _MAX_INT32
        and 0 < X.shape[1] <= _MAX_INT32
        and (n_features is None or X.shape[1] == n_features)
        and (not finite or _core.find_nonfinite(X) == -1)
    ):
        return X
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
    if d > _MAX_INT32 or n > _MAX_INT32:
        raise ValueError(
            f"{name}: shape {arr.shape} exceeds the core's limit of 2**31-1 rows or columns"
        )
    if n_features is not None and d != n_features:
        raise ValueError(f"{name}: expected {n_features} features (columns), got {d}")
    if not (arr.dtype == np.float32 and arr.flags.c_contiguous):
        check_memory(n * d * 4, name, f"a float32 copy of shape {arr.shape}")
    if finite:
        check_finite(arr, name)
    return np.ascontiguousarray(arr, dtype=np.float32)


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


def check_positive_int(value, name: str, minimum: int = 1, maximum: int = _MAX_INT32) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not minimum <= value <= maximum
    ):
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value!r}")
    return int(value)


def check_bool(value, name: str, note: str = "") -> bool:
    """True or False (numpy's bools too), never a truthy stand-in: ``bool("no")`` is True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}{note}")
    return bool(value)


def check_weights(weights, expected) -> list:
    """set_weights: a sequence of arrays matching ``expected`` [(name, shape)], each numeric and
    finite; returns float32 copies (nothing is written before everything is checked)."""
    if isinstance(weights, (str, bytes, np.ndarray)) or not hasattr(weights, "__len__"):
        raise TypeError(
            f"weights: expected a list of {len(expected)} arrays, got {type(weights).__name__}"
        )
    if len(weights) != len(expected):
        raise ValueError(f"weights: expected {len(expected)} arrays, got {len(weights)}")
    out = []
    for i, ((name, shape), w) in enumerate(zip(expected, weights)):
        label = f"weights[{i}] ({name})"
        arr = _as_numeric(w, label)
        if arr.shape != tuple(shape):
            raise ValueError(f"{label}: expected shape {tuple(shape)}, got {arr.shape}")
        check_finite(arr, label)
        out.append(np.asarray(arr, dtype=np.float32))
    return out


def check_seed(value, name: str = "seed") -> int:
    """An integer seed in [0, 2**64)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not 0 <= value < 2**64
    ):
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value!r}")
    return int(value)


def check_fraction(value, name: str) -> float:
    """0 (off) or a fraction strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    value = float(value)
    if value != 0.0 and not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1) (or 0 for none), got {value!r}")
    return value


def check_verbose(value) -> int:
    """``verbose`` as fit, predict and evaluate take it: a bool or an integer >= 0, or Keras's
    ``"auto"`` (1)."""
    if isinstance(value, str) and value == "auto":
        return 1
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {value!r}")
    return int(value)
