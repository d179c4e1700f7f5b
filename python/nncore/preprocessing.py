"""Feature preprocessing fitted on training rows only: :class:`Standardizer`."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Standardizer"]


class Standardizer:
    """Per-feature (x - mean) / std fitted on training rows (a constant feature keeps scale 1).

    Statistics are computed in float64; :meth:`transform` returns float32, nncore's dtype. After
    :meth:`fit`: ``mean_`` and ``scale_``, arrays of shape (features,).

    Raises
    ------
    AttributeError
        From :meth:`transform`, when the standardizer is not fitted.
    ValueError
        When ``X`` is not numeric or (in :meth:`transform`) its width differs from the fitted
        one.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.preprocessing import Standardizer
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    >>> scaler = Standardizer().fit(X)
    >>> scaler.mean_, scaler.scale_.round(4)
    (array([ 3., 10.]), array([1.633, 1.   ]))
    >>> Z = scaler.transform(X)
    >>> Z.dtype
    dtype('float32')
    >>> Z.round(4)
    array([[-1.2247,  0.    ],
           [ 0.    ,  0.    ],
           [ 1.2247,  0.    ]], dtype=float32)
    """

    mean_: np.ndarray
    scale_: np.ndarray

    def fit(self, X: Any) -> Standardizer:
        """Learn each feature's mean and standard deviation from ``X``; returns self."""
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_`` as C-contiguous float32."""
        z: np.ndarray = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return z.astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)
