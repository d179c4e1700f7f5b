"""Optuna bridges: ``nc.callbacks.OptunaPruning(trial)`` reports an epoch-log value to a trial and
prunes it when the study's pruner says so; :func:`cross_validate` runs
:func:`nncore.model_selection.cross_validate` one fold at a time inside an objective, reporting
the running mean score after each fold so a bad trial stops after its first folds. Optuna is
imported when a callback is built or a function is called, not with nncore."""

from __future__ import annotations

import math

import numpy as np

from nncore.callbacks import Callback


def _require_optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError(
            "the Optuna bridge needs the optuna package: "
            "pip install 'nncore[optuna]' (or pip install optuna)"
        ) from None
    return optuna


_MAX_HINTS = ("acc", "auc", "f1", "precision", "recall", "r2", "score")


def _check_direction(optuna, trial, monitor: str, mode: str) -> None:
    """A pruner compares values in the study's direction: a loss reported to a study that
    maximizes would prune the best trials. Refuse that mismatch up front."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"OptunaPruning: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(h in monitor.lower() for h in _MAX_HINTS) else "min"
    study = getattr(trial, "study", None)
    direction = getattr(study, "direction", None) if study is not None else None
    if direction is None:
        return
    wanted = (
        optuna.study.StudyDirection.MAXIMIZE
        if mode == "max"
        else optuna.study.StudyDirection.MINIMIZE
    )
    if direction != wanted:
        raise ValueError(
            f"OptunaPruning: {monitor!r} is to be {'maximized' if mode == 'max' else 'minimized'} "
            f"but the study's direction is {direction.name.lower()}: its pruner would stop the "
            "best trials. Monitor a value in the study's direction (or set mode=)."
        )


class OptunaPruning(Callback):
    """Report ``logs[monitor]`` to an Optuna trial after every epoch and prune the trial (raise
    ``optuna.TrialPruned`` out of ``fit``) when its pruner says so.

    The value is reported at step ``n``, the number of epochs this callback has seen before it,
    counted across every ``fit`` it is passed to. So one callback shared by the folds of
    ``cross_validate(..., fit_params={"callbacks": [pruning]})`` reports fold 2's first epoch after
    fold 1's last, and the pruner compares trials fold by fold and epoch by epoch (every trial
    sees the same folds). Folds run in one process then (``n_jobs=1``): a trial does not travel
    to joblib workers.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial the objective was given.
    monitor : str, default "val_loss"
        An epoch-log key (``val_*`` needs ``validation_split`` or ``validation_data``). It must
        improve in the study's direction (the pruner compares values that way): ``val_loss``
        for ``direction="minimize"``, ``val_accuracy`` for ``"maximize"``.
    mode : {"auto", "min", "max"}, default "auto"
        Whether ``monitor`` is minimized or maximized; ``auto`` takes names such as accuracy,
        auc, f1, r2 as maximized, the rest as minimized. A mode that contradicts the study's
        direction raises ``ValueError``.

    Attributes
    ----------
    steps : int
        Epochs reported so far.
    pruned_epoch : int
        The epoch (of the last fit) at which the trial was pruned, -1 if it was not.

    Raises
    ------
    ImportError
        Without the optuna package.
    ValueError
        When ``monitor``'s mode contradicts the study's direction; during ``fit``, when
        ``monitor`` is not in the epoch logs.

    Examples
    --------
    >>> import numpy as np
    >>> import optuna
    >>> import nncore as nc
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> X = np.random.default_rng(0).normal(size=(128, 4)).astype(np.float32)
    >>> y = X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32)
    >>> def objective(trial):
    ...     lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    ...     model = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(1)], input_dim=4, seed=0)
    ...     model.compile(optimizer=nc.optim.Adam(lr=lr), loss="mse")
    ...     pruning = nc.callbacks.OptunaPruning(trial, monitor="val_loss")
    ...     history = model.fit(X, y, epochs=5, validation_split=0.25, callbacks=[pruning])
    ...     return history.history["val_loss"][-1]
    >>> study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    >>> study.optimize(objective, n_trials=4)
    >>> len(study.trials)
    4
    """

    def __init__(self, trial, monitor: str = "val_loss", mode: str = "auto"):
        self._optuna = _require_optuna()
        if not isinstance(monitor, str):
            raise ValueError(f"OptunaPruning: monitor must be a string, got {monitor!r}")
        _check_direction(self._optuna, trial, monitor, mode)
        self.trial = trial
        self.monitor = monitor
        self.steps = 0
        self.pruned_epoch = -1

    def on_train_begin(self, logs=None):
        self.pruned_epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            avail = ", ".join(k for k in logs if "/" not in k) or "none"
            raise ValueError(
                f"OptunaPruning: monitor {self.monitor!r} is not in the epoch logs "
                f"(available: {avail})"
            )
        value = float(logs[self.monitor])
        step = self.steps
        self.steps += 1
        if not math.isfinite(value):  # a diverged trial is as bad as it gets: prune it
            self.pruned_epoch = epoch
            raise self._optuna.TrialPruned(f"{self.monitor} = {value} at epoch {epoch}")
        self.trial.report(value, step)
        if self.trial.should_prune():
            self.pruned_epoch = epoch
            raise self._optuna.TrialPruned(f"pruned at step {step} ({self.monitor} = {value:.6g})")

    def __getstate__(self):
        raise TypeError(
            "OptunaPruning holds an Optuna trial and cannot be pickled: run the folds in one "
            "process (cross_validate(..., n_jobs=1))"
        )


def cross_validate(trial, model_fn, X, y, cv=5, **kwargs) -> dict:
    """:func:`nncore.model_selection.cross_validate` inside an Optuna objective, with pruning
    between folds.

    The folds run one at a time (the same folds as one call would give); after fold ``k`` the
    mean test score of folds ``0..k`` is reported to ``trial`` at step ``k``, and when the
    study's pruner says so ``optuna.TrialPruned`` is raised before the next fold. Scores where
    smaller is better (a loss) are reported as they are; set the study's ``direction`` to match
    the score.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The objective's trial.
    model_fn, X, y, cv
        As for :func:`nncore.model_selection.cross_validate`.
    **kwargs
        The other arguments of :func:`nncore.model_selection.cross_validate` (``fit_params``,
        ``scoring``, ``standardize``, ...). ``n_jobs`` must be 1 (folds run one by one).

    Returns
    -------
    dict
        :func:`nncore.model_selection.cross_validate`'s result over all folds (per-fold arrays,
        histories) plus ``"epochs"``: the epochs trained in all folds.

    Raises
    ------
    optuna.TrialPruned
        When the pruner stops the trial after a fold.
    ValueError
        As :func:`nncore.model_selection.cross_validate` raises, and for ``n_jobs`` other than 1.

    Examples
    --------
    >>> import numpy as np
    >>> import optuna
    >>> import nncore as nc
    >>> from nncore.integrations import optuna_pruning
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> X = np.random.default_rng(0).normal(size=(90, 4)).astype(np.float32)
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> def objective(trial):
    ...     units = trial.suggest_int("units", 4, 32)
    ...     def model_fn():
    ...         model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4)
    ...         return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    ...     res = optuna_pruning.cross_validate(
    ...         trial, model_fn, X, y, cv=3, fit_params={"epochs": 3, "batch_size": 16}
    ...     )
    ...     return res["test_accuracy"].mean()
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(objective, n_trials=3)
    >>> len(study.trials)
    3
    """
    optuna = _require_optuna()
    from nncore.model_selection import KFold, StratifiedKFold
    from nncore.model_selection import cross_validate as _cv

    if kwargs.get("n_jobs", 1) not in (1, None):
        raise ValueError("cross_validate with pruning runs the folds one by one: use n_jobs=1")
    X = np.asarray(X)
    y = np.asarray(y)
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        probe = model_fn()
        classifier = getattr(probe, "loss", None) in ("cross_entropy", "binary_cross_entropy")
        cv = StratifiedKFold(int(cv)) if classifier else KFold(int(cv))
    folds = list(cv.split(X, y)) if hasattr(cv, "split") else list(cv)
    parts: list = []
    main = None
    for k, fold in enumerate(folds):
        res = _cv(model_fn, X, y, cv=[fold], **kwargs)
        parts.append(res)
        if main is None:
            main = next(key for key in res if key.startswith("test_"))
        score = float(np.mean([p[main][0] for p in parts]))
        trial.report(score, k)
        if k + 1 < len(folds) and trial.should_prune():
            raise optuna.TrialPruned(f"pruned after fold {k} (mean {main[5:]} = {score:.6g})")
    out: dict = {}
    for key in parts[0]:
        vals = [p[key] for p in parts]
        out[key] = (
            np.concatenate(vals)
            if isinstance(vals[0], np.ndarray)
            else [v for p in vals for v in p]
        )
    out["epochs"] = sum(len(h.epoch) for h in out["history"])
    return out


__all__ = ["OptunaPruning", "cross_validate"]
