"""The steps the epoch driver plugs in: the fused C++ step (whole runs of batches per call,
GIL released) and a loss written in Python (one forward, one Python call, one backward and
update per batch). Both report the same statistics and the same logs."""

from __future__ import annotations

import time

import numpy as np

from .. import _custom_loss
from .scoring import has_accuracy, outputs_and_loss, scores


def drops_one_row(model) -> bool:
    """Whether a final batch of one row is dropped (batchnorm needs batch statistics).

    The core's fused epochs apply the same rule.

    Parameters
    ----------
    model : Sequential
        The model.

    Returns
    -------
    bool
        True when a layer needs batch statistics.
    """
    return any(layer.needs_batch_statistics() for layer in model.layers)


def evaluate(model, X, y, sw) -> dict:
    """evaluate's scores of checked rows: the mean data loss and each compiled metric.

    Parameters
    ----------
    model : Sequential
        The model.
    X : ndarray of shape (n_samples, n_features), float32
        The checked inputs.
    y : ndarray
        The checked targets.
    sw : ndarray of shape (n_samples,) or None
        The sample weights (of the loss only).

    Returns
    -------
    dict
        ``{"loss": ..., <metric>: ...}``.
    """
    out, loss = outputs_and_loss(model, X, y, sw)
    return scores(model, out, y, loss)


class FusedStep:
    """Batches ``begin..end`` of a run in one C++ call.

    Parameters
    ----------
    model : Sequential
        The model.
    batch_size : int
        Rows per batch.
    """

    one_by_one = False  # the driver may hand over many batches per call

    def __init__(self, model, batch_size: int):
        self.model, self.batch_size = model, batch_size
        self.accuracy = has_accuracy(model)

    def batches(self, run) -> int:
        """The number of batches of a run.

        Parameters
        ----------
        run : tuple
            ``(X, y, sample_weight, order)``.

        Returns
        -------
        int
            ``ceil(rows / batch_size)``.
        """
        return -(-run[0].shape[0] // self.batch_size)

    def train(self, run, begin: int, end: int) -> dict:
        """Train batches ``begin..end`` of a run.

        Parameters
        ----------
        run : tuple
            ``(X, y, sample_weight, order)``; ``order`` permutes the rows (None: in order).
        begin, end : int
            The batches to train.

        Returns
        -------
        dict
            The calls' statistics (loss and penalty sums, rows, correct, skipped, grad_norm).
        """
        X, y, sw, order = run
        return self.model.engine.train_batches(X, y, sw, self.batch_size, order, begin, end)

    def batch_logs(self, totals: dict, b: int, nbatches: int) -> dict:
        """The logs ``on_batch_end`` gets.

        Parameters
        ----------
        totals : dict
            The epoch's running sums.
        b : int
            The batch's index.
        nbatches : int
            The epoch's number of batches.

        Returns
        -------
        dict
            ``batch``, ``batches``, the running ``loss`` (and ``accuracy``).
        """
        rows = max(totals["rows"], 1)
        logs = {"batch": b, "batches": nbatches, "loss": totals["loss_sum"] / rows}
        if self.accuracy:
            logs["accuracy"] = totals["correct"] / rows
        if totals["skipped_nonfinite"]:  # TerminateOnNaN stops on it
            logs["nonfinite_steps"] = int(totals["skipped_nonfinite"])
        return logs

    def epoch_logs(self, totals: dict, val, t0: float) -> dict:
        """The epoch's logs: training means, validation scores, lr, time, gradient norm.

        Parameters
        ----------
        totals : dict
            The epoch's sums.
        val : tuple or None
            The validation rows ``(X, y, sw)``.
        t0 : float
            The epoch's start (``time.perf_counter()``).

        Returns
        -------
        dict
            What ``on_epoch_end`` and the History get.
        """
        rows = max(totals["rows"], 1)
        logs = {"loss": totals["loss_sum"] / rows, "reg_loss": totals["penalty_sum"] / rows}
        if self.accuracy:
            logs["accuracy"] = totals["correct"] / rows
        if val is not None:
            for k, v in evaluate(self.model, *val).items():
                logs["val_" + k] = v
        logs["lr"] = float(self.model.optimizer.lr)
        logs["time"] = time.perf_counter() - t0
        if totals["grad_norm"] >= 0:
            logs["grad_norm"] = totals["grad_norm"]
        if totals["skipped_nonfinite"]:
            logs["nonfinite_steps"] = int(totals["skipped_nonfinite"])
        return logs


class PythonLossStep(FusedStep):
    """``compile(loss=fn)``: per batch a C++ forward, ``fn`` in Python, a C++ backward and
    update (``Network.step_from_grad``). A Python call per batch anyway: the driver hands the
    batches over one by one (callbacks and stopping see every batch).

    Parameters
    ----------
    model : Sequential
        The model.
    batch_size : int
        Rows per batch.
    """

    one_by_one = True

    def __init__(self, model, batch_size: int):
        super().__init__(model, batch_size)
        self.accuracy = False
        self.drop_one_row = drops_one_row(model)

    def train(self, run, begin: int, end: int) -> dict:
        """Train batches ``begin..end`` of a run, one Python loss call each.

        Parameters
        ----------
        run : tuple
            ``(X, y, sample_weight, order)``; sample weights are refused.
        begin, end : int
            The batches to train.

        Returns
        -------
        dict
            The batches' statistics, as :meth:`FusedStep.train`'s.
        """
        X, y, sw, order = run
        _custom_loss.no_weights(sw)
        engine, fn = self.model.engine, self.model.loss
        st = dict(loss_sum=0.0, penalty_sum=0.0, rows=0, skipped_nonfinite=0, batches=0)
        st["grad_norm"] = -1.0
        idx_all = np.arange(X.shape[0]) if order is None else order
        for b in range(begin, end):
            idx = idx_all[b * self.batch_size : (b + 1) * self.batch_size]
            if len(idx) == 1 and self.drop_one_row:
                continue
            info = _custom_loss.train_batch(engine, fn, np.ascontiguousarray(X[idx]), y[idx])
            st["loss_sum"] += info["loss"] * len(idx)
            st["penalty_sum"] += info["penalty"] * len(idx)
            st["rows"] += len(idx)
            st["skipped_nonfinite"] += int(info["skipped"])
            st["grad_norm"] = info["grad_norm"]
            st["batches"] += 1
        return st


def step_for(model, batch_size: int):
    """The step that trains ``model``: its compiled loss in C++, or a Python function.

    Parameters
    ----------
    model : Sequential
        The model.
    batch_size : int
        Rows per batch.

    Returns
    -------
    FusedStep or PythonLossStep
        The step.
    """
    return (PythonLossStep if callable(model.loss) else FusedStep)(model, batch_size)
