"""A loss written in Python: ``compile(loss=fn)`` with ``fn(y_pred, y_true) -> (loss, grad)``.

y_pred is the model's raw output, float32 (n, outputs) (no softmax/sigmoid: ``predict`` returns
raw outputs too); y_true the batch's targets as given to ``fit``; ``loss`` a float (the batch's
mean, as logged) and ``grad`` d loss / d y_pred of y_pred's shape. This is the slower path: per
batch one forward in C++, one Python call and one backward + optimizer step in C++
(``Network.step_from_grad``), instead of whole epochs in one C++ call. Sample and class weights
are not passed: weight inside the function. A saved model keeps its weights but not the
function: compile it again after ``load``."""

from __future__ import annotations

import numpy as np


def check_loss_fn(fn):
    if not callable(fn):
        raise ValueError(f"loss must be a name or a callable, got {fn!r}")
    return fn


def call(fn, out: np.ndarray, y) -> tuple[float, np.ndarray]:
    """fn(out, y) with its result checked: a finite-or-not float and a float32 gradient of
    out's shape (a wrong shape would corrupt the backward pass)."""
    res = fn(out, y)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise ValueError(f"a loss function must return (loss, grad), got {type(res).__name__}")
    loss, grad = res
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        raise ValueError(f"the loss function's loss must be a number, got {loss!r}") from None
    grad = np.asarray(grad)
    if grad.shape != out.shape:
        raise ValueError(
            f"the loss function's grad has shape {grad.shape}, expected {out.shape} (y_pred's)"
        )
    return loss, np.ascontiguousarray(grad, dtype=np.float32)


def no_weights(sw):
    if sw is not None:
        raise ValueError(
            "a Python loss function gets no sample_weight/class_weight: weight inside it"
        )


def _rows(y, idx):
    return y[idx] if isinstance(y, np.ndarray) else np.asarray(y)[idx]


def train_batch(engine, fn, x, y) -> dict:
    """One training forward of the model's ``engine``, ``fn`` on it, backward and update."""
    out = engine.forward(x, True)
    loss, grad = call(fn, out, y)
    info = engine.step_from_grad(grad)
    info["loss"] = loss
    return info


def loss_of_outputs(fn, out, y, chunk: int = 4096) -> float:
    """The row-weighted mean of the function's losses on chunks of given outputs (evaluate's
    loss of a callable)."""
    n = out.shape[0]
    total = 0.0
    for i in range(0, n, chunk):
        loss, _ = call(fn, out[i : i + chunk], _rows(y, slice(i, i + chunk)))
        total += loss * out[i : i + chunk].shape[0]
    return total / n
