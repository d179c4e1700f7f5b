"""Metrics over numpy arrays. ``get(name)`` maps the names accepted by ``compile(metrics=...)``.

Classification metrics take integer labels and either labels or class scores (n, k) as
predictions; scores are turned into labels by argmax (or > 0.5 for one column).
"""

from __future__ import annotations

import numpy as np


def _labels(pred: np.ndarray) -> np.ndarray:
    pred = np.asarray(pred)
    if pred.ndim == 2:
        if pred.shape[1] == 1:
            return (pred[:, 0] > 0.5).astype(np.int64)
        return np.argmax(pred, axis=1)
    return pred


def accuracy(y_true, y_pred) -> float:
    """Fraction of exact label matches (scores are argmax-ed first)."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        y_true = np.argmax(y_true, axis=1)
    return float(np.mean(y_true.ravel() == _labels(y_pred).ravel()))


def mean_squared_error(y_true, y_pred) -> float:
    d = np.asarray(y_pred, dtype=np.float64).reshape(np.shape(y_true)) - np.asarray(y_true)
    return float(np.mean(d * d))


def mean_absolute_error(y_true, y_pred) -> float:
    d = np.asarray(y_pred, dtype=np.float64).reshape(np.shape(y_true)) - np.asarray(y_true)
    return float(np.mean(np.abs(d)))


_METRICS = {
    "accuracy": accuracy,
    "acc": accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def get(metric):
    """A metric function from its name (or the callable itself)."""
    if callable(metric):
        return metric
    if metric not in _METRICS:
        raise ValueError(
            f"unknown metric {metric!r}: expected one of {', '.join(sorted(_METRICS))}"
        )
    return _METRICS[metric]
