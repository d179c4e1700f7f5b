"""Multi-label metrics: y_true is an (n, k) 0/1 indicator matrix (a row may hold any number of
ones), y_pred (n, k) probabilities thresholded at 0.5, or 0/1 predictions; y_score for roc_auc
the probabilities themselves. Exported by :mod:`nncore.metrics`."""

from __future__ import annotations

import numpy as np


def _indicators(y_true, y_pred, name: str):
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1:
        t = t.reshape(-1, 1)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    if t.ndim != 2 or t.shape != p.shape:
        raise ValueError(
            f"{name}: y_true and y_pred must both be (n, k) matrices of the same shape, got "
            f"{np.shape(y_true)} and {np.shape(y_pred)}"
        )
    if t.shape[0] == 0:
        raise ValueError(f"{name}: empty y_true")
    if not np.isin(t, (0.0, 1.0)).all():
        raise ValueError(f"{name}: y_true must be a 0/1 indicator matrix")
    return t.astype(bool), p


def _predicted(p: np.ndarray) -> np.ndarray:
    return p > 0.5


def subset_accuracy(y_true, y_pred) -> float:
    """Exact-match accuracy: the fraction of rows whose every label is predicted right
    (scikit-learn's ``accuracy_score`` on indicator matrices).

    >>> subset_accuracy([[1, 0], [1, 1]], [[0.9, 0.2], [0.8, 0.3]])
    0.5
    """
    t, p = _indicators(y_true, y_pred, "subset_accuracy")
    return float(np.mean((t == _predicted(p)).all(axis=1)))


def binary_accuracy(y_true, y_pred) -> float:
    """Per-label accuracy: the fraction of the n·k (row, label) pairs predicted right (Keras's
    ``binary_accuracy``; 1 - :func:`hamming_loss`).

    >>> binary_accuracy([[1, 0], [1, 1]], [[0.9, 0.2], [0.8, 0.3]])
    0.75
    """
    t, p = _indicators(y_true, y_pred, "binary_accuracy")
    return float(np.mean(t == _predicted(p)))


def hamming_loss(y_true, y_pred) -> float:
    """The fraction of (row, label) pairs predicted wrong.

    >>> hamming_loss([[1, 0], [1, 1]], [[0.9, 0.2], [0.8, 0.3]])
    0.25
    """
    t, p = _indicators(y_true, y_pred, "hamming_loss")
    return float(np.mean(t != _predicted(p)))


def multilabel_f1(y_true, y_pred, average: str = "macro") -> float:
    """F1 over labels: ``"micro"`` pools the true/false positives of every label, ``"macro"``
    averages the labels' F1 (a label with no true and no predicted positive counts as 0, like
    scikit-learn's ``zero_division=0``).

    >>> multilabel_f1([[1, 0], [1, 1]], [[0.9, 0.2], [0.8, 0.3]], "micro")
    0.8
    """
    if average not in ("micro", "macro"):
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
    t, p = _indicators(y_true, y_pred, f"f1_{average}")
    q = _predicted(p)
    tp = (t & q).sum(axis=0).astype(np.float64)
    fp = (~t & q).sum(axis=0)
    fn = (t & ~q).sum(axis=0)
    if average == "micro":
        d = 2 * tp.sum() + fp.sum() + fn.sum()
        return float(2 * tp.sum() / d) if d else 0.0
    d = 2 * tp + fp + fn
    return float(np.mean(np.divide(2 * tp, d, out=np.zeros_like(tp), where=d > 0)))


def roc_auc_per_label(y_true, y_score, average: str | None = "macro"):
    """ROC AUC of each label's column (scikit-learn's ``roc_auc_score`` on indicator
    matrices): their mean with ``average="macro"``, the array with ``average=None``. A label
    whose column holds one class only has no AUC: ValueError naming it.

    >>> roc_auc_per_label([[1, 0], [0, 1], [1, 1], [0, 0]], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.6], [0.1, 0.3]])
    1.0
    """
    if average not in ("macro", None):
        raise ValueError(f"average must be 'macro' or None, got {average!r}")
    t, s = _indicators(y_true, y_score, "roc_auc")
    bad = [j for j in range(t.shape[1]) if t[:, j].all() or not t[:, j].any()]
    if bad:
        raise ValueError(
            f"roc_auc: label columns {bad} hold a single class; their AUC is undefined"
        )
    per = np.array([binary_auc(t[:, j], s[:, j]) for j in range(t.shape[1])])
    return float(per.mean()) if average == "macro" else per


# The metric names that fit each task; fit/evaluate look a model's task up here
# (Sequential._task: from the loss and the number of outputs).
MULTILABEL = {
    "subset_accuracy": subset_accuracy,
    "binary_accuracy": binary_accuracy,
    "hamming_loss": hamming_loss,
    "f1_micro": lambda t, p: multilabel_f1(t, p, "micro"),
    "f1_macro": lambda t, p: multilabel_f1(t, p, "macro"),
    "f1": lambda t, p: multilabel_f1(t, p, "macro"),
    "roc_auc": roc_auc_per_label,
    "mse": None,  # elementwise: the same function as for other tasks
    "mean_squared_error": None,
    "mae": None,
    "mean_absolute_error": None,
    "neg_mean_squared_error": None,
    "neg_mean_absolute_error": None,
    "neg_root_mean_squared_error": None,
}


def binary_auc(pos: np.ndarray, score: np.ndarray) -> float:
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc is undefined when y_true holds only one class")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # Average ranks over ties (Mann-Whitney U).
    bounds = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(s)]])
    for a, b in zip(starts, ends):
        ranks[a:b] = 0.5 * (a + b - 1) + 1.0
    r = np.empty_like(ranks)
    r[order] = ranks
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
