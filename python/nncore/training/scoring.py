"""What a model's outputs score: the task its loss implies, the probabilities ``predict``
returns, the mean loss of outputs and ``evaluate``'s dictionary of metrics."""

from __future__ import annotations

import numpy as np

from .. import _custom_loss, _losses
from .. import metrics as _metrics


def task_of(loss, k: int | None) -> str | None:
    """The task a loss implies, which decides the metrics that fit (``metrics.for_task``).

    Parameters
    ----------
    loss : str or callable
        The compiled loss.
    k : int or None
        The number of outputs (None: unknown yet).

    Returns
    -------
    str or None
        ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``; None when
        unknown (no outputs yet, a callable loss).
    """
    if loss in _losses.SOFTMAX_LOSSES:
        return "multiclass"
    if loss in _losses.SIGMOID_LOSSES:
        return None if k is None else ("multilabel" if k > 1 else "binary")
    return "regression" if isinstance(loss, str) else None


def has_accuracy(model) -> bool:
    """Whether fit counts correct predictions (a softmax loss and the accuracy metric).

    Parameters
    ----------
    model : Sequential
        The compiled model.

    Returns
    -------
    bool
        True when the epoch logs get a training ``accuracy``.
    """
    return model.loss in _losses.SOFTMAX_LOSSES and any(
        m in ("accuracy", "acc") for m in model.metrics
    )


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def transform(loss, out):
    """Raw outputs as ``predict`` returns them.

    Parameters
    ----------
    loss : str or callable
        The compiled loss.
    out : ndarray of shape (n_samples, n_outputs)
        The network's raw outputs.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        Probabilities for the softmax and sigmoid losses (float64), the outputs otherwise.
    """
    if loss in _losses.SOFTMAX_LOSSES:
        return _softmax(out.astype(np.float64))
    if loss in _losses.SIGMOID_LOSSES:
        return 1.0 / (1.0 + np.exp(-out.astype(np.float64)))
    return out


def loss_of_outputs(model, out, y, sw, chunk: int = 4096) -> float:
    """The mean data loss of outputs against checked targets, summed chunk by chunk.

    Parameters
    ----------
    model : Sequential
        The model.
    out : ndarray of shape (n_samples, n_outputs)
        Raw outputs.
    y : ndarray
        The checked targets.
    sw : ndarray of shape (n_samples,) or None
        The sample weights.
    chunk : int, default 4096
        Rows per call to the core.

    Returns
    -------
    float
        The mean loss.
    """
    if callable(model.loss):
        _custom_loss.no_weights(sw)
        return _custom_loss.loss_of_outputs(model.loss, out, y, chunk)
    n = out.shape[0]
    total = 0.0
    for i in range(0, n, chunk):
        part = None if sw is None else sw[i : i + chunk]
        loss, _ = model.engine.loss(out[i : i + chunk], y[i : i + chunk], part)
        total += loss * out[i : i + chunk].shape[0]
    return total / n


def outputs_and_loss(model, X, y, sw, chunk: int = 4096):
    """Raw outputs (evaluation mode) and the mean data loss, in chunks to bound memory.

    Parameters
    ----------
    model : Sequential
        The model.
    X : ndarray of shape (n_samples, n_features), float32
        The checked inputs.
    y : ndarray
        The checked targets.
    sw : ndarray of shape (n_samples,) or None
        The sample weights.
    chunk : int, default 4096
        Rows per call to the core.

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        The raw outputs.
    loss : float
        The mean data loss.
    """
    out = model.engine.outputs(X, chunk)
    return out, loss_of_outputs(model, out, y, sw, chunk)


def model_task(model) -> str | None:
    """:func:`task_of` for a built model: its compiled loss and its number of outputs.

    Parameters
    ----------
    model : Sequential
        A compiled, built model.

    Returns
    -------
    str or None
        As :func:`task_of`.
    """
    return task_of(model.loss, model.engine.output_dim)


def scores(model, out, y, loss) -> dict:
    """evaluate's dictionary from all outputs, targets and the mean loss.

    Parameters
    ----------
    model : Sequential
        The model.
    out : ndarray of shape (n_samples, n_outputs)
        The raw outputs.
    y : ndarray
        The checked targets.
    loss : float
        The mean data loss.

    Returns
    -------
    dict
        ``{"loss": ..., <metric>: ...}``.
    """
    result = {"loss": float(loss)}
    pred = None
    task = model_task(model) if model.metrics else None
    for m in model.metrics:
        fn = _metrics.for_task(m, task)
        if fn is _metrics.accuracy and model.loss in _losses.SOFTMAX_LOSSES:
            # the logits' argmax is the probabilities' (exp is increasing): no softmax needed,
            # which was half of a small model's validation each epoch
            value = fn(y, out)
        else:
            if pred is None:
                pred = transform(model.loss, out)
            value = fn(y, pred)
        result[m if isinstance(m, str) else fn.__name__] = float(value)
    return result
