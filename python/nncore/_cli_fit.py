"""How the command line trains one model: the MLP it builds (:class:`ModelFactory`), early stopping
on a held-out part of the training rows, per-epoch progress lines (``--verbose``), the regression
target standardized for training, and the note when a run looks far from converged. Folds and
reports live in ``nncore._cli_folds``."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .callbacks import Callback, EarlyStopping

# An improvement of val_loss smaller than this does not reset the patience: cross-entropy on
# digits creeps down by 1e-4 an epoch for hundreds of epochs at unchanged accuracy.
MIN_DELTA = 1e-3
MIN_VALIDATION_ROWS = 5  # fewer held-out rows than this: no early stopping (a note says so)
# Without early stopping: a training loss that fell by more than this fraction over the last
# tenth of the epochs (at least 5) means the run was far from converged.
STILL_FALLING = 0.02


class ModelFactory:
    """Builds a fresh compiled MLP for the command line (picklable, so folds can run in joblib
    workers).

    Parameters
    ----------
    n_in, n_out : int
        Input features and outputs (classes, or 1 for regression).
    task : {"classification", "regression"}
        Picks the default loss (cross-entropy or MSE) and the accuracy metric.
    hidden : list of int
        Hidden layer widths.
    activation : str, default "relu"
        The hidden layers' activation.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    batchnorm : bool, default False
        Dense -> BatchNorm -> activation in each hidden layer.
    optimizer : str, default "adam"
        An ``nncore.optim`` name.
    lr : float, default 1e-3
        The learning rate.
    l2 : float, default 0.0
        L2 penalty on every Dense layer's weights.
    seed : int, default 0
        Seeds the weights.
    first : Layer, optional
        An input layer (``TabularInput`` for categorical columns).
    loss : str, optional
        The loss (default: ``cross_entropy`` for classification, ``mse`` for regression).
    """

    def __init__(self, n_in, n_out, task, hidden, activation="relu", dropout=0.0,
                 batchnorm=False, optimizer="adam", lr=1e-3, l2=0.0, seed=0, first=None,
                 loss=None):  # fmt: skip
        self.n_in, self.n_out, self.task, self.hidden = n_in, n_out, task, hidden
        self.activation, self.dropout, self.batchnorm = activation, dropout, batchnorm
        self.optimizer, self.lr, self.l2, self.seed = optimizer, lr, l2, seed
        self.first = first  # an input layer (TabularInput) or None
        self.loss = loss or ("cross_entropy" if task == "classification" else "mse")

    def __call__(self):
        """A new compiled :class:`nncore.Sequential` (the same weights for the same seed)."""
        from . import optim
        from ._mlp import build_mlp

        return build_mlp(
            self.n_in, self.n_out, self.hidden, self.activation, batchnorm=self.batchnorm,
            dropout=self.dropout, l2=self.l2, seed=self.seed,
            optimizer=optim.get(self.optimizer, lr=self.lr), loss=self.loss,
            metrics=["accuracy"] if self.task == "classification" else None, first=self.first,
        )  # fmt: skip

    def describe(self) -> str:
        """One line naming the architecture, activation, optimizer and loss.

        Returns
        -------
        str
            E.g. ``"MLP 64-96-10 relu, adam lr=0.003, cross_entropy loss"``.
        """
        arch = "-".join(str(v) for v in [self.n_in, *self.hidden, self.n_out])
        if self.first is not None:
            arch = "embeddings-" + arch
        extra = (" batchnorm" if self.batchnorm else "") + (
            f" dropout {self.dropout}" if self.dropout else ""
        )
        return (
            f"MLP {arch} {self.activation}{extra}, {self.optimizer} lr={self.lr:g}, "
            f"{self.loss} loss"
        )


@dataclass
class FitSettings:
    epochs: int  # the most epochs (early stopping usually ends sooner)
    batch_size: int
    early_stopping: bool = True
    patience: int = 20
    validation_fraction: float = 0.2
    verbose: bool = False

    def describe(self) -> str:
        if not self.early_stopping:
            return f"{self.epochs} epochs, batch {self.batch_size}, no early stopping"
        return (
            f"up to {self.epochs} epochs, batch {self.batch_size}, early stopping on "
            f"{self.validation_fraction:.0%} of the training rows (patience {self.patience})"
        )


@dataclass
class Fitted:
    model: Any  # the trained nncore.Sequential
    epochs_run: int
    best_epoch: int | None  # 1-based; None without early stopping
    seconds: float
    y_mean: float = 0.0  # regression: the model predicts (y - y_mean) / y_scale
    y_scale: float = 1.0
    losses: list = field(default_factory=list)
    note: str | None = None  # why the run may be far from converged, or why ES was off

    def predict(self, X) -> np.ndarray:
        """Class probabilities, or regression values in the target's own units."""
        out = self.model.predict(X)
        return (
            out if self.y_scale == 1.0 and self.y_mean == 0.0 else out * self.y_scale + self.y_mean
        )


class EpochPrinter(Callback):
    """``--verbose``: one line per epoch (loss, validation loss and score, seconds), and keeps
    the training losses for the convergence note."""

    def __init__(self, prefix: str, epochs: int, verbose: bool):
        self.prefix, self.epochs, self.verbose = prefix, epochs, verbose
        self.losses: list = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.losses.append(float(logs.get("loss", np.nan)))
        if not self.verbose:
            return
        w = len(str(self.epochs))
        parts = [f"{k} {logs[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                 if k in logs]  # fmt: skip
        print(
            f"{self.prefix}epoch {epoch + 1:>{w}}/{self.epochs}: {'  '.join(parts)}  "
            f"({logs.get('time', 0.0):.3f} s)",
            flush=True,
        )


class StopWhenSet(Callback):
    """Stops training at the next chunk of batches once ``event`` is set (another fold failed,
    or Ctrl-C reached the main thread while this fold trains in a worker thread)."""

    def __init__(self, event):
        self.event = event

    def on_batch_end(self, batch, logs=None):
        if self.event.is_set():
            self.model.stop_training = True

    on_epoch_end = on_batch_end


def fit_model(factory: ModelFactory, X, y, s: FitSettings, prefix: str = "", stop=None) -> Fitted:
    """Train a fresh ``factory()`` on (X, y) as the settings say; ``stop``, a threading.Event,
    ends the training early when set."""
    model = factory()
    y_mean, y_scale = 0.0, 1.0
    if factory.task == "regression":  # an unscaled target (hundreds) converges many times slower
        y_mean, y_scale = float(y.mean()), float(y.std()) or 1.0
        y = ((y - y_mean) / y_scale).astype(np.float32)
    printer = EpochPrinter(prefix, s.epochs, s.verbose)
    cbs: list = [printer] if stop is None else [printer, StopWhenSet(stop)]
    es, note = None, None
    if s.early_stopping and round(s.validation_fraction * len(y)) >= MIN_VALIDATION_ROWS:
        es = EarlyStopping("val_loss", patience=s.patience, min_delta=MIN_DELTA, restore_best=True)
        cbs.append(es)
    elif s.early_stopping:
        note = f"too few rows ({len(y)}) to hold out a validation part: no early stopping"
    t0 = time.perf_counter()
    model.fit(X, y, epochs=s.epochs, batch_size=s.batch_size, callbacks=cbs,
              validation_split=s.validation_fraction if es is not None else 0.0)  # fmt: skip
    seconds = time.perf_counter() - t0
    run = len(printer.losses)
    best = None if es is None else int(es.best_epoch) + 1
    if s.verbose and es is not None and run < s.epochs:
        print(f"{prefix}stopped at epoch {run}: val_loss best at epoch {best}, weights restored",
              flush=True)  # fmt: skip
    fitted = Fitted(model, run, best, seconds, y_mean, y_scale, printer.losses, note)
    fitted.note = fitted.note or convergence_note(fitted, s)
    return fitted


def convergence_note(f: Fitted, s: FitSettings) -> str | None:
    """Why this run may be far from converged, or None."""
    if s.early_stopping and f.best_epoch is not None:
        # ran to the ceiling with its best epoch among the last tenth: still improving
        if f.epochs_run >= s.epochs and f.best_epoch > s.epochs - max(1, s.epochs // 10):
            return (f"val_loss was still improving at epoch {f.best_epoch} of {s.epochs}: "
                    "raise --epochs")  # fmt: skip
        return None
    k = max(5, len(f.losses) // 10)
    if len(f.losses) <= k:
        return None
    before, last = f.losses[-k - 1], f.losses[-1]
    if np.isfinite(before) and before > 0 and (before - last) / before > STILL_FALLING:
        return (
            f"the training loss fell {100 * (before - last) / before:.0f}% over the last {k} "
            f"epochs: the model is far from converged; raise --epochs"
            + ("" if s.early_stopping else " or drop --no-early-stopping")
        )
    return None


def scores(task: str, y_true, out) -> dict:
    """{"accuracy": ...} for classification, {"r2": ..., "mse": ...} for regression."""
    if task == "classification":
        return {"accuracy": float(np.mean(np.argmax(out, axis=1) == y_true))}
    pred = out[:, 0].astype(np.float64)
    yt = y_true.astype(np.float64)
    resid = float(((pred - yt) ** 2).sum())
    total = float(((yt - yt.mean()) ** 2).sum())
    return {"r2": 1.0 - resid / total if total > 0 else float("nan"), "mse": resid / len(yt)}


def log(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
