"""User input checked once, on the way in: features, targets for the compiled loss, sample and
class weights, the validation rows. Everything below this (the engine, the core) takes arrays as
they come out of here."""

from __future__ import annotations

import numpy as np

from .. import _fork, _losses
from .._split import holdout_indices
from .._validation import (
    check_bool,
    check_fraction,
    check_labels,
    check_sample_weight,
    check_targets,
    check_X,
)


def require_compiled(model) -> None:
    """Raise unless the model is compiled.

    Parameters
    ----------
    model : Sequential
        The model.

    Raises
    ------
    RuntimeError
        When it has no loss or no optimizer.
    """
    if model.loss is None or model.optimizer is None:
        raise RuntimeError(
            "the model is not compiled: call model.compile(optimizer=..., loss=...) first"
        )


def width_of_input(marker, input_dim) -> int:
    """The input width a Keras-style :class:`nncore.Input` marker gives a Sequential.

    Parameters
    ----------
    marker : Input
        The marker.
    input_dim : int or None
        The model's ``input_dim`` as given beside it.

    Returns
    -------
    int
        The width.

    Raises
    ------
    ValueError
        When ``input_dim`` was given too and differs.
    """
    width = marker.shape[0]
    if input_dim is not None and input_dim != width:
        raise ValueError(f"input_dim={input_dim!r} disagrees with the first entry, {marker!r}")
    return width


def check_shuffle(shuffle) -> bool:
    """fit's ``shuffle``: True or False only (``bool("no")`` is True; Keras's ``"batch"``, a
    shuffle within batch-sized slices, is not offered: the rows are shuffled whole).

    Parameters
    ----------
    shuffle : bool
        fit's argument.

    Returns
    -------
    bool
        The flag.

    Raises
    ------
    TypeError
        When it is not a bool.
    """
    return check_bool(shuffle, "shuffle", " (the rows are shuffled whole: no 'batch')")


def check_input(model, X, name: str = "X") -> np.ndarray:
    """X checked as the model's first layer reads it.

    Builds the model from X's width on first use, and has the engine re-read weights written
    through live parameter views.

    Parameters
    ----------
    model : Sequential
        The model.
    X : array-like of shape (n_samples, n_features)
        The inputs.
    name : str, default "X"
        How messages name them.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32
        The checked inputs.

    Raises
    ------
    ValueError
        On a wrong shape or non-finite values.
    """
    _fork.check(stacklevel=4)
    first = model.layers[0] if model.layers else None
    if first is None:
        X = check_X(X, n_features=model.input_dim, name=name)
    else:
        X = first.check_input(X, model.input_dim, name)
    if not model.built:
        model.build(X.shape[1])
    model.engine.sync_exposed()
    return X


def check_y(model, y, n: int, name: str = "y"):
    """Targets for the compiled loss: labels, one-hot rows or values.

    Parameters
    ----------
    model : Sequential
        The model.
    y : array-like
        The targets.
    n : int
        The number of rows they must have.
    name : str, default "y"
        How messages name them.

    Returns
    -------
    ndarray
        The checked targets, in the form the engine takes for the loss.

    Raises
    ------
    ValueError
        When they do not fit the loss or the number of rows.
    """
    k = model.engine.output_dim
    loss = model.loss
    if callable(loss):  # the function reads y as it likes; only the rows must match
        arr = np.asarray(y)
        if arr.ndim == 0 or arr.shape[0] != n:
            raise ValueError(f"{name}: expected {n} rows, got shape {arr.shape}")
        return arr
    if loss == "focal":
        if k < 2:
            raise ValueError("focal needs at least 2 outputs (use binary_focal for one)")
        return check_labels(np.asarray(y), n, k, name)
    if loss == "quantile":
        arr = np.asarray(y)
        if k > 1 and (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
            arr = np.repeat(arr.reshape(-1, 1), k, axis=1)  # one column, several quantiles
        return check_targets(arr, n, k, name)
    if loss == "cross_entropy":
        return _cross_entropy_targets(np.asarray(y), n, k, name)
    t = check_targets(y, n, k, name)
    if loss in _losses.SIGMOID_LOSSES and ((t < 0) | (t > 1)).any():
        raise ValueError(f"{name}: {loss} targets must lie in [0, 1]")
    return t


def _cross_entropy_targets(arr, n, k, name):
    if arr.ndim == 2 and arr.shape[1] == k and k > 1 and arr.dtype.kind == "f":
        t = check_targets(arr, n, k, name)
        if (t < 0).any():
            raise ValueError(f"{name}: class probabilities must be >= 0")
        return t
    if k < 2:
        raise ValueError(
            "cross_entropy needs at least 2 outputs (use binary_cross_entropy for one)"
        )
    return check_labels(arr, n, k, name)


def class_weights(model, y, class_weight, sample_weight):
    """Sample weights with ``class_weight`` ("balanced", {class: weight} or one weight per
    class) folded in: row i weighs class_weight[y_i] (times its sample weight), and the loss
    stays the mean over the rows, as in Keras and scikit-learn. The one home of class
    weights (the loss option of that name is deprecated).

    Parameters
    ----------
    model : Sequential
        The model.
    y : ndarray of shape (n_samples,)
        The checked integer labels.
    class_weight : "balanced", dict, array-like or None
        fit's ``class_weight``.
    sample_weight : ndarray of shape (n_samples,) or None
        The checked sample weights.

    Returns
    -------
    ndarray of shape (n_samples,), float32, or None
        The weights of the rows (``sample_weight`` unchanged without class weights).

    Raises
    ------
    ValueError
        When the loss takes no class weights, or they are malformed.
    """
    if class_weight is None:
        return sample_weight
    if model.loss not in _losses.SOFTMAX_LOSSES or y.ndim != 1:
        raise ValueError("class_weight needs cross_entropy or focal with integer labels")
    k = model.engine.output_dim
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(y, minlength=k).astype(np.float64)
        cw = np.where(counts > 0, len(y) / (k * np.maximum(counts, 1)), 0.0)
    elif isinstance(class_weight, (list, tuple, np.ndarray)):
        cw = np.asarray(class_weight, dtype=np.float64).ravel()
        if cw.size != k or not np.isfinite(cw).all() or (cw < 0).any():
            raise ValueError(
                f"class_weight: expected {k} finite weights >= 0 (one per class), got "
                f"{np.asarray(class_weight).tolist()!r}"
            )
    elif isinstance(class_weight, dict):
        cw = np.ones(k)
        for c, w in class_weight.items():
            if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
                raise ValueError(
                    f"class_weight: keys must be integer class labels, got {c!r} (string labels "
                    "are encoded to 0 .. k-1 before fit; key by those codes)"
                )
            if not 0 <= int(c) < k:
                raise ValueError(f"class_weight: class {c!r} is out of range for {k} outputs")
            try:
                cw[int(c)] = float(w)
            except (TypeError, ValueError):
                cw[int(c)] = np.nan  # refused just below, with the others
            if not np.isfinite(cw[int(c)]) or cw[int(c)] < 0:
                raise ValueError(
                    f"class_weight: the weight of class {c!r} must be a finite number >= 0, "
                    f"got {w!r}"
                )
    else:
        raise ValueError(
            "class_weight must be 'balanced', a dict {class: weight} or one weight per class"
        )
    w = cw[y].astype(np.float32)
    return w if sample_weight is None else (w * sample_weight).astype(np.float32)


def fit_inputs(model, X, y, sample_weight, class_weight):
    """fit's (X, y, sample weights) checked, with class weights folded into the weights.

    Parameters
    ----------
    model : Sequential
        The model.
    X : array-like of shape (n_samples, n_features)
        The inputs.
    y : array-like
        The targets.
    sample_weight : array-like of shape (n_samples,) or None
        The sample weights.
    class_weight : "balanced", dict, array-like or None
        The class weights.

    Returns
    -------
    tuple
        ``(X, y, weights)``, checked; weights may be None.
    """
    X = check_input(model, X)
    y = check_y(model, y, X.shape[0])
    sw = check_sample_weight(sample_weight, X.shape[0])
    return X, y, class_weights(model, y, class_weight, sw)


def evaluate_inputs(model, X, y, sample_weight):
    """evaluate's (X, y, sample weights) checked.

    Parameters
    ----------
    model : Sequential
        The model.
    X : array-like of shape (n_samples, n_features)
        The inputs.
    y : array-like
        The targets.
    sample_weight : array-like of shape (n_samples,) or None
        The sample weights.

    Returns
    -------
    tuple
        ``(X, y, sample_weight)``, checked.
    """
    X = check_input(model, X)
    return X, check_y(model, y, X.shape[0]), check_sample_weight(sample_weight, X.shape[0])


def _rows(arrays, idx):
    """The rows ``idx`` of each array (None stays None)."""
    return tuple(None if a is None else a[idx] for a in arrays)


def validation_rows(model, X, y, sw, seed, validation_split, validation_data):
    """The rows to train on and the rows to validate on.

    Parameters
    ----------
    model : Sequential
        The model.
    X, y, sw : ndarray
        The checked inputs, targets and weights (sw may be None).
    seed : int
        Seeds the held-out rows of ``validation_split``.
    validation_split : float
        fit's ``validation_split`` (shuffled; stratified for softmax losses).
    validation_data : tuple or None
        fit's ``validation_data``.

    Returns
    -------
    train : tuple
        ``(X, y, sw)`` to train on.
    validation : tuple or None
        ``(X, y, sw)`` to validate on, or None.

    Raises
    ------
    ValueError
        When both are given, or ``validation_data`` is malformed.
    """
    validation_split = check_fraction(validation_split, "validation_split")  # hardening
    if validation_data is not None and validation_split:
        raise ValueError("give either validation_split or validation_data, not both")
    if validation_split:
        strat = y if (model.loss in _losses.SOFTMAX_LOSSES and y.ndim == 1) else None
        tr, va = holdout_indices(X.shape[0], validation_split, seed, stratify=strat)
        return _rows((X, y, sw), tr), _rows((X, y, sw), va)
    if validation_data is None:
        return (X, y, sw), None
    if len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight)")
    Xv = check_input(model, validation_data[0], "validation_data X")
    yv = check_y(model, y=validation_data[1], n=Xv.shape[0], name="validation_data y")
    wv = None
    if len(validation_data) == 3:
        wv = check_sample_weight(validation_data[2], Xv.shape[0])
    return (X, y, sw), (Xv, yv, wv)
