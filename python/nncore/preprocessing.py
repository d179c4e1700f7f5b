"""Feature preprocessing fitted on training rows only: :class:`Standardizer`."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Standardizer"]


class Standardizer:
    """Per-feature (x - mean) / std fitted on training rows (a constant feature keeps scale 1)."""

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
