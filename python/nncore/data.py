"""Mini-batch iteration for user-written training loops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._validation import check_positive_int


def batches(
    X: Any,
    y: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
) -> Iterator[Any]:
    """Yield ``(xb, yb)`` (or ``xb`` when y is None) mini-batches of the rows of X.

    Examples
    --------
    >>> for xb, yb in batches(X, y, batch_size=128, seed=0):   # doctest: +SKIP
    ...     loss = model.train_step(xb, yb)
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    X = np.asarray(X)
    n = X.shape[0]
    if y is not None and len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for i in range(0, stop, batch_size):
        idx = order[i : i + batch_size]
        yield (X[idx], np.asarray(y)[idx]) if y is not None else X[idx]
