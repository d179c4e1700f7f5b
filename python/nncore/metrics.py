"""Metrics over numpy arrays. ``get(name)`` maps the names accepted by ``compile(metrics=...)``,
``cross_validate(scoring=...)`` and the searches.

Classification metrics take true class labels and, as predictions, either labels (1-D) or class
scores/probabilities (n, k) as returned by ``predict`` (a column j stands for label j); label
metrics turn scores into labels by argmax (or > 0.5 for one column). ``log_loss`` and ``roc_auc``
need scores. Precision/recall/F1 of a class with no predicted (or no true) rows count as 0, like
scikit-learn's ``zero_division=0`` (without its warning). Loss-type metrics (``mse``, ``mae``,
``log_loss``) are smaller-is-better; :func:`greater_is_better` says which way a name points.
scikit-learn's scoring names work as well: ``f1_macro`` / ``f1_micro`` (over classes, or over
labels for multi-label targets), ``precision_macro``, ``recall_micro``, ... and the negated
errors ``neg_log_loss``, ``neg_mean_squared_error``, ``neg_mean_absolute_error``,
``neg_root_mean_squared_error`` (greater is better, values <= 0).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._multilabel import (
    MULTILABEL,
    binary_accuracy,
    binary_auc,
    hamming_loss,
    multilabel_f1,
    roc_auc_per_label,
    subset_accuracy,
)


def _labels(pred: np.ndarray) -> np.ndarray:
    pred = np.asarray(pred)
    if pred.ndim == 2:
        if pred.shape[1] == 1:
            return (pred[:, 0] > 0.5).astype(np.int64)
        return np.argmax(pred, axis=1)
    return pred


def _indicator_rows(y_true: np.ndarray) -> bool:
    """2-D rows that are not one-hot or class probabilities: multi-label indicators (several
    ones, or none), for which argmax means nothing."""
    if y_true.ndim != 2 or y_true.shape[1] <= 1:
        return False
    t = y_true.astype(np.float64)
    return bool((t < 0).any() or not np.allclose(t.sum(axis=1), 1.0, atol=1e-6))


def _true_labels(y_true) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        if _indicator_rows(y_true):  # would be scored silently wrong by argmax
            raise ValueError(
                "y_true has rows that are not one-hot or class probabilities (multi-label "
                "targets?): use subset_accuracy, binary_accuracy, hamming_loss, f1_micro, "
                "f1_macro or roc_auc_per_label"
            )
        return np.argmax(y_true, axis=1)
    return y_true.ravel()


def _pair(y_true, y_pred):
    t = _true_labels(y_true)
    p = _labels(y_pred).ravel()
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"y_true has {t.shape[0]} rows but y_pred has {p.shape[0]}")
    if t.shape[0] == 0:
        raise ValueError("empty y_true")
    return t, p


def accuracy(y_true, y_pred) -> float:
    """Fraction of rows whose predicted label equals the true label.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        True class labels, or one-hot rows (argmax-ed).
    y_pred : array-like of shape (n,), (n, 1) or (n, k)
        Predicted labels, or scores/probabilities: several columns are argmax-ed, one column is
        thresholded at 0.5.

    Returns
    -------
    float
        In [0, 1]. ``accuracy_score`` is the same function.

    Raises
    ------
    ValueError
        When the row counts differ or y_true is empty.

    Examples
    --------
    >>> from nncore.metrics import accuracy
    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    >>> accuracy([0, 1], [[0.9, 0.1], [0.2, 0.8]])  # probabilities are argmax-ed
    1.0
    """
    t, p = _pair(y_true, y_pred)
    return float(np.count_nonzero(t == p)) / t.shape[0]  # np.mean's value, in a quarter of its time


accuracy_score = accuracy


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`accuracy` (scores are turned into labels).
    labels : array-like, optional
        The classes, in the order of the rows and columns; defaults to the sorted union of the
        labels seen. Rows whose true or predicted label is not listed are not counted.

    Returns
    -------
    numpy.ndarray of shape (k, k), int64
        ``C[i, j]`` is the number of rows of true class ``labels[i]`` predicted as
        ``labels[j]``.

    Raises
    ------
    ValueError
        When the row counts differ, y_true is empty, or ``labels`` is empty or repeats a class.

    Examples
    --------
    >>> from nncore.metrics import confusion_matrix
    >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1])
    array([[1, 1],
           [0, 2]])
    """
    t, p = _pair(y_true, y_pred)
    labels = np.union1d(t, p) if labels is None else np.asarray(labels).ravel()
    k = len(labels)
    if k == 0:
        raise ValueError("labels must name at least one class")
    if len(np.unique(labels)) != k:
        raise ValueError(f"labels has repeated classes: {labels.tolist()}")
    # searchsorted needs sorted classes; the caller's order is restored through `order`
    order = np.argsort(labels, kind="stable")
    ti, pi = _positions(labels[order], t), _positions(labels[order], p)
    ok = (ti >= 0) & (pi >= 0)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (order[ti[ok]], order[pi[ok]]), 1)
    return cm


def _positions(sorted_labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's index in sorted_labels, or -1 where it is not one of them."""
    i = np.minimum(np.searchsorted(sorted_labels, values), len(sorted_labels) - 1)
    return np.where(sorted_labels[i] == values, i, -1)


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in y_true, so each class counts the same however
    rare it is.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`accuracy`.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        When the row counts differ or y_true is empty.

    Examples
    --------
    >>> from nncore.metrics import balanced_accuracy
    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])  # accuracy would be 0.75
    0.5
    """
    t, p = _pair(y_true, y_pred)
    classes = np.unique(t)
    return float(np.mean([np.mean(p[t == c] == c) for c in classes]))


def _prf(y_true, y_pred, average, pos_label):
    t, p = _pair(y_true, y_pred)
    if average == "binary":
        labels = np.union1d(t, p)
        if len(labels) > 2:
            raise ValueError(
                f"average='binary' needs two classes, got {len(labels)}; use 'macro' or 'weighted'"
            )
        labels = np.array([pos_label])
    elif average in ("macro", "weighted", "micro", None):
        labels = np.union1d(t, p)
    else:
        raise ValueError(
            f"average must be 'binary', 'macro', 'weighted', 'micro' or None, got {average!r}"
        )
    tp = np.array([np.sum((t == c) & (p == c)) for c in labels], dtype=np.float64)
    npred = np.array([np.sum(p == c) for c in labels], dtype=np.float64)
    ntrue = np.array([np.sum(t == c) for c in labels], dtype=np.float64)
    if average == "micro":
        tp, npred, ntrue = tp.sum(keepdims=True), npred.sum(keepdims=True), ntrue.sum(keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(npred > 0, tp / np.maximum(npred, 1), 0.0)
        rec = np.where(ntrue > 0, tp / np.maximum(ntrue, 1), 0.0)
        denom = prec + rec
        f1 = np.where(denom > 0, 2 * prec * rec / np.where(denom > 0, denom, 1), 0.0)
    return prec, rec, f1, ntrue, average


def _average(values, support, average):
    if average is None:
        return values
    if average == "weighted":
        s = support.sum()
        return float(np.sum(values * support) / s) if s > 0 else 0.0
    return float(np.mean(values))


def precision(y_true, y_pred, average: str = "macro", pos_label=1):
    """Precision tp / (tp + fp): the share of the rows predicted as a class that belong to it.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`accuracy`.
    average : {"macro", "weighted", "micro", "binary"} or None
        ``macro``: the mean over classes; ``weighted``: weighted by each class's number of true
        rows; ``micro``: from the total counts; ``binary``: the class ``pos_label`` only (two
        classes at most); None: one value per class, in sorted label order.
    pos_label : int
        The positive class for ``average="binary"``.

    Returns
    -------
    float, or numpy.ndarray with ``average=None``
        A class never predicted has precision 0. ``precision_score`` is the same function.

    Raises
    ------
    ValueError
        For an unknown ``average``, ``"binary"`` with more than two classes, different row
        counts or an empty y_true.

    Examples
    --------
    >>> from nncore.metrics import precision
    >>> precision([0, 1, 1, 1], [0, 1, 0, 0], average="binary")
    1.0
    >>> precision([0, 1, 1, 1], [0, 1, 0, 0], average=None)
    array([0.33333333, 1.        ])
    """
    prec, _, _, sup, avg = _prf(y_true, y_pred, average, pos_label)
    return _average(prec, sup, avg)


def recall(y_true, y_pred, average: str = "macro", pos_label=1):
    """Recall tp / (tp + fn): the share of a class's rows that are predicted as it.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`accuracy`.
    average : {"macro", "weighted", "micro", "binary"} or None
        As for :func:`precision`.
    pos_label : int
        The positive class for ``average="binary"``.

    Returns
    -------
    float, or numpy.ndarray with ``average=None``
        ``recall_score`` is the same function.

    Raises
    ------
    ValueError
        As for :func:`precision`.

    Examples
    --------
    >>> from nncore.metrics import recall
    >>> recall([0, 1, 1, 1], [0, 1, 0, 0], average="binary")  # one of three positives found
    0.3333333333333333
    """
    _, rec, _, sup, avg = _prf(y_true, y_pred, average, pos_label)
    return _average(rec, sup, avg)


def f1(y_true, y_pred, average: str = "macro", pos_label=1):
    """F1 score, the harmonic mean 2·P·R / (P + R) of precision and recall, per class and then
    averaged.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`accuracy`.
    average : {"macro", "weighted", "micro", "binary"} or None
        As for :func:`precision`.
    pos_label : int
        The positive class for ``average="binary"``.

    Returns
    -------
    float, or numpy.ndarray with ``average=None``
        ``f1_score`` is the same function.

    Raises
    ------
    ValueError
        As for :func:`precision`.

    Examples
    --------
    >>> from nncore.metrics import f1
    >>> f1([0, 1, 1, 1], [0, 1, 0, 0], average="binary")  # P = 1, R = 1/3
    0.5
    """
    _, _, f, sup, avg = _prf(y_true, y_pred, average, pos_label)
    return _average(f, sup, avg)


precision_score, recall_score, f1_score = precision, recall, f1


def _proba(y_true, y_score):
    t = _true_labels(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim == 1:
        s = s.reshape(-1, 1)
    if s.ndim != 2 or s.shape[0] != t.shape[0]:
        raise ValueError(f"y_score: expected shape ({t.shape[0]}, k), got {np.shape(y_score)}")
    if s.shape[1] == 1:  # probability of class 1
        s = np.hstack([1.0 - s, s])
    if t.dtype.kind == "f" and not np.all(t == np.round(t)):
        raise ValueError("y_true: class labels must be integers")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= s.shape[1]):
        raise ValueError(f"y_true: labels must lie in [0, {s.shape[1]}) to index the score columns")
    return t, s


def log_loss(y_true, y_pred, eps: float | None = None) -> float:
    """Mean negative log-likelihood of the true labels under predicted probabilities (the
    cross-entropy).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Integer class labels in [0, k).
    y_pred : array-like of shape (n, k), or (n,) / (n, 1) for the probability of class 1
        Probabilities in [0, 1], each row summing to 1 within 1e-3; each row is clipped to
        [eps, 1 - eps] and renormalized.
    eps : float, optional
        Clipping bound; default: float64's machine epsilon.

    Returns
    -------
    float
        Smaller is better.

    Raises
    ------
    ValueError
        For non-integer labels, labels outside [0, k), shapes that do not match, or y_pred
        values that are not probabilities (outside [0, 1], or rows not summing to 1).

    Examples
    --------
    >>> from nncore.metrics import log_loss
    >>> round(log_loss([0, 1], [[0.8, 0.2], [0.4, 0.6]]), 6)  # -(ln 0.8 + ln 0.6) / 2
    0.366985
    """
    t, s = _proba(y_true, y_pred)
    # Clipping and renormalizing absorb float rounding, not scores of another kind: logits or
    # rows of arbitrary scale would give a number that means nothing.
    if not np.isfinite(s).all() or s.min() < 0 or s.max() > 1:
        raise ValueError(
            "log_loss: y_pred must hold probabilities in [0, 1] (logits? apply a softmax or "
            f"sigmoid first); got values in [{np.nanmin(s):.4g}, {np.nanmax(s):.4g}]"
        )
    sums = s.sum(axis=1)
    if np.abs(sums - 1).max() > 1e-3:
        i = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(
            f"log_loss: each row of y_pred must sum to 1 (class probabilities); row {i} sums "
            f"to {sums[i]:.6g}"
        )
    eps = np.finfo(np.float64).eps if eps is None else eps
    s = np.clip(s, eps, 1 - eps)
    s = s / s.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(s[np.arange(len(t)), t])))


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: the probability that a random positive row scores higher than
    a random negative one (ties count half).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Class labels; with one score column the larger of two labels is the positive class.
    y_score : array-like of shape (n,), (n, 1), (n, 2) or (n, k)
        Binary: the score of the positive class, or (n, 2) probabilities. More classes: one
        column per class, averaged one-vs-rest (macro).

    Returns
    -------
    float
        In [0, 1]; 0.5 is chance. ``roc_auc_score`` is the same function.

    Raises
    ------
    ValueError
        When y_true holds a single class, or (one-vs-rest) a class has no row.

    Examples
    --------
    >>> from nncore.metrics import roc_auc
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    t = _true_labels(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] > 2:
        t, s = _proba(t, s)
        present = np.unique(t)
        if len(present) < s.shape[1]:
            raise ValueError(
                f"roc_auc (one-vs-rest) needs every class in y_true; missing "
                f"{sorted(set(range(s.shape[1])) - set(present.tolist()))}"
            )
        return float(np.mean([binary_auc(t == c, s[:, c]) for c in range(s.shape[1])]))
    if s.ndim == 2:
        s = s[:, -1]
    if s.shape[0] != t.shape[0]:
        raise ValueError(f"y_true has {t.shape[0]} rows but y_score has {s.shape[0]}")
    classes = np.unique(t)
    if len(classes) > 2:
        raise ValueError("roc_auc with one score column needs binary labels")
    return binary_auc(t == classes[-1], s)  # the larger label is the positive class


roc_auc_score = roc_auc


def _reg(y_true, y_pred):
    t = np.atleast_1d(np.asarray(y_true, dtype=np.float64))
    p = np.atleast_1d(np.asarray(y_pred, dtype=np.float64))
    # (n,) and (n, 1) are the same targets; any other difference of shape is an error (a
    # reshape would pair a transposed (k, n) prediction with the wrong rows)
    one_col = t.ndim <= 2 and p.ndim <= 2 and t.size == p.size == len(t) == len(p)
    if t.shape != p.shape and not one_col:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}")
    if t.size == 0:
        raise ValueError("empty y_true")
    return t, p.reshape(t.shape)


def mean_squared_error(y_true, y_pred) -> float:
    """Mean of the squared differences, over all rows and outputs.

    Parameters
    ----------
    y_true, y_pred : array-like
        Targets and predictions with the same number of values (y_pred is reshaped to
        y_true's shape, so (n,) and (n, 1) mix).

    Returns
    -------
    float
        Smaller is better. ``mse`` is the same function.

    Raises
    ------
    ValueError
        When the sizes differ or y_true is empty.

    Examples
    --------
    >>> from nncore.metrics import mean_squared_error
    >>> mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.3333333333333333
    """
    t, p = _reg(y_true, y_pred)
    d = p - t
    return float(np.mean(d * d))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean of the absolute differences, over all rows and outputs.

    Parameters
    ----------
    y_true, y_pred : array-like
        As for :func:`mean_squared_error`.

    Returns
    -------
    float
        Smaller is better. ``mae`` is the same function.

    Raises
    ------
    ValueError
        When the sizes differ or y_true is empty.

    Examples
    --------
    >>> from nncore.metrics import mean_absolute_error
    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    0.6666666666666666
    """
    t, p = _reg(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot, averaged over outputs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, outputs)
        As for :func:`mean_squared_error`.

    Returns
    -------
    float
        1 for a perfect fit, 0 for predicting the mean, negative for worse. A constant y_true
        scores 1.0 when predicted exactly, else 0.0 (scikit-learn's ``force_finite``). One
        sample has no variance to explain: NaN, with a RuntimeWarning, as in scikit-learn.

    Raises
    ------
    ValueError
        When the sizes differ or y_true is empty.

    Examples
    --------
    >>> from nncore.metrics import r2_score
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    t, p = _reg(y_true, y_pred)
    if t.shape[0] < 2:
        warnings.warn("r2_score is not defined for fewer than two samples", RuntimeWarning, 2)
        return float("nan")
    if t.ndim == 1:
        t, p = t.reshape(-1, 1), p.reshape(-1, 1)
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    out = np.where(
        ss_tot > 0,
        1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
        np.where(ss_res == 0, 1.0, 0.0),
    )
    return float(np.mean(out))


mse, mae = mean_squared_error, mean_absolute_error

_METRICS = {
    "accuracy": accuracy,
    "acc": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "precision_weighted": lambda t, p: precision(t, p, "weighted"),
    "recall_weighted": lambda t, p: recall(t, p, "weighted"),
    "f1_weighted": lambda t, p: f1(t, p, "weighted"),
    "precision_binary": lambda t, p: precision(t, p, "binary"),
    "recall_binary": lambda t, p: recall(t, p, "binary"),
    "f1_binary": lambda t, p: f1(t, p, "binary"),
    "log_loss": log_loss,
    "roc_auc": roc_auc,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "r2": r2_score,
    "r2_score": r2_score,
    "subset_accuracy": subset_accuracy,
    "binary_accuracy": binary_accuracy,
    "hamming_loss": hamming_loss,
    "f1_micro": lambda t, p: _f1_of_target(t, p, "micro"),
    "f1_macro": lambda t, p: _f1_of_target(t, p, "macro"),
    "roc_auc_per_label": roc_auc_per_label,
    # scikit-learn's scoring names: the averages spelled out, and the errors negated so that
    # greater is better (their values are <= 0, as scikit-learn reports them)
    "precision_macro": precision,
    "recall_macro": recall,
    "precision_micro": lambda t, p: precision(t, p, "micro"),
    "recall_micro": lambda t, p: recall(t, p, "micro"),
    "neg_log_loss": lambda t, p: -log_loss(t, p),
    "neg_mean_squared_error": lambda t, p: -mean_squared_error(t, p),
    "neg_mean_absolute_error": lambda t, p: -mean_absolute_error(t, p),
    "neg_root_mean_squared_error": lambda t, p: -float(np.sqrt(mean_squared_error(t, p))),
}
_SMALLER_IS_BETTER = {
    "log_loss",
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "hamming_loss",
}
_REGRESSION = {"mse", "mean_squared_error", "mae", "mean_absolute_error", "r2", "r2_score"}
_REGRESSION |= {"neg_mean_squared_error", "neg_mean_absolute_error", "neg_root_mean_squared_error"}
_MULTILABEL_ONLY = {"roc_auc_per_label"}
_SINGLE_LABEL_AVERAGES = {"f1_micro": "micro", "f1_macro": "macro"}  # f1 over classes then
_INDICATOR = {"subset_accuracy", "binary_accuracy", "hamming_loss"}  # multi-label or binary
TASKS = ("binary", "multiclass", "multilabel", "regression")


def _f1_of_target(y_true, y_pred, average: str) -> float:
    """scikit-learn's "f1_macro" / "f1_micro": over the labels of indicator rows (multi-label
    y_true: 2-D, rows not all one-hot), else over classes."""
    if _indicator_rows(np.asarray(y_true)):
        return multilabel_f1(y_true, y_pred, average)
    return f1(y_true, y_pred, average)


def for_task(metric, task: str | None):
    """The metric function of ``metric`` for a model's task.

    A metric that does not fit the task raises instead of giving a silently wrong number (e.g.
    argmax accuracy on multi-label targets).

    Parameters
    ----------
    metric : str or callable
        A metric name (see :func:`names`) or a function ``f(y_true, y_pred)``.
    task : {"binary", "multiclass", "multilabel", "regression"} or None
        ``"binary"``: one sigmoid output; ``"multiclass"``: softmax; ``"multilabel"``: several
        sigmoid outputs (``f1`` means macro F1 over labels, ``roc_auc`` the labels' mean AUC,
        and ``accuracy`` is refused as ambiguous); ``"regression"``: classification metrics are
        refused. None: :func:`get` unchanged (so are callables).

    Returns
    -------
    callable
        ``f(y_true, y_pred) -> float``.

    Raises
    ------
    ValueError
        When the metric does not fit the task, or the task is unknown.

    Examples
    --------
    >>> from nncore.metrics import for_task
    >>> for_task("f1", "multilabel")([[1, 0], [1, 1]], [[0.9, 0.2], [0.8, 0.3]])
    0.5
    """
    fn = get(metric)
    if task is None or callable(metric):
        return fn
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if task == "multilabel":
        if metric in ("accuracy", "acc"):
            raise ValueError(
                "accuracy is ambiguous for multi-label targets: use 'subset_accuracy' (every "
                "label of a row right) or 'binary_accuracy' (per label)"
            )
        if metric in MULTILABEL:
            return MULTILABEL[metric] or fn
        if metric in _INDICATOR or metric in _MULTILABEL_ONLY:
            return fn
        raise ValueError(
            f"metric {metric!r} does not fit a multi-label task; use one of "
            f"{', '.join(sorted(set(MULTILABEL) | {'roc_auc_per_label'}))}"
        )
    if task == "regression" and metric not in _REGRESSION:
        raise ValueError(
            f"metric {metric!r} is a classification metric and the model's loss is a regression "
            f"loss; use one of {', '.join(sorted(_REGRESSION))}"
        )
    if metric in _MULTILABEL_ONLY or (task == "multiclass" and metric in _INDICATOR):
        raise ValueError(f"metric {metric!r} is for multi-label targets, the task is {task}")
    if metric in _SINGLE_LABEL_AVERAGES:
        average = _SINGLE_LABEL_AVERAGES[metric]
        return lambda t, p: f1(t, p, average)
    return fn


def get(metric):
    """The metric function of a name accepted by ``compile(metrics=...)``, ``scoring=`` and
    the searches.

    Parameters
    ----------
    metric : str or callable
        A name from :func:`names`; a callable is returned unchanged.

    Returns
    -------
    callable
        ``fn(y_true, y_pred) -> float``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).

    Examples
    --------
    >>> from nncore import metrics
    >>> metrics.get("f1_weighted")([0, 1, 1], [0, 1, 1])
    1.0
    """
    if callable(metric):
        return metric
    if metric not in _METRICS:
        raise ValueError(
            f"unknown metric {metric!r}: expected one of {', '.join(sorted(_METRICS))}"
        )
    return _METRICS[metric]


def greater_is_better(metric) -> bool:
    """Which way a metric points, for ranking search candidates.

    Parameters
    ----------
    metric : str or callable
        A metric name (see :func:`names`) or a function ``f(y_true, y_pred)``.

    Returns
    -------
    bool
        False for the loss-type names (``mse``, ``mae``, ``log_loss`` and their long forms);
        True otherwise, callables included.

    Examples
    --------
    >>> from nncore.metrics import greater_is_better
    >>> greater_is_better("accuracy"), greater_is_better("log_loss")
    (True, False)
    """
    return not (isinstance(metric, str) and metric in _SMALLER_IS_BETTER)


def names() -> list:
    """The metric names :func:`get` accepts, sorted.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from nncore.metrics import names
    >>> "roc_auc" in names() and "accuracy" in names()
    True
    """
    return sorted(_METRICS)
