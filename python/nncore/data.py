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
    """Yield mini-batches of the rows of X (and y), for a user-written training loop.

    Parameters
    ----------
    X : array-like of shape (n, d)
        The inputs.
    y : array-like of length n, optional
        Targets; when None only ``xb`` is yielded.
    batch_size : int
        Rows per batch; the last batch is smaller when ``batch_size`` does not divide n.
    shuffle : bool
        Visit the rows in a random order drawn from ``seed`` (else in order).
    seed : int
        Seeds the order, so the same seed gives the same batches.
    drop_last : bool
        Leave out the final, smaller batch.

    Yields
    ------
    (xb, yb) or xb
        Copies of the selected rows (numpy arrays).

    Raises
    ------
    ValueError
        When ``batch_size`` is not a positive integer or X and y differ in length.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.data import batches
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> [len(xb) for xb in batches(X, batch_size=2, drop_last=True)]
    [2, 2]

    In a training loop (``model`` compiled):

    >>> for xb, yb in batches(X, y, batch_size=128, seed=0):  # doctest: +SKIP
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
