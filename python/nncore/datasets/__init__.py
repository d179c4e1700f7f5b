"""Datasets shipped inside nncore.

``load_digits`` returns the 8×8 handwritten digits of the UCI "Optical Recognition of Handwritten
Digits" data set (E. Alpaydin, C. Kaynak, 1998; the test part, 1,797 images, as scikit-learn ships it
as ``load_digits``). License: CC BY 4.0 (https://archive.ics.uci.edu/dataset/80). Stored as a
compressed ``.npz`` of uint8 pixel counts (0..16) and labels, loaded without pickle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["Dataset", "load_digits"]


@dataclass
class Dataset:
    """A small in-memory data set, as :func:`load_digits` returns it.

    Unpacks as ``X, y = dataset``.

    Parameters
    ----------
    data : numpy.ndarray of shape (n, d), float32
        The features.
    target : numpy.ndarray of shape (n,), int64
        The class labels.
    feature_names : list of str
        The name of each feature column.
    target_names : list
        The class of each label value.
    description : str
        Where the data comes from and its license.

    Examples
    --------
    >>> from nncore.datasets import load_digits
    >>> ds = load_digits()
    >>> ds.data.shape, ds.feature_names[:2], ds.target_names[:3]
    ((1797, 64), ['pixel_0_0', 'pixel_0_1'], [0, 1, 2])
    >>> X, y = ds
    """

    data: np.ndarray
    target: np.ndarray
    feature_names: list[str] = field(default_factory=list)
    target_names: list[Any] = field(default_factory=list)
    description: str = ""

    def __iter__(self) -> Iterator[np.ndarray]:  # so ``X, y = load_digits()`` works
        return iter((self.data, self.target))


def load_digits(
    *, return_X_y: bool = False, scale: bool = False
) -> Dataset | tuple[np.ndarray, np.ndarray]:
    """Load the 8×8 digits: 1,797 samples, 64 features (pixel counts 0..16), 10 classes.

    The data ships with nncore (no download).

    Parameters
    ----------
    return_X_y : bool
        Return ``(X, y)`` instead of a :class:`Dataset`.
    scale : bool
        Divide the pixel counts by 16, so features lie in [0, 1].

    Returns
    -------
    Dataset, or (X, y) with ``return_X_y=True``
        X is float32 of shape (1797, 64), y int64 of shape (1797,) with about 180 rows per
        digit.

    Examples
    --------
    >>> from nncore.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, y.shape, X.dtype.name, float(X.max())
    ((1797, 64), (1797,), 'float32', 16.0)
    >>> float(load_digits(scale=True).data.max())
    1.0
    """
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as z:
            X = z["data"].astype(np.float32)
            y = z["target"].astype(np.int64)
    if scale:
        X /= 16.0
    if return_X_y:
        return X, y
    return Dataset(
        data=X,
        target=y,
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        target_names=list(range(10)),
        description=(
            "UCI optdigits (test part as in scikit-learn's load_digits), 8x8 images, "
            "1,797 samples, CC BY 4.0"
        ),
    )
