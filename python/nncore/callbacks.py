"""Training callbacks and the History that ``fit`` returns.

A callback subclasses :class:`Callback` and overrides any of the hooks. ``fit`` calls
``on_batch_end`` between chunks of batches run in C++ (about every 50 ms, not after every batch
unless a callback sets ``wants_batches = True``), with ``logs["batch"]`` the index of the last batch
done and ``logs["loss"]`` the running mean loss of the epoch so far. To stop training, a callback
sets ``self.model.stop_training = True``; fit stops at the next chunk boundary.

Included: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, TerminateOnNaN,
LearningRateScheduler, CSVLogger, LambdaCallback (Keras semantics, with differences noted in each
docstring). ``TensorBoard`` and ``OptunaPruning`` live in :mod:`nncore.integrations` (their
packages are optional) and are reached here by name. Not included: remote monitors, per-batch
checkpointing.
"""

from __future__ import annotations

import csv
import importlib
import math
import os
import sys

import numpy as np

from . import _deprecation
from ._validation import check_bool


class Callback:
    """Base class for callbacks: every hook is a no-op; a subclass overrides the ones it needs.
    ``self.model`` is the model being trained (set by ``fit`` through :meth:`set_model`).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> class CountEpochs(callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.count = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.count += 1
    >>> counter = CountEpochs()
    >>> history = model.fit(X, y, epochs=3, callbacks=[counter])
    >>> counter.count, counter.model is model
    (3, True)
    """

    model = None

    def set_model(self, model) -> None:
        """Attach the model being trained (``fit`` calls this before ``on_train_begin``).

        Parameters
        ----------
        model : Sequential
            The model; the callback reads it as ``self.model``.
        """
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once before the first epoch.

        Parameters
        ----------
        logs : dict or None
            ``{"epochs": ..., "batches": ..., "samples": ...}``: the run's size.
        """

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once after the last epoch, also after an early stop or Ctrl-C.

        Parameters
        ----------
        logs : dict or None
            The last epoch's logs.
        """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called before each epoch.

        Parameters
        ----------
        epoch : int
            The epoch's index (0-based); it continues from the model's ``epochs_done``.
        logs : dict or None
            Empty, or None.
        """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called after each epoch with its logs.

        Parameters
        ----------
        epoch : int
            The epoch's index (0-based).
        logs : dict or None
            ``loss``, ``reg_loss``, ``lr``, ``time`` and, with validation data, ``val_loss``
            and ``val_<metric>``; a callback may add keys that later callbacks and the
            History see.
        """

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called between the chunks of batches ``fit`` hands the core (about every 50 ms),
        and after every batch when a callback of the fit sets ``wants_batches = True`` (Keras
        calls it after every batch; here that is opt-in because it makes ``fit`` hand the core
        one batch at a time, which is slower).

        Parameters
        ----------
        batch : int
            The index within the epoch of the last batch done (between chunks it advances by
            the chunk's batches).
        logs : dict or None
            ``{"batch": ..., "batches": ..., "loss": ...}``: the epoch's running mean loss so
            far (and the running training metrics).
        """

    # True when the callback needs on_batch_end at (near) every batch (slows training down).
    wants_batches = False


class History(Callback):
    """Per-epoch records: ``history.history["loss"]``, ``["val_loss"]``, ``["lr"]``, ... and
    ``history.epoch`` (epoch indices). With ``fit(diagnostics=True)`` it also holds per-layer
    series such as ``"grad_norm/0"`` (see :mod:`nncore.diagnostics`).

    ``fit`` creates it and returns it (also as ``model.history``). The series are read as in
    Keras, from the plain dict ``history.history`` (so ``pandas.DataFrame(history.history)``
    works); ``history["loss"]``, ``"loss" in history`` and ``history.keys()`` are deprecated
    spellings of ``history.history["loss"]``, ``"loss" in history.history`` and
    ``history.history.keys()``.

    Attributes
    ----------
    history : dict of str to list
        One list per logged key (``loss``, ``reg_loss``, ``lr``, ``time``, ``val_<metric>``,
        ...), one value per epoch.
    epoch : list of int
        The indices of the recorded epochs (they continue from ``model.epochs_done``).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> history = model.fit(X, y, epochs=3, batch_size=16, validation_split=0.25)
    >>> history.epoch
    [0, 1, 2]
    >>> "val_loss" in history.history, len(history.history["loss"])
    (True, 3)
    """

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        _deprecation.warn(
            f"history[{key!r}]", f"write history.history[{key!r}] (as in Keras)", stacklevel=3
        )
        return self.history[key]

    def __contains__(self, key):
        _deprecation.warn(
            f"{key!r} in history", f"write {key!r} in history.history (as in Keras)", stacklevel=3
        )
        return key in self.history

    def keys(self):
        """The names of the recorded series; deprecated: write ``history.history.keys()``.

        Returns
        -------
        dict_keys
            The keys of ``history.history``.
        """
        _deprecation.warn("history.keys()", "write history.history.keys() (as in Keras)")
        return self.history.keys()

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epoch)}, keys=[{keys}])"


class CallbackList:
    """Dispatches each hook to every callback in order (``fit`` wraps its callbacks in one).

    Parameters
    ----------
    callbacks : iterable of Callback
        The callbacks, called in this order.
    model : Sequential
        Attached to each callback with ``set_model``.

    Raises
    ------
    AttributeError
        For an attribute that is not a hook (its name does not start with ``on_``).

    Examples
    --------
    >>> from nncore import callbacks
    >>> seen = []
    >>> log = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> hooks = callbacks.CallbackList([callbacks.History(), log], model=None)
    >>> hooks.on_epoch_end(0, {"loss": 1.0})
    >>> seen, hooks.callbacks[0].history
    ([0], {'loss': [1.0]})
    >>> hooks.wants_batches
    False
    """

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)

    @property
    def wants_batches(self) -> bool:
        """True when any callback needs ``on_batch_end`` (which slows training down)."""
        return any(getattr(c, "wants_batches", False) for c in self.callbacks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for c in self.callbacks:
                getattr(c, hook)(*args, **kwargs)

        return call


# --------------------------------------------------------------------------------- helpers
_MAX_HINTS = ("acc", "auc", "f1", "precision", "recall", "r2", "score")


def _resolve_mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.lower()
        return "max" if any(h in name for h in _MAX_HINTS) else "min"
    return mode


def _monitored(logs, monitor: str, who: str) -> float:
    logs = logs or {}
    if monitor not in logs:
        avail = ", ".join(k for k in logs if "/" not in k) or "none"
        hint = (
            "; pass validation_data= or validation_split= to fit, or monitor a training key"
            if monitor.startswith("val_")
            else ""
        )
        raise ValueError(
            f"{who}: monitor {monitor!r} is not in the epoch logs (available: {avail}){hint}"
        )
    return float(logs[monitor])


def _check_nonneg(value, name, who):
    if not (isinstance(value, (int, float, np.integer, np.floating)) and value >= 0):
        raise ValueError(f"{who}: {name} must be a number >= 0, got {value!r}")


class _Monitor:
    """Tracks the best value of a monitored quantity (min or max, with a min_delta margin)."""

    def __init__(self, mode: str, min_delta: float):
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self.reset()

    def reset(self, baseline=None):
        self.best = (
            baseline if baseline is not None else (math.inf if self.mode == "min" else -math.inf)
        )

    def improved(self, value: float, margin: float | None = None) -> bool:
        """Whether ``value`` beats the best by more than ``margin`` (default min_delta)."""
        if math.isnan(value):
            return False
        margin = self.min_delta if margin is None else margin
        if self.mode == "min":
            return value < self.best - margin
        return value > self.best + margin


# ------------------------------------------------------------------------------ callbacks
class EarlyStopping(Callback):
    """Stop training when a monitored quantity stops improving.

    Parameters
    ----------
    monitor : str
        An epoch-log key, e.g. ``"val_loss"`` (needs validation data), ``"loss"``,
        ``"val_accuracy"``.
    mode : {"auto", "min", "max"}
        ``auto`` maximizes keys that look like scores (accuracy, auc, f1, r2, ...) and minimizes
        the rest.
    patience : int
        Epochs without improvement after which training stops (0: stop at the first one).
    min_delta : float
        The smallest change that counts as an improvement.
    restore_best : bool
        At the end of training, put back the weights (and batchnorm statistics) of the best epoch.
        Unlike Keras this also happens when training ran to the last epoch without stopping
        early. The optimizer state is not rolled back. ``restore_best_weights`` is an alias.
    baseline : float, optional
        Training stops if the monitored value does not beat this within ``patience`` epochs.
    restore_best_weights : bool or None
        Keras' name of ``restore_best`` (None: use ``restore_best``).
    start_from_epoch : int
        Epochs to wait before monitoring starts.
    verbose : int
        1 prints a line when training stops.

    Attributes
    ----------
    best : float
        The best monitored value so far.
    best_epoch : int
        The epoch that reached it.
    stopped_epoch : int
        The epoch training stopped after (-1 when it did not stop training).

    Raises
    ------
    ValueError
        When ``monitor`` is not a string, ``mode`` is unknown, ``patience`` is not an integer
        >= 0 or ``min_delta`` is negative; during ``fit``, when ``monitor`` is not in the epoch
        logs.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
    >>> history = model.fit(X, y, epochs=10, callbacks=[stop])
    >>> len(history.epoch), stop.stopped_epoch  # no gain of 10: stops after the second epoch
    (2, 1)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best: bool = False,
        baseline: float | None = None,
        *,
        restore_best_weights: bool | None = None,
        start_from_epoch: int = 0,
        verbose: int = 0,
    ):
        who = "EarlyStopping"
        if not isinstance(monitor, str):
            raise ValueError(f"{who}: monitor must be a string, got {monitor!r}")
        if (
            isinstance(patience, bool)
            or not isinstance(patience, (int, np.integer))
            or patience < 0
        ):
            raise ValueError(f"{who}: patience must be an integer >= 0, got {patience!r}")
        _check_nonneg(min_delta, "min_delta", who)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, who)
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        keras = restore_best_weights is not None  # Keras's name for restore_best
        self.restore_best = check_bool(restore_best, "EarlyStopping: restore_best") or (
            keras and check_bool(restore_best_weights, "EarlyStopping: restore_best_weights")
        )
        self.baseline = None if baseline is None else float(baseline)
        self.start_from_epoch = int(start_from_epoch)
        self.verbose = verbose
        self._tracker = _Monitor(self.mode, self.min_delta)

    def on_train_begin(self, logs=None):
        self._tracker.reset(self.baseline)
        self.wait = 0
        self.stopped_epoch = -1
        self.best_epoch = -1
        self.best_weights = None

    @property
    def best(self):
        """The best monitored value so far (None before the first epoch)."""
        return self._tracker.best

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:
            return
        improved = self._tracker.improved(value)
        if improved:
            self._tracker.best = value
            self.best_epoch = epoch
            if self.restore_best:
                self.best_weights = self.model.get_weights()
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(
                    f"EarlyStopping: stopped at epoch {epoch + 1}; best {self.monitor}="
                    f"{self.best:.6g} at epoch {self.best_epoch + 1}",
                    file=sys.stdout,
                )

    def on_train_end(self, logs=None):
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras semantics). Acts on ``model.optimizer.lr``; the new rate applies
    from the next epoch.

    Parameters
    ----------
    monitor : str, default "val_loss"
        An epoch-log key, as in :class:`EarlyStopping`.
    factor : float in (0, 1), default 0.1
        What the learning rate is multiplied by at each reduction.
    patience : int, default 10
        Epochs without improvement before a reduction.
    mode : {"auto", "min", "max"}, default "auto"
        As in :class:`EarlyStopping`.
    min_delta : float, default 1e-4
        The smallest change that counts as an improvement.
    cooldown : int
        Epochs to wait after a reduction before counting again.
    min_lr : float
        Lower bound for the learning rate.
    verbose : int
        1 prints a line at each reduction.

    Raises
    ------
    ValueError
        When ``factor`` is outside (0, 1), ``patience`` or ``cooldown`` is not an integer >= 0,
        ``min_delta`` or ``min_lr`` is negative, or ``mode`` is unknown; during ``fit``, when
        ``monitor`` is not in the epoch logs.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    >>> history = model.fit(X, y, epochs=4, callbacks=[reduce])
    >>> history.history["lr"]  # the rate each epoch ran with
    [0.01, 0.01, 0.005, 0.0025]
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        verbose: int = 0,
    ):
        who = "ReduceLROnPlateau"
        if not (isinstance(factor, (int, float)) and 0.0 < factor < 1.0):
            raise ValueError(f"{who}: factor must be in (0, 1), got {factor!r}")
        for name, v in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{who}: {name} must be an integer >= 0, got {v!r}")
        _check_nonneg(min_delta, "min_delta", who)
        _check_nonneg(min_lr, "min_lr", who)
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.mode = _resolve_mode(mode, monitor, who)
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self._tracker = _Monitor(self.mode, self.min_delta)

    def on_train_begin(self, logs=None):
        self._tracker.reset()
        self.wait = 0
        self.cooldown_counter = 0

    @property
    def best(self):
        """The best monitored value so far (None before the first epoch)."""
        return self._tracker.best

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._tracker.improved(value):
            self._tracker.best = value
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = self.model.optimizer
            old = float(opt.lr)
            if old > self.min_lr:
                new = max(old * self.factor, self.min_lr)
                opt.lr = new
                if self.verbose:
                    print(f"ReduceLROnPlateau: epoch {epoch + 1}: lr {old:.4g} -> {new:.4g}")
            self.cooldown_counter = self.cooldown
            self.wait = 0


def _one_path(path, keras_path, who: str, keras_name: str) -> str:
    """The file a callback writes, given as ``path`` or by Keras's name for it (not both)."""
    if (path is None) == (keras_path is None):
        raise TypeError(
            f"{who}: give the file's path once, as path or as {keras_name} (Keras's name)"
        )
    return os.fspath(path if keras_path is None else keras_path)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``: atomic, checksummed) at the end of epochs.

    Parameters
    ----------
    path : str or path-like, optional
        May contain format fields: ``{epoch}`` (1-based, as in Keras) and any epoch-log key, e.g.
        ``"ckpt/model-{epoch:03d}-{val_loss:.3f}.nnc"``. Missing parent folders are created.
    monitor : str, default "val_loss"
        An epoch-log key, as in :class:`EarlyStopping`; used with ``save_best_only``.
    save_best_only : bool
        Save only when ``monitor`` improved (a fixed path then always holds the best model).
    mode : {"auto", "min", "max"}, default "auto"
        As in :class:`EarlyStopping`; used with ``save_best_only``.
    verbose : int
        1 prints a line for each file written.
    save_weights_only : bool, default False
        Write the weights and buffers only (:meth:`Sequential.save_weights`: no optimizer
        state; :meth:`Sequential.load_weights` reads them back), as in Keras.
    filepath : str or path-like, optional
        Keras's name for ``path`` (give one of the two).

    Attributes
    ----------
    last_path : str or None
        The last file written.
    best : float
        The best monitored value.

    Raises
    ------
    TypeError
        When neither or both of ``path`` and ``filepath`` are given, or ``save_best_only`` or
        ``save_weights_only`` is not a bool.
    ValueError
        When ``mode`` is unknown; during ``fit``, when ``path`` uses a field the epoch logs lack
        or (with ``save_best_only``) ``monitor`` is not in them.
    OSError
        During ``fit``, when a file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> ckpt = callbacks.ModelCheckpoint(os.path.join(tmp.name, "model-{epoch}.nnc"))
    >>> history = model.fit(X, y, epochs=2, callbacks=[ckpt])
    >>> sorted(os.listdir(tmp.name))
    ['model-1.nnc', 'model-2.nnc']
    >>> nc.load(ckpt.last_path).epochs_done
    2
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        path=None,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        verbose: int = 0,
        *,
        save_weights_only: bool = False,
        filepath=None,
    ):
        self.path = _one_path(path, filepath, "ModelCheckpoint", "filepath")
        self.save_weights_only = check_bool(save_weights_only, "ModelCheckpoint: save_weights_only")
        self.monitor = monitor
        self.save_best_only = check_bool(save_best_only, "ModelCheckpoint: save_best_only")
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.verbose = verbose
        self._tracker = _Monitor(self.mode, 0.0)
        self.last_path = None

    def on_train_begin(self, logs=None):
        self._tracker.reset()

    @property
    def best(self):
        """The best monitored value so far (None before the first epoch)."""
        return self._tracker.best

    def _format(self, epoch, logs):
        try:
            return self.path.format(
                epoch=epoch + 1, **{k: v for k, v in logs.items() if k != "epoch"}
            )
        except (KeyError, IndexError) as e:
            avail = ", ".join(["epoch", *(k for k in logs if "/" not in k)])
            raise ValueError(
                f"ModelCheckpoint: path {self.path!r} uses a field that is not available "
                f"({e}); available: {avail}"
            ) from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._tracker.improved(value):
                return
            self._tracker.best = value
        path = self._format(epoch, logs)
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.last_path = path
        if self.verbose:
            print(f"ModelCheckpoint: epoch {epoch + 1}: saved {path}")


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss is NaN or infinite, or a step had a non-finite gradient.

    It checks the running loss that fit reports between chunks of batches (about every 50 ms), so
    it stops within one chunk without slowing training down; pass ``every_batch=True`` to check
    after each batch (fit then returns to Python after every batch, which is slower).
    ``terminated_epoch`` / ``terminated_batch`` say where it stopped (-1 when it did not).

    Parameters
    ----------
    every_batch : bool, default False
        Check after every batch instead of between chunks of batches.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=1e30), loss="mse")  # diverges
    >>> nan_stop = callbacks.TerminateOnNaN()
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:  # fit says what it skipped
    ...     warnings.simplefilter("always")
    ...     history = model.fit(X * 1e10, X.sum(axis=1), epochs=5, callbacks=[nan_stop])
    >>> nan_stop.terminated_epoch, len(history.epoch)
    (0, 1)
    >>> print(str(caught[0].message).split(":")[0])
    1 of 2 optimizer steps in this fit were skipped
    """

    def __init__(self, every_batch: bool = False):
        self.wants_batches = check_bool(every_batch, "TerminateOnNaN: every_batch")

    def on_train_begin(self, logs=None):
        self.terminated_epoch = -1
        self.terminated_batch = -1
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    @staticmethod
    def _bad(logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            return True
        return bool(logs.get("nonfinite_steps", 0))

    def _stop(self, batch):
        self.terminated_epoch = self._epoch
        self.terminated_batch = batch
        self.model.stop_training = True

    def on_batch_end(self, batch, logs=None):
        if self.terminated_epoch < 0 and self._bad(logs or {}):
            self._stop(batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.terminated_epoch < 0 and self._bad(logs or {}):
            self._epoch = epoch
            self._stop(-1)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (epoch is
    0-based, lr the current rate), as in Keras. For per-batch schedules use
    ``fit(schedulers=...)`` with :mod:`nncore.lr_scheduler`.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float``, a finite number >= 0.
    verbose : int, default 0
        1 prints the rate at each epoch.

    Raises
    ------
    TypeError
        When ``schedule`` is not callable.
    ValueError
        During ``fit``, when ``schedule`` returns something that is not a finite number >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    >>> history = model.fit(X, y, epochs=3, callbacks=[schedule])
    >>> [round(lr, 4) for lr in history.history["lr"]]
    [0.1, 0.05, 0.0333]
    """

    def __init__(self, schedule, verbose: int = 0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        lr = self.schedule(epoch, float(opt.lr))
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            raise ValueError(
                f"LearningRateScheduler: schedule returned {lr!r}, expected a number"
            ) from None
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(
                f"LearningRateScheduler: schedule returned {lr!r} at epoch {epoch}; "
                "expected a finite number >= 0"
            )
        opt.lr = lr
        if self.verbose:
            print(f"LearningRateScheduler: epoch {epoch + 1}: lr = {lr:.4g}")


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` and every scalar epoch-log key (columns fixed by
    the first epoch; later missing values are written as ``NA``).

    With ``append=True`` rows are added to an existing file, keeping its header's column order.
    The file is opened for each row and closed again, so it is complete even when training is
    interrupted.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The CSV file (missing parent folders are created).
    separator : str, default ","
        The column separator.
    append : bool, default False
        Add rows to an existing file instead of overwriting it.
    filename : str or os.PathLike, optional
        Keras's name for ``path`` (give one of the two).

    Raises
    ------
    TypeError
        When neither or both of ``path`` and ``filename`` are given, or ``append`` is not a
        bool.
    OSError
        During ``fit``, when the file cannot be written.

    Examples
    --------
    >>> import csv, os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "log.csv")
    >>> history = model.fit(X, y, epochs=2, callbacks=[callbacks.CSVLogger(path)])
    >>> with open(path) as f:
    ...     rows = list(csv.DictReader(f))
    >>> len(rows), rows[0]["epoch"], "loss" in rows[0]
    (2, '0', True)
    >>> tmp.cleanup()
    """

    def __init__(self, path=None, separator: str = ",", append: bool = False, *, filename=None):
        self.path = _one_path(path, filename, "CSVLogger", "filename")
        self.separator = separator
        self.append = check_bool(append, "CSVLogger: append")
        self._keys = None
        self._started = False

    def on_train_begin(self, logs=None):
        self._keys = None
        self._started = True
        parent = os.path.dirname(self.path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, newline="") as f:
                header = f.readline().rstrip("\r\n")
            if header:
                self._keys = header.split(self.separator)
        elif not self.append or not os.path.exists(self.path):
            open(self.path, "w").close()

    @staticmethod
    def _cell(v):
        if isinstance(v, (float, np.floating)):
            return repr(float(v))
        return v

    def on_epoch_end(self, epoch, logs=None):
        if not self._started:  # used outside fit
            self.on_train_begin()
        logs = logs or {}
        rows = []
        if self._keys is None:
            self._keys = ["epoch", *(k for k, v in logs.items() if np.ndim(v) == 0)]
            rows.append(self._keys)
        rows.append([epoch if k == "epoch" else self._cell(logs.get(k, "NA")) for k in self._keys])
        with open(self.path, "a", newline="") as f:
            csv.writer(f, delimiter=self.separator, lineterminator="\n").writerows(rows)

    def on_train_end(self, logs=None):
        self._started = False


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``.

    Parameters
    ----------
    on_epoch_begin, on_epoch_end : callable, optional
        ``f(epoch, logs)``.
    on_batch_end : callable, optional
        ``f(batch, logs)``; called between chunks of batches unless ``wants_batches``.
    on_train_begin, on_train_end : callable, optional
        ``f(logs)``.
    wants_batches : bool, default False
        Call ``on_batch_end`` after every batch (slower).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import callbacks
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
    >>> losses = []
    >>> log = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    >>> history = model.fit(X, y, epochs=3, callbacks=[log])
    >>> len(losses), losses == history.history["loss"]
    (3, True)
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_batch_end=None,
        on_train_begin=None,
        on_train_end=None,
        wants_batches: bool = False,
    ):
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }
        for hook, fn in hooks.items():
            if fn is not None:  # the instance attribute shadows the no-op method
                setattr(self, hook, fn)
        self.wants_batches = check_bool(wants_batches, "LambdaCallback: wants_batches")


# Callbacks bridging to optional packages, loaded on first use (nncore.integrations).
_BRIDGES = {
    "TensorBoard": "nncore.integrations.tensorboard_callback",
    "OptunaPruning": "nncore.integrations.optuna_pruning",
}


def __getattr__(name: str):
    if name in _BRIDGES:
        return getattr(importlib.import_module(_BRIDGES[name]), name)
    raise AttributeError(f"module 'nncore.callbacks' has no attribute {name!r}")


__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
