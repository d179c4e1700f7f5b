"""Learning-rate schedules with torch.optim.lr_scheduler's constructor signatures and lr
sequences (the same recursive or closed forms, so the values agree to rounding).

They drive any object with a settable ``lr`` (an :mod:`nncore.optim` optimizer); one parameter
group, so ``get_last_lr()`` returns a one-element list as in torch. ``fit`` (its epoch driver,
``nncore.training.driver``) drives every scheduler through one protocol: ``step_batch()`` after
each update and ``step_epoch(logs)`` after each epoch, as a PyTorch loop calls ``step()``; ``interval`` ("epoch", the default, or "batch" for OneCycleLR) says which of the
two calls ``step()``. ReduceLROnPlateau's ``step(metric)`` takes the monitored value; its
``step_epoch`` passes val_loss, else loss.
OneCycleLR cycles beta1 (Adam family) or momentum (SGD/RMSprop built with momentum > 0) like torch;
an SGD/RMSprop without momentum needs ``cycle_momentum=False``.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections import Counter

from ._validation import check_bool

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "SequentialLR",
    "ReduceLROnPlateau",
]


def _check_optimizer(optimizer):
    if not hasattr(optimizer, "lr"):
        raise TypeError(
            f"{type(optimizer).__name__} is not an optimizer (it needs a settable 'lr')"
        )


def _pos_int(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _number(name, v, lo=None, hi=None, lo_open=False):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise ValueError(f"{name} must be a number, got {v!r}")
    v = float(v)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {v!r}")
    return v


class LRScheduler:
    """Base class (torch.optim.lr_scheduler.LRScheduler semantics, one parameter group).

    A subclass implements :meth:`get_lr` (and optionally a closed form); construction takes the
    first step, so the optimizer holds the schedule's first lr at once. ``interval`` ("epoch" or
    "batch") tells ``Sequential.fit`` when to step it.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> X = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> model = nc.Sequential([nc.Dense(1)], input_dim=3).compile(optimizer=opt, loss="mse")
    >>> sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> isinstance(sched, lr_scheduler.LRScheduler)
    True
    >>> history = model.fit(X, X.sum(axis=1), epochs=3, schedulers=[sched])
    >>> sched.get_last_lr()  # halved after each of the 3 epochs
    [0.0125]
    """

    interval = "epoch"

    def __init__(self, optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            if getattr(optimizer, "initial_lr", None) is None:
                optimizer.initial_lr = float(optimizer.lr)
        elif getattr(optimizer, "initial_lr", None) is None:
            raise KeyError(
                "param 'initial_lr' is not set on the optimizer when resuming a scheduler with "
                "last_epoch >= 0 (load the optimizer state first)"
            )
        self.base_lrs = [float(optimizer.initial_lr)]
        self.last_epoch = last_epoch
        self._is_initial = False
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    @property
    def _lr(self) -> float:
        return float(self.optimizer.lr)

    def get_lr(self) -> list:
        """The learning rate for the current ``last_epoch``, as a one-element list (a subclass's
        rule, chained on the previous value as torch's schedulers are)."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The lr set by the last step.

        Returns
        -------
        list of float
            One element (torch returns one per parameter group; nncore has one group).
        """
        return list(self._last_lr)

    def step(self) -> None:
        """Advance the schedule by one step and set the optimizer's learning rate."""
        self._step_count += 1
        self._update_lr()

    def step_batch(self) -> None:
        """Called by ``fit`` after each optimizer update: a per-batch schedule steps here."""
        if self.interval == "batch":
            self.step()

    def step_epoch(self, logs: dict) -> None:
        """Called by ``fit`` after each epoch: a per-epoch schedule steps here.

        Parameters
        ----------
        logs : dict
            The epoch's logs (``{"loss": ..., "val_loss": ..., ...}``).
        """
        if self.interval == "epoch":
            self.step()

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = (
                self._get_closed_form_lr()
                if hasattr(self, "_get_closed_form_lr")
                else self.get_lr()
            )
        self.optimizer.lr = values[0]
        self._last_lr = [float(self.optimizer.lr)]

    def state_dict(self) -> dict:
        """The scheduler's state, to resume it later.

        Returns
        -------
        dict
            Every attribute but the optimizer (and callables), as torch does.
        """
        return {
            k: v
            for k, v in self.__dict__.items()
            if k != "optimizer" and not callable(v) and k != "_schedulers"
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state from :meth:`state_dict`.

        Parameters
        ----------
        state_dict : dict
            What :meth:`state_dict` returned.

        Raises
        ------
        ValueError
            When ``state_dict`` is not a dict.
        """
        if not isinstance(state_dict, dict):
            raise ValueError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        self.__dict__.update(state_dict)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr[0]:.6g})"


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    lr_lambda : callable
        ``lr_lambda(epoch) -> float``, the multiplier of the initial lr.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``lr_lambda`` is not callable.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.05, 0.0333, 0.025]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        if not callable(lr_lambda):
            raise ValueError("lr_lambda must be callable")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.base_lrs[0] * self.lr_lambda(self.last_epoch)]


class StepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    step_size : int
        Epochs between two decays, >= 1.
    gamma : float, default 0.1
        The factor, >= 0.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``step_size`` is not a positive integer or ``gamma`` is negative or not a number.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _pos_int("step_size", step_size)
        self.gamma = _number("gamma", gamma, lo=0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [self._lr]
        return [self._lr * self.gamma]

    def _get_closed_form_lr(self):
        return [self.base_lrs[0] * self.gamma ** (self.last_epoch // self.step_size)]


class MultiStepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` at each milestone epoch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    milestones : iterable of int
        The epochs at which the lr decays (a milestone listed twice decays twice).
    gamma : float, default 0.1
        The factor, >= 0.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When a milestone is not an integer or ``gamma`` is negative or not a number.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        ms = list(milestones)
        for m in ms:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral):
                raise ValueError(f"milestones must be integers, got {m!r}")
        self.milestones = Counter(int(m) for m in ms)
        self.gamma = _number("gamma", gamma, lo=0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return [self._lr]
        return [self._lr * self.gamma ** self.milestones[self.last_epoch]]

    def _get_closed_form_lr(self):
        ms = sorted(self.milestones.elements())
        return [self.base_lrs[0] * self.gamma ** bisect_right(ms, self.last_epoch)]


class ConstantLR(LRScheduler):
    """lr * factor for the first ``total_iters`` epochs, then lr.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    factor : float, default 1/3
        The multiplier during the first epochs, in [0, 1].
    total_iters : int, default 5
        Epochs at the reduced lr.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``factor`` is outside [0, 1] or not a number.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.05, 0.05, 0.05, 0.1, 0.1]
    """

    def __init__(
        self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ):
        self.factor = _number("factor", factor, lo=0.0, hi=1.0)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [self._lr * self.factor]
        if self.last_epoch != self.total_iters:
            return [self._lr]
        return [self._lr * (1.0 / self.factor)]

    def _get_closed_form_lr(self):
        return [
            self.base_lrs[0]
            * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
        ]


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the multiplier from start_factor to end_factor over
    ``total_iters`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    start_factor : float, default 1/3
        The multiplier at epoch 0, in (0, 1].
    end_factor : float, default 1.0
        The multiplier from epoch ``total_iters`` on, in [0, 1].
    total_iters : int, default 5
        Epochs of the ramp, >= 1.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When a factor is out of its range or ``total_iters`` is not a positive integer.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.025, 0.05, 0.075, 0.1, 0.1]
    """

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        self.start_factor = _number("start_factor", start_factor, lo=0.0, hi=1.0, lo_open=True)
        self.end_factor = _number("end_factor", end_factor, lo=0.0, hi=1.0)
        self.total_iters = _pos_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [self._lr * self.start_factor]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [self._lr]
        return [
            self._lr
            * (
                1.0
                + (self.end_factor - self.start_factor)
                / (
                    self.total_iters * self.start_factor
                    + (self.last_epoch - 1) * (self.end_factor - self.start_factor)
                )
            )
        ]

    def _get_closed_form_lr(self):
        return [
            self.base_lrs[0]
            * (
                self.start_factor
                + (self.end_factor - self.start_factor)
                * min(self.total_iters, self.last_epoch)
                / self.total_iters
            )
        ]


class ExponentialLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every epoch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    gamma : float
        The factor, >= 0.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``gamma`` is negative or not a number.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _number("gamma", gamma, lo=0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return [self._lr]
        return [self._lr * self.gamma]

    def _get_closed_form_lr(self):
        return [self.base_lrs[0] * self.gamma**self.last_epoch]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial lr to ``eta_min`` over ``T_max`` epochs (torch's
    recursive form, which keeps following the cosine past T_max).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    T_max : int
        Epochs from the initial lr down to ``eta_min``, >= 1.
    eta_min : float, default 0.0
        The lowest lr, >= 0.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``T_max`` is not a positive integer or ``eta_min`` is negative.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146]
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = _pos_int("T_max", T_max)
        self.eta_min = _number("eta_min", eta_min, lo=0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        base, eta, T = self.base_lrs[0], self.eta_min, self.T_max
        if self._is_initial:
            return [self._lr]
        if self._step_count == 1 and self.last_epoch > 0:
            return [eta + (base - eta) * (1 + math.cos(self.last_epoch * math.pi / T)) / 2]
        if (self.last_epoch - 1 - T) % (2 * T) == 0:
            return [self._lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2]
        return [
            (1 + math.cos(math.pi * self.last_epoch / T))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / T))
            * (self._lr - eta)
            + eta
        ]

    def _get_closed_form_lr(self):
        base, eta = self.base_lrs[0], self.eta_min
        return [eta + (base - eta) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine annealing restarted every T_i epochs, T_i = T_0 * T_mult**restarts.

    ``step(epoch)`` may also be given a (fractional) epoch to jump to, as in torch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    T_0 : int
        Epochs of the first cycle, >= 1.
    T_mult : int, default 1
        Growth factor of the cycle length after each restart, >= 1.
    eta_min : float, default 0.0
        The lowest lr, >= 0.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``T_0`` or ``T_mult`` is not a positive integer, ``eta_min`` is negative, or
        ``step`` is given a negative epoch.
    TypeError
        When ``optimizer`` has no ``lr``.
    KeyError
        When resuming (``last_epoch >= 0``) and the optimizer has no ``initial_lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3)
    >>> lrs = []
    >>> for epoch in range(7):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.1, 0.075, 0.025, 0.1, 0.075, 0.025, 0.1]
    """

    def __init__(
        self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_0 = _pos_int("T_0", T_0)
        self.T_i = self.T_0
        self.T_mult = _pos_int("T_mult", T_mult)
        self.eta_min = _number("eta_min", eta_min, lo=0.0)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        base, eta = self.base_lrs[0], self.eta_min
        return [eta + (base - eta) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2]

    def step(self, epoch=None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        self.optimizer.lr = self.get_lr()[0]
        self._last_lr = [float(self.optimizer.lr)]


def _one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list:
    """torch's OneCycleLR phases: the last step of each, and the group keys its lr and momentum
    run from and to."""
    warmup = float(pct_start * total_steps) - 1
    if three_phase:
        rows = [
            (warmup, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (
                float(2 * pct_start * total_steps) - 2,
                "max_lr",
                "initial_lr",
                "base_momentum",
                "max_momentum",
            ),
            (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ]
    else:
        rows = [
            (warmup, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
    keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
    return [dict(zip(keys, row)) for row in rows]


def _cycled_momentum(optimizer) -> str:
    """The hyper-parameter OneCycleLR cycles: beta1 (Adam family) or momentum (SGD/RMSprop built
    with momentum > 0)."""
    cfg = getattr(optimizer, "_config", {})
    if "betas" in cfg:
        return "beta1"
    if cfg.get("momentum", 0) > 0:
        return "momentum"
    raise ValueError(
        "optimizer must support momentum or beta1 with `cycle_momentum` option "
        "enabled (an nncore SGD/RMSprop needs momentum > 0 at construction), or pass "
        "cycle_momentum=False"
    )


class OneCycleLR(LRScheduler):
    """The 1cycle policy (stepped per batch: ``interval = "batch"``): warm up from
    max_lr/div_factor to max_lr over pct_start of the steps, then anneal to
    initial_lr/final_div_factor (three_phase: back to the initial lr first). Cycles beta1 or
    momentum inversely, as torch does.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
        With ``cycle_momentum``, an Adam-family optimizer or an SGD/RMSprop built with
        momentum > 0.
    max_lr : float
        The peak lr, >= 0.
    total_steps : int, optional
        Steps (batches) in the cycle; else ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
        Used when ``total_steps`` is not given.
    pct_start : float, default 0.3
        Fraction of the steps spent warming up, in [0, 1].
    anneal_strategy : {"cos", "linear"}, default "cos"
        Shape of the warm-up and annealing.
    cycle_momentum : bool, default True
        Cycle beta1 or momentum between ``max_momentum`` and ``base_momentum``, inversely to the
        lr.
    base_momentum, max_momentum : float, default 0.85, 0.95
        The momentum range.
    div_factor : float, default 25.0
        The initial lr is ``max_lr / div_factor``; > 0.
    final_div_factor : float, default 1e4
        The final lr is ``initial_lr / final_div_factor``; > 0.
    three_phase : bool, default False
        Anneal back to the initial lr before the final decay.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When neither ``total_steps`` nor both ``epochs`` and ``steps_per_epoch`` are given, a
        value is out of range, the optimizer has no momentum to cycle, or ``step`` runs past
        ``total_steps``.
    TypeError
        When ``optimizer`` has no ``lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1, momentum=0.9)
    >>> sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.04, 0.9505, 0.6113, 0.1883, 0.0]
    >>> sched.interval  # fit steps it after each batch
    'batch'
    """

    interval = "batch"

    def __init__(
        self,
        optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            self.total_steps = _pos_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _pos_int("epochs", epochs) * _pos_int(
                "steps_per_epoch", steps_per_epoch
            )
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        pct_start = _number("pct_start", pct_start, lo=0.0, hi=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        max_lr = _number("max_lr", max_lr, lo=0.0)
        div_factor = _number("div_factor", div_factor, lo=0.0, lo_open=True)
        final_div_factor = _number("final_div_factor", final_div_factor, lo=0.0, lo_open=True)
        self._schedule_phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        if last_epoch == -1:
            optimizer.initial_lr = max_lr / div_factor
            self.group = {
                "initial_lr": optimizer.initial_lr,
                "max_lr": max_lr,
                "min_lr": optimizer.initial_lr / final_div_factor,
            }
        else:
            self.group = dict(getattr(self, "group", {}))
        self.cycle_momentum = check_bool(cycle_momentum, "OneCycleLR: cycle_momentum")
        if self.cycle_momentum:
            self._momentum_name = _cycled_momentum(optimizer)
            self.group["max_momentum"] = _number("max_momentum", max_momentum)
            self.group["base_momentum"] = _number("base_momentum", base_momentum)
            if last_epoch == -1:
                optimizer.set_hparam(self._momentum_name, self.group["max_momentum"])
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def get_lr(self):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        g = self.group
        start_step = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step_num <= end_step or i == len(self._schedule_phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                lr = self._anneal(g[phase["start_lr"]], g[phase["end_lr"]], pct)
                if self.cycle_momentum:
                    mom = self._anneal(g[phase["start_momentum"]], g[phase["end_momentum"]], pct)
                break
            start_step = phase["end_step"]
        if self.cycle_momentum:
            self.optimizer.set_hparam(self._momentum_name, mom)
        return [lr]


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` one after another, switching at the ``milestones`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
        Every scheduler of ``schedulers`` must drive it.
    schedulers : list of LRScheduler
        At least one; ReduceLROnPlateau is not supported.
    milestones : list of int
        The epochs at which the next scheduler takes over; one fewer than the schedulers.
    last_epoch : int, default -1
        The index of the last epoch when resuming; -1 starts afresh (the optimizer's current lr
        becomes its ``initial_lr``).

    Raises
    ------
    ValueError
        When ``schedulers`` is empty, holds a ReduceLROnPlateau or a scheduler of another
        optimizer, or the number of milestones is not one fewer than the schedulers.
    TypeError
        When ``optimizer`` has no ``lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> warmup = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [0.05, 0.075, 0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_optimizer(optimizer)
        schedulers = list(schedulers)
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR does not support ReduceLROnPlateau (index {i})")
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(
                    f"SequentialLR expects all schedulers to belong to the same optimizer "
                    f"(index {i} does not)"
                )
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than "
                f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        self.base_lrs = [float(optimizer.initial_lr)]
        optimizer.lr = optimizer.initial_lr
        for s in self._schedulers:
            s.last_epoch -= 1
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()
        self._step_count = 1

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        d = super().state_dict()
        d["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return d

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        subs = state_dict.pop("_schedulers", None)
        self.__dict__.update(state_dict)
        if subs is not None:
            if len(subs) != len(self._schedulers):
                raise ValueError(
                    f"state_dict has {len(subs)} schedulers, this SequentialLR has "
                    f"{len(self._schedulers)}"
                )
            for s, d in zip(self._schedulers, subs):
                s.load_state_dict(d)


class ReduceLROnPlateau(LRScheduler):
    """Multiplies the lr by ``factor`` when the metric passed to ``step(metric)`` has not
    improved for ``patience`` epochs (torch semantics, including threshold modes and cooldown).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set (any object with a settable ``lr``).
    mode : {"min", "max"}, default "min"
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float, default 0.1
        The multiplier of a reduction, < 1.
    patience : int, default 10
        Epochs without improvement tolerated before reducing, >= 0.
    threshold : float, default 1e-4
        The least change that counts as an improvement.
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int, default 0
        Epochs to wait after a reduction before counting bad epochs again, >= 0.
    min_lr : float or [float], default 0
        The lr is never reduced below this.
    eps : float, default 1e-8
        A reduction smaller than this is not applied.

    Raises
    ------
    ValueError
        When ``factor >= 1``, ``mode`` or ``threshold_mode`` is unknown, ``patience`` or
        ``cooldown`` is not an integer >= 0, or a number is out of range.
    TypeError
        When ``optimizer`` has no ``lr``.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore import lr_scheduler
    >>> opt = nc.optim.SGD(lr=0.1)
    >>> sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     sched.step(val_loss)
    >>> sched.get_last_lr()  # two epochs without improvement, then halved
    [0.05]
    """

    def __init__(
        self,
        optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0,
        eps: float = 1e-8,
    ):
        _check_optimizer(optimizer)
        factor = _number("factor", factor)
        if factor >= 1.0:
            raise ValueError(f"factor should be < 1.0, got {factor}")
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != 1:
                raise ValueError(f"expected 1 min_lr (one parameter group), got {len(min_lr)}")
            min_lr = min_lr[0]
        self.factor = factor
        self.optimizer = optimizer
        self.min_lrs = [_number("min_lr", min_lr, lo=0.0)]
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, numbers.Integral) or cooldown < 0:
            raise ValueError(f"cooldown must be an integer >= 0, got {cooldown!r}")
        self.patience: int = int(patience)
        self.cooldown: int = int(cooldown)
        self.eps = _number("eps", eps, lo=0.0)
        self.last_epoch = 0
        self._last_lr = [float(optimizer.lr)]
        self._init_is_better(mode, _number("threshold", threshold), threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics) -> None:  # type: ignore[override]
        current = float(metrics)
        epoch = self.last_epoch + 1
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(self.optimizer.lr)]

    def step_epoch(self, logs: dict) -> None:
        """Step on the epoch's validation loss, or its training loss without validation data.

        Parameters
        ----------
        logs : dict
            The epoch's logs; ``"val_loss"`` is read, else ``"loss"``.
        """
        self.step(logs.get("val_loss", logs["loss"]))

    def _reduce_lr(self):
        old_lr = float(self.optimizer.lr)
        new_lr = max(old_lr * self.factor, self.min_lrs[0])
        if old_lr - new_lr > self.eps:
            self.optimizer.lr = new_lr

    @property
    def in_cooldown(self):
        """True while the scheduler waits out ``cooldown`` epochs after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
