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
    """A small in-memory data set: ``data`` (n, d) float32, ``target`` (n,) int64."""

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

    Parameters
    ----------
    return_X_y : bool
        Return ``(X, y)`` instead of a :class:`Dataset`.
    scale : bool
        Divide the pixel counts by 16, so features lie in [0, 1].

    Examples
    --------
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, y.shape
    ((1797, 64), (1797,))
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
