"""The one epoch driver behind every ``fit``: callbacks, schedules, logs, progress, history and
stopping are written here once; what varies is pluggable.

A *source* yields, per epoch, *runs*: a run holds checked arrays and a row order, and a step
trains its batches ``begin..end`` in one call (``step.batches(run)``, ``step.train(run, begin,
end)`` -> summed statistics). Sources: :class:`ArraySource` (here), the streamed chunks of
:mod:`nncore.streaming`, the MPI shards of :mod:`nncore.distributed`. Steps: the fused C++ step
and the Python loss (:mod:`nncore.training.steps`), the data-parallel step. The driver returns
to Python after every call, so Ctrl-C stops at a batch boundary with ``model.history`` kept.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..callbacks import Callback, CallbackList, History
from ..progress import ProgressLogger

_CHUNK_SECONDS = 0.05  # a run's batches go to C++ in calls of about this long
# Statistics a step returns per call and the driver sums over an epoch.
EPOCH_SUMS = ("loss_sum", "penalty_sum", "rows", "correct", "skipped_nonfinite")


def check_schedulers(schedulers, optimizer=None) -> list:
    """fit's ``schedulers`` as a list, each checked for the scheduler protocol and, when it has
    one, for driving ``optimizer`` (one built on another model's would change nothing here).

    Parameters
    ----------
    schedulers : LRScheduler, list of LRScheduler or None
        fit's argument.
    optimizer : Optimizer, optional
        The fitted model's optimizer.

    Returns
    -------
    list of LRScheduler
        The schedulers (empty for None).

    Raises
    ------
    TypeError
        When one lacks ``interval``, ``step_batch`` or ``step_epoch``.
    ValueError
        When one drives another optimizer than ``optimizer``.
    """
    if schedulers is None:
        return []
    scheds = list(schedulers if isinstance(schedulers, (list, tuple)) else [schedulers])
    for s in scheds:
        if not all(hasattr(s, a) for a in ("interval", "step_batch", "step_epoch")):
            raise TypeError(
                "schedulers must be nncore.lr_scheduler schedulers (with interval, step_batch() "
                f"and step_epoch(logs)), got {s!r}"
            )
        target = getattr(s, "optimizer", None)
        if target is not None and optimizer is not None and target is not optimizer:
            raise ValueError(
                f"{type(s).__name__} drives another optimizer than this model's (a copy of the "
                "model, or one compiled again, has its own): build the scheduler on "
                "model.optimizer after compile, or use callbacks.LearningRateScheduler, which "
                "follows whichever model it is fitted with"
            )
    return scheds


def callback_list(model, callbacks, epochs, verbose, first=()) -> tuple[History, CallbackList]:
    """A fresh History and the callbacks of one fit, in calling order.

    Parameters
    ----------
    model : Sequential
        The model; the History also becomes ``model.history``.
    callbacks : list of Callback, Callback or None
        The user's callbacks (one on its own is a list of one).
    epochs : int
        The epochs of the fit (for the progress display).
    verbose : int
        fit's ``verbose``: a progress display when not 0.
    first : sequence of Callback, default ()
        Callbacks called before the History (diagnostics add to the epoch logs before History
        records them).

    Returns
    -------
    history : History
        The fit's History.
    callbacks : CallbackList
        ``first``, the History, the progress display and the user's callbacks.

    Raises
    ------
    TypeError
        When a callback is not an nncore Callback.
    """
    history = History()
    model.history = history
    # One callback on its own is taken as a list of one, as Keras does.
    cbs = [callbacks] if isinstance(callbacks, Callback) else list(callbacks or [])
    for c in cbs:
        if not isinstance(c, Callback):
            raise TypeError(f"callbacks must be nncore.callbacks.Callback instances, got {c!r}")
    chain: list[Callback] = [*first, history]
    if verbose:
        chain.append(ProgressLogger(verbose=verbose, epochs=epochs))
    return history, CallbackList([*chain, *cbs], model)


class ArraySource:
    """In-memory arrays: one run per epoch, its rows shuffled by (seed, epoch) or in order.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
        The checked inputs.
    y : ndarray
        The checked targets.
    sw : ndarray of shape (n_samples,) or None
        The sample weights.
    batch_size : int
        Rows per batch.
    shuffle : bool
        Shuffle the rows of each epoch.
    seed : int
        The shuffles' seed.
    epochs : int
        The epochs of the fit (for the callbacks' ``on_train_begin`` logs).
    """

    ready = True  # the model is built: the driver starts the callbacks before the first run

    def __init__(self, X, y, sw, batch_size: int, shuffle: bool, seed: int, epochs: int):
        self.run = (X, y, sw, None)
        self.shuffle, self.seed = shuffle, seed
        self.samples = X.shape[0]
        batches = -(-self.samples // batch_size)
        self.info = {"epochs": epochs, "batches": batches, "samples": self.samples}

    def runs(self, epoch: int):
        """The epoch's runs of batches: here one, all the rows.

        Parameters
        ----------
        epoch : int
            The epoch's index, which seeds its shuffle.

        Yields
        ------
        tuple
            ``(X, y, sample_weight, order)``: ``order`` is the epoch's row permutation
            (int64), or None for the rows in order.
        """
        X, y, sw, _ = self.run
        order = None
        if self.shuffle:
            order = np.random.default_rng([int(self.seed), epoch]).permutation(self.samples)
            order = order.astype(np.int64)
        yield (X, y, sw, order)


def new_totals() -> dict:
    """An epoch's running sums, all zero.

    Returns
    -------
    dict
        One entry per summed statistic (loss, penalty, correct, rows, ...), and ``grad_norm``
        (-1: none yet).
    """
    totals: dict = dict.fromkeys(EPOCH_SUMS, 0)
    totals["grad_norm"] = -1.0
    return totals


def add_stats(totals: dict, st: dict) -> None:
    """Add one call's statistics into an epoch's running sums.

    Parameters
    ----------
    totals : dict
        The sums, from :func:`new_totals`; updated in place.
    st : dict
        What the step returned; its ``grad_norm`` (the last step's) replaces the total's. Its
        ``loss_terms`` / ``penalty_terms`` (each batch's, in order), when present, are added one
        by one instead of its sums: the epoch's sums then do not depend on how its batches were
        split into calls (which follows the measured speed of the machine).
    """
    for key in EPOCH_SUMS:
        terms = st.get(key.replace("_sum", "_terms")) if key.endswith("_sum") else None
        if terms is None:
            totals[key] += st.get(key, 0)
        else:
            for v in terms.tolist():
                totals[key] += v
    if st.get("grad_norm", -1.0) >= 0:
        totals["grad_norm"] = st["grad_norm"]


class Driver:
    """Runs epochs of ``step`` over ``source``: the one epoch loop behind every ``fit``.

    Parameters
    ----------
    model : Sequential
        The model being trained.
    source : object
        The batch source: ``runs(epoch)`` yields runs of batches (:class:`ArraySource`, the
        streamed and MPI sources).
    step : object
        Trains the batches of a run (``steps.FusedStep``, ``steps.PythonLossStep``, the
        distributed step).
    schedulers : list of LRScheduler or None
        fit's learning-rate schedules.
    start : callable
        Called once with the first run (the model is built by then; with None before it when
        the source is ``ready``); returns (History, CallbackList, validation rows or None).
    ctx : nncore.distributed.Context, optional
        Makes every rank stop together.
    """

    def __init__(self, model, source, step, *, schedulers, start, ctx=None):
        self.model, self.source, self.step = model, source, step
        self.scheds = check_schedulers(schedulers, model.optimizer)
        self.per_batch = [s for s in self.scheds if s.interval == "batch"]
        self.start, self.ctx = start, ctx
        self.history = self.cb = self.val = None
        self.steps = self.skipped = 0  # optimizer steps run, and skipped as non-finite
        self.chunk = 4  # batches per call: a first guess, then what ~_CHUNK_SECONDS measured

    def fit(self, epochs: int) -> History:
        """Run up to ``epochs`` epochs (fewer when a callback or Ctrl-C stops training).

        Parameters
        ----------
        epochs : int
            The number of epochs.

        Returns
        -------
        History
            The fit's History (also ``model.history``).
        """
        model = self.model
        model.stop_training = False
        if getattr(self.source, "ready", False):  # built already: callbacks start before epoch 0
            self._begin(None)
        for epoch in range(model.epochs_done, model.epochs_done + epochs):
            if not self._epoch(epoch):
                break
        self._warn_skipped()
        if self.cb is None:  # no epochs, and a source that only builds the model lazily
            model.history = History()
            return model.history
        self.cb.on_train_end({})
        return self.history

    def _warn_skipped(self) -> None:
        """nncore's stance on non-finite steps: the optimizers skip them by default
        (``skip_nonfinite=True``, as torch's GradScaler skips inf/NaN steps) where a plain
        torch.optim step would apply them and poison the weights; a skip is never silent: one
        warning per fit, with the count."""
        opt = self.model.optimizer
        if self.skipped and opt is not None and opt.hyper_parameters().get("skip_nonfinite"):
            warnings.warn(
                f"{self.skipped} of {self.steps} optimizer steps in this fit were skipped: their "
                "gradients held NaN or inf, so the weights were left as they were "
                "(skip_nonfinite=True, the optimizers' default; torch.optim would have applied "
                "them). Lower the learning rate or clip (clipnorm=), stop at the first one with "
                "callbacks.TerminateOnNaN(), or pass skip_nonfinite=False to the optimizer to "
                "apply such steps as PyTorch does.",
                RuntimeWarning,
                stacklevel=4,
            )

    def _begin(self, run) -> None:
        self.history, self.cb, self.val = self.start(run)
        info = {"epochs": None, "batches": None, "samples": None}
        info.update(getattr(self.source, "info", {}))
        self.cb.on_train_begin(info)

    def _epoch(self, epoch: int) -> bool:
        """One epoch; False when training stops."""
        model, t0 = self.model, time.perf_counter()
        totals, started = new_totals(), False
        for run in self.source.runs(epoch):
            if self.cb is None:
                self._begin(run)
            if not started:
                self.cb.on_epoch_begin(epoch, {})
                started = True
            self._run(run, totals)
            if model.stop_training:
                break
        if self.cb is None:
            raise ValueError("the source yielded no chunks")
        if not started:
            self.cb.on_epoch_begin(epoch, {})
        logs = self.step.epoch_logs(totals, self.val, t0)
        model.epochs_done = epoch + 1
        for s in self.scheds:
            s.step_epoch(logs)
        self.cb.on_epoch_end(epoch, logs)
        stop = bool(model.stop_training)
        if self.ctx is not None:
            stop = model.stop_training = self.ctx.any_rank(stop)
        return not stop

    def _run(self, run, totals: dict) -> None:
        """A run's batches, handed to the step in calls of ~_CHUNK_SECONDS, or one by one when
        a callback or a per-batch schedule needs every batch."""
        nbatches, b = self.step.batches(run), 0
        one_by_one = self.cb.wants_batches or bool(self.per_batch) or self.step.one_by_one
        # The chunk measured in the previous run carries over, so an epoch shorter than
        # _CHUNK_SECONDS is one call, not a probe of 4 batches and then the rest.
        chunk = 1 if one_by_one else max(1, min(nbatches, self.chunk))
        while b < nbatches:
            end = min(nbatches, b + chunk)
            t1 = time.perf_counter()
            st = self.step.train(run, b, end)
            dt = time.perf_counter() - t1
            add_stats(totals, st)
            self.steps += st["batches"]
            self.skipped += st.get("skipped_nonfinite", 0)
            if st["batches"]:  # the one place a per-batch schedule steps: after each update
                for s in self.per_batch:
                    s.step_batch()
            b = end
            self.cb.on_batch_end(b - 1, self.step.batch_logs(totals, b - 1, nbatches))
            if self.model.stop_training:
                break
            if not one_by_one:
                per = dt / max(st["batches"], 1)
                self.chunk = max(1, 2**30 if per <= 0 else int(_CHUNK_SECONDS / per))
                chunk = min(nbatches, self.chunk)
