"""Optimizers with torch.optim's formulas, names and defaults, run by the C++ core in one fused
pass over all parameters per step; gradient clipping (global norm / value) and a non-finite
gradient check as options. Learning-rate schedules live in :mod:`nncore.lr_scheduler`.

Differences from torch.optim: one parameter group (the whole model); ``SGD``'s default lr is
0.01 (torch's is 1e-3); ``clipnorm`` / ``clipvalue`` / ``skip_nonfinite`` are optimizer options.
With ``skip_nonfinite=True`` (default) a step whose gradients hold a NaN or inf is skipped
entirely: parameters, state and the step count stay as they were (like torch's GradScaler).
The step reports ``{"grad_norm", "finite", "skipped"}`` (the norm is the pre-clip global L2
norm, accumulated in float64 deterministically). ``clipnorm`` / ``clipvalue`` are applied on the
fly inside the update: the gradient arena itself is left unscaled (use :func:`clip_grad_norm_`
to clip it in place). With ``skip_nonfinite=False`` and no ``clipnorm`` the norm and the
non-finite check are fused into the single update pass (28 B/param for Adam instead of 32).
"""

from __future__ import annotations

import inspect
from collections.abc import MutableMapping

import numpy as np

from . import (
    _core,
    _schema,
    lr_scheduler,  # noqa: F401  (also reachable as nncore.optim.lr_scheduler)
)

__all__ = [
    "Optimizer",
    "ParamGroup",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "NAdam",
    "Adadelta",
    "get",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]

_COMMON = (("clipnorm", None), ("clipvalue", None), ("skip_nonfinite", True), ("maximize", False))
_GE0 = {"limit": "ge0", "optional": False}
# Options added after the file format settled: left out of get_config (and so of model files)
# while off, so a file that does not use them stays byte for byte what it was and readable by
# earlier versions.
_OMIT_AT_DEFAULT = ("raw_eps",)


def _own_names(name: str) -> tuple:
    """An optimizer's own hyper-parameters (Python names, in the core's order): its schema entry
    without lr and the common options, beta1/beta2 as the pair ``betas``."""
    skip = {"lr"} | {k for k, _ in _COMMON}
    out: list = []
    for k in _schema.optimizer_params(name):
        k = "betas" if k in ("beta1", "beta2") else k
        if k not in skip and k not in out:
            out.append(k)
    return tuple(out)


def _check(name, v, params=None):
    """Validates one hyper-parameter (Python names, as in torch.optim) against the core's limits
    (``params``: the optimizer's schema entry; plain ``>= 0`` without one); returns it
    normalised."""
    if name == "betas":
        if not isinstance(v, (tuple, list)) or len(v) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {v!r}")
        return tuple(
            _schema.check(f"betas[{i}] (beta{i + 1})", params[f"beta{i + 1}"], b)
            for i, b in enumerate(v)
        )
    return _schema.check(name, params[name] if params else _GE0, v)


_BY_NAME: dict = {}  # name -> class; filled by Optimizer.__init_subclass__


class Optimizer:
    """Base class: holds the hyper-parameters, the core optimizer and the model it updates.
    A subclass that sets its own ``name`` is registered under it for :func:`get`.

    Parameters
    ----------
    params : Sequential, Parameters or None
        The model to update, ``model.parameters()``, or None (``model.compile`` attaches it).
    config : dict
        Hyper-parameters by their torch.optim names (``lr``, ``betas``, ...), each checked
        against the limits of the core's schema entry for ``name``.

    Raises
    ------
    ValueError
        When a hyper-parameter is out of its limits or ``params`` is not a model.

    Examples
    --------
    >>> import nncore as nc
    >>> opt = nc.optim.get("adam", lr=0.01)
    >>> isinstance(opt, nc.optim.Optimizer), opt.name
    (True, 'adam')
    >>> opt.get_config()["betas"]
    [0.9, 0.999]
    """

    name = ""  # the core's name; hyper-parameters and their limits come from its schema entry

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Only a class naming itself registers: a user's subclass of Adam must not replace "adam".
        if cls.__dict__.get("name"):
            _BY_NAME[cls.name] = cls

    def __init__(self, params, config):
        limits = _schema.optimizer_params(self.name)
        config = {k: _check(k, v, limits) for k, v in config.items()}
        # The lr lives in the core optimizer only; _config holds the other hyper-parameters.
        lr = config.pop("lr")
        self._config = config
        self._extra_checks()
        self._model = None
        self._make_core(lr)  # validates the combination in the core as well
        if params is not None:
            model = None
            if hasattr(params, "engine") and hasattr(params, "compile"):
                model = params
            elif getattr(params, "model", None) is not None:
                model = params.model
            if model is None:
                raise ValueError(
                    "params must be a model or model.parameters() (one parameter group: the "
                    f"whole model), got {type(params).__name__}"
                )
            model.optimizer = self
            if model.built:
                self.attach(model)

    def _extra_checks(self):
        pass

    # -- core object ------------------------------------------------------------------------
    def _core_hparams(self) -> dict:
        hp = {}
        for k, v in self._config.items():
            if k == "betas":
                hp["beta1"], hp["beta2"] = float(v[0]), float(v[1])
            elif k in ("clipnorm", "clipvalue"):
                hp[k] = 0.0 if v is None else float(v)
            else:
                hp[k] = float(v)
        return hp

    def _make_core(self, lr: float) -> None:
        self._core = _core.make_optimizer(self.name, {**self._core_hparams(), "lr": float(lr)})

    def core_optimizer(self):
        """The compiled optimizer this object drives (the one holder of the lr).

        Returns
        -------
        nncore._core.Optimizer
            The core's optimizer object.
        """
        return self._core

    def hyper_parameters(self) -> dict:
        """The hyper-parameters other than lr, as given (checked).

        Returns
        -------
        dict
            A copy: changing it does not change the optimizer.
        """
        return dict(self._config)

    def attach(self, model, *, moved_from=None):
        """Make ``model``'s network step this optimizer (``model.compile`` calls it).

        Parameters
        ----------
        model : Sequential
            A built model.
        moved_from : Sequential, optional
            A model object that ``model`` takes the place of (unpickling builds a temporary
            model, then moves its contents into the object being restored).

        Raises
        ------
        ValueError
            When this optimizer is still another model's, or has stepped for one: its moments
            and step count would carry over (cross-validation folds continuing each other's
            Adam state).
        """
        other = self._model
        if other is moved_from:
            other = None
        if other is not None and other is not model and (other.optimizer is self or self.steps):
            raise ValueError(
                f"this {type(self).__name__} is already the optimizer of another model"
                f"{f' ({self.steps} steps taken)' if self.steps else ''}, and an optimizer's "
                "state (moments, step count) belongs to one model: give each model its own "
                f"(optimizer={self.name!r}, or a new nc.optim.{type(self).__name__}(...) inside "
                "the function that builds the model)"
            )
        self._model = model
        model.engine.set_optimizer(self.core_optimizer())

    def _built_model(self):
        if self._model is None or not self._model.built:
            raise RuntimeError(
                "the optimizer is not attached to a built model: pass it to model.compile() "
                "(or construct it with model.parameters())"
            )
        return self._model

    # -- torch-like API ---------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate; setting it (checked against the core's limits) takes effect at
        the next step, as schedulers do."""
        return self.core_optimizer().lr

    @lr.setter
    def lr(self, value):
        self.core_optimizer().lr = _check("lr", value, _schema.optimizer_params(self.name))

    def set_hparam(self, name, value):
        """Change one hyper-parameter between steps (OneCycleLR cycles beta1 / momentum so).

        Parameters
        ----------
        name : str
            The hyper-parameter: ``"momentum"``, ``"weight_decay"``, ...; ``"beta1"`` and
            ``"beta2"`` address the ``betas`` pair.
        value : float
            Its new value.
        """
        off = value is None and name in ("clipnorm", "clipvalue")  # None: no clipping
        value = None if off else float(value)
        self.core_optimizer().set_hparam(name, 0.0 if off else value)
        if name in ("beta1", "beta2"):
            b = list(self._config["betas"])
            b[0 if name == "beta1" else 1] = value
            self._config["betas"] = tuple(b)
        else:
            self._config[name] = value

    def _get_hparam(self, name):
        return float(self.core_optimizer().hparams()[name])

    @property
    def param_groups(self) -> list:
        """PyTorch's view of the hyper-parameters: one group (nncore updates the whole model),
        a dict-like :class:`ParamGroup` whose writes reach the optimizer, so
        ``for g in opt.param_groups: g["lr"] = 0.01`` works as in PyTorch.

        Returns
        -------
        list of ParamGroup
            One group.
        """
        return [ParamGroup(self)]

    @property
    def steps(self) -> int:
        """Number of updates done (skipped non-finite steps do not count)."""
        return self.core_optimizer().steps

    def step(self) -> dict:
        """One update of the attached model from its gradients.

        Returns
        -------
        dict
            ``{"grad_norm": float, "finite": bool, "skipped": bool}``: the gradient's global
            norm, whether it was finite, and whether the update was skipped for it.
        """
        return self._built_model().engine.optimizer_step()

    def zero_grad(self) -> None:
        """Zero the attached model's gradients (one ``memset`` over its gradient arena)."""
        self._built_model().zero_grad()

    def get_config(self) -> dict:
        """The optimizer's name and hyper-parameters (saved in model files).

        Returns
        -------
        dict
            ``{"name": ..., "lr": ..., ...}``: enough for :func:`get` to rebuild the optimizer.
        """
        cfg: dict = {"name": self.name, "lr": self.lr}
        cfg.update(self._config)
        for k in _OMIT_AT_DEFAULT:
            if k in cfg and not cfg[k]:
                del cfg[k]
        if "betas" in cfg:
            cfg["betas"] = list(cfg["betas"])
        return cfg

    def __repr__(self):
        cfg = self.get_config()
        cfg.pop("name")
        if "betas" in cfg:
            cfg["betas"] = tuple(cfg["betas"])
        defaults = dict(_COMMON)
        parts = [f"{k}={v!r}" for k, v in cfg.items() if not (k in defaults and v == defaults[k])]
        return f"{type(self).__name__}({', '.join(parts)})"

    def state_dict(self) -> dict:
        """Everything needed to resume training bitwise identically.

        Returns
        -------
        dict
            ``{"name", "hparams", "steps", "lr", "state": {name: float32 array}}``.
        """
        core = self.core_optimizer()
        hp = self.get_config()
        hp.pop("name")
        return {
            "name": self.name,
            "hparams": hp,
            "steps": int(core.steps),
            "lr": float(core.lr),
            "state": {k: np.asarray(core.get_state(k)) for k in core.state_names()},
        }

    def load_state_dict(self, d) -> None:
        """Restore hyper-parameters, lr, step count and state saved by :meth:`state_dict`.

        Parameters
        ----------
        d : dict
            What :meth:`state_dict` returned, for an optimizer of the same kind.

        Raises
        ------
        ValueError
            When ``d`` is not such a dict, or is for another optimizer.
        """
        if not isinstance(d, dict):
            raise ValueError(f"state_dict must be a dict, got {type(d).__name__}")
        missing = [k for k in ("name", "steps", "lr", "state") if k not in d]
        if missing:
            raise ValueError(f"optimizer state_dict lacks {missing}")
        if str(d["name"]).lower() != self.name:
            raise ValueError(
                f"optimizer state_dict is for {d['name']!r}, this optimizer is {self.name!r}"
            )
        hp = dict(d.get("hparams") or {})
        if hp:
            fresh = type(self)(**hp)  # validates
            if fresh.hyper_parameters() != self._config:
                self._config = fresh.hyper_parameters()
                self._make_core(self.lr)
                if self._model is not None and self._model.built:
                    self.attach(self._model)
        core = self.core_optimizer()
        state = d["state"]
        if not isinstance(state, dict):
            raise ValueError("optimizer state_dict['state'] must be a dict of arrays")
        names = list(core.state_names())
        nonempty = {k: v for k, v in state.items() if np.size(v) > 0}
        if set(state) - set(names) or (nonempty and set(nonempty) != set(names)):
            raise ValueError(
                f"optimizer state holds {sorted(state)}, {self.name} with these hyper-parameters "
                f"needs {names}"
            )
        arrays = {}
        for k, v in nonempty.items():
            a = np.asarray(v, dtype=np.float32)
            if a.ndim != 1:
                raise ValueError(f"optimizer state {k!r} must be 1-D, got shape {a.shape}")
            arrays[k] = a
        sizes = {a.size for k, a in arrays.items() if k != "mu_product"}
        if len(sizes) > 1:
            raise ValueError(f"optimizer state arrays differ in length: {sorted(sizes)}")
        if sizes and self._model is not None and self._model.built:
            n = self._model.num_params
            if sizes != {n}:
                raise ValueError(
                    f"optimizer state has {sizes.pop()} values per array, the model has {n} "
                    "parameters"
                )
        steps = int(d["steps"])
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        core.lr = _check("lr", d["lr"], _schema.optimizer_params(self.name))
        for k in names:
            core.set_state(k, arrays.get(k, np.zeros(0, np.float32)))
        core.steps = steps


def _init(self, params, lr, local, clipnorm, clipvalue, skip_nonfinite, maximize):
    keras_lr = local.get("learning_rate")
    if keras_lr is not None:
        lr_param = inspect.signature(type(self).__init__).parameters.get("lr")
        if lr_param is not None and lr != lr_param.default:
            raise ValueError(
                f"{type(self).__name__}: give lr or learning_rate (Keras's name for it), not both"
            )
        lr = keras_lr
    cfg = {"lr": lr}
    for k in _own_names(self.name):
        cfg[k] = local[k]
    cfg.update(
        clipnorm=clipnorm, clipvalue=clipvalue, skip_nonfinite=skip_nonfinite, maximize=maximize
    )
    Optimizer.__init__(self, params, cfg)


class ParamGroup(MutableMapping):
    """An optimizer's one parameter group, as PyTorch's ``param_groups[0]`` dict: ``"params"``
    (the model's parameter views), ``"lr"`` and the other hyper-parameters by PyTorch's names.

    Writing ``"lr"``, ``"betas"`` or a hyper-parameter the core can change between steps
    (``momentum``, ``eps``, ``weight_decay``, ...) changes the optimizer from its next step;
    ``"params"`` and what is fixed at construction (``amsgrad``, ``nesterov``, ...) raise.
    Other keys (``"initial_lr"``, a user's notes) are kept with the optimizer.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose hyper-parameters it shows.

    Examples
    --------
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(2)], input_dim=3, seed=0)
    >>> opt = nc.optim.Adam(model.parameters(), lr=1e-3)
    >>> for group in opt.param_groups:
    ...     group["lr"] = 0.01
    ...     group["betas"] = (0.8, 0.99)
    >>> opt.lr, opt.hyper_parameters()["betas"], len(opt.param_groups[0]["params"])
    (0.01, (0.8, 0.99), 2)
    """

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer

    def _extra(self) -> dict:
        return self.optimizer.__dict__.setdefault("_group_extra", {})

    def _keys(self) -> list[str]:
        return ["params", "lr", *self.optimizer.hyper_parameters(), *self._extra()]

    def __getitem__(self, key):
        opt = self.optimizer
        if key == "params":
            model = opt._model
            return [] if model is None or not model.built else list(model.parameters().values())
        if key == "lr":
            return opt.lr
        hp = opt.hyper_parameters()
        if key in hp:
            return hp[key]
        return self._extra()[key]

    def __setitem__(self, key, value) -> None:
        opt = self.optimizer
        if key == "params":
            raise TypeError("an nncore optimizer updates its whole model: params cannot be set")
        if key == "lr":
            opt.lr = value
        elif key == "betas":
            b1, b2 = _check("betas", value, _schema.optimizer_params(opt.name))
            opt.set_hparam("beta1", b1)
            opt.set_hparam("beta2", b2)
        elif key in opt.hyper_parameters():
            opt.set_hparam(key, _check(key, value, _schema.optimizer_params(opt.name)))
        else:
            self._extra()[key] = value

    def __delitem__(self, key) -> None:
        if key in self._extra():
            del self._extra()[key]
        else:
            raise TypeError(f"{key!r} is part of the optimizer: it cannot be removed")

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return repr({k: self[k] for k in self._keys() if k != "params"})


class SGD(Optimizer):
    """torch.optim.SGD (momentum, dampening, Nesterov, weight decay); default lr 0.01.

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 0.01
        Learning rate (can be changed between steps, as schedulers do).
    momentum : float, default 0.0
        Momentum factor (0: plain SGD).
    dampening : float, default 0.0
        Dampening of the momentum.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening 0).
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``; when nesterov is set without momentum or with
        dampening.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.SGD(lr=0.05, momentum=0.9)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> opt
    SGD(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)
    """

    name = "sgd"

    def __init__(
        self,
        params=None,
        lr=0.01,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        *,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)

    def _extra_checks(self):
        c = self._config
        if c["nesterov"] and (c["momentum"] <= 0 or c["dampening"] != 0):
            raise ValueError("nesterov requires momentum > 0 and dampening = 0")


class Adagrad(Optimizer):
    """torch.optim.Adagrad: per-parameter steps scaled by the root of the summed squared
    gradients.

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 0.01
        Learning rate (can be changed between steps, as schedulers do).
    lr_decay : float, default 0.0
        The step's lr is ``lr / (1 + (step - 1) * lr_decay)``.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default 0.0
        Starting value of the sum of squared gradients.
    eps : float, default 1e-10
        Added to the denominator.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.Adagrad(lr=0.1)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> sorted(opt.state_dict()["state"])
    ['sum']
    """

    name = "adagrad"

    def __init__(
        self,
        params=None,
        lr=0.01,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        *,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


class RMSprop(Optimizer):
    """torch.optim.RMSprop (centered, momentum).

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 0.01
        Learning rate (can be changed between steps, as schedulers do).
    alpha : float, default 0.99
        Smoothing constant of the running mean of squared gradients.
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    momentum : float, default 0.0
        Momentum factor.
    centered : bool, default False
        Normalize by the estimated variance of the gradient instead of its second moment.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.RMSprop(lr=0.01, centered=True)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> opt.get_config()["centered"]
    True
    """

    name = "rmsprop"

    def __init__(
        self,
        params=None,
        lr=0.01,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        *,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


class Adam(Optimizer):
    """torch.optim.Adam (L2 weight decay added to the gradient, amsgrad,
    decoupled_weight_decay).

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 1e-3
        Learning rate (can be changed between steps, as schedulers do).
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (or decoupled, see below).
    amsgrad : bool, default False
        Use the maximum of the second moment estimates seen so far.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    decoupled_weight_decay : bool, default False
        Decay the weights directly, as AdamW does.
    raw_eps : bool, default False
        Add ``eps`` to ``sqrt(v)`` before the bias correction instead of after it (the update
        of scikit-learn's and Keras' Adam; torch's uses the corrected ``sqrt(v / (1 - beta2^t))``).
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.Adam(lr=0.01)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> sorted(opt.state_dict()["state"])
    ['exp_avg', 'exp_avg_sq']
    """

    name = "adam"

    def __init__(
        self,
        params=None,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
        raw_eps=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


class AdamW(Optimizer):
    """torch.optim.AdamW (decoupled weight decay, default 1e-2).

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 1e-3
        Learning rate (can be changed between steps, as schedulers do).
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 1e-2
        Decoupled weight decay: each step multiplies the weights by ``1 - lr * weight_decay``.
    amsgrad : bool, default False
        Use the maximum of the second moment estimates seen so far.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.AdamW(lr=0.01, weight_decay=0.05)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> opt.get_config()["weight_decay"]
    0.05
    """

    name = "adamw"

    def __init__(
        self,
        params=None,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


class NAdam(Optimizer):
    """torch.optim.NAdam (momentum_decay schedule with mu_product, decoupled_weight_decay).

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 2e-3
        Learning rate (can be changed between steps, as schedulers do).
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (or decoupled, see below).
    momentum_decay : float, default 4e-3
        Decay of the Nesterov momentum schedule.
    decoupled_weight_decay : bool, default False
        Decay the weights directly, as AdamW does.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits (negative lr or weight decay, a beta
        outside [0, 1), ...) or of the wrong type, or ``params`` is neither a model nor
        ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.NAdam()
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> opt.lr
    0.002
    """

    name = "nadam"

    def __init__(
        self,
        params=None,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        *,
        decoupled_weight_decay=False,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


class Adadelta(Optimizer):
    """torch.optim.Adadelta: steps scaled by the ratio of the running RMS of past updates to the
    running RMS of gradients (so ``lr`` is a multiplier, 1.0 by default).

    Parameters
    ----------
    params : Sequential or Parameters, optional
        The model to update (or ``model.parameters()``); usually left out and the optimizer
        passed to ``model.compile(optimizer=...)``, which attaches it.
    lr : float, default 1.0
        Multiplies the update (can be changed between steps, as schedulers do).
    rho : float, default 0.9
        Decay of both running averages (squared gradients and squared updates), in [0, 1].
    eps : float, default 1e-6
        Added inside both square roots.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    maximize : bool, default False
        Ascend the objective instead of descending it.
    clipnorm : float or None, default None
        Scale the gradient so its global L2 norm is at most this, inside the update.
    clipvalue : float or None, default None
        Clamp each gradient value to [-clipvalue, clipvalue], inside the update.
    skip_nonfinite : bool, default True
        Skip a step whose gradients hold a NaN or inf (parameters, state and step count stay).
    learning_rate : float, optional
        Keras's name for ``lr`` (give one of the two).

    Raises
    ------
    ValueError
        When a hyper-parameter is outside the core's limits or of the wrong type, or ``params``
        is neither a model nor ``model.parameters()``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> opt = nc.optim.Adadelta(rho=0.95)
    >>> model = model.compile(optimizer=opt, loss="mse")
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, batch_size=8)
    >>> opt.steps  # 4 batches per epoch
    8
    >>> sorted(opt.state_dict()["state"])
    ['acc_delta', 'square_avg']
    """

    name = "adadelta"

    def __init__(
        self,
        params=None,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0.0,
        *,
        maximize=False,
        clipnorm=None,
        clipvalue=None,
        skip_nonfinite=True,
        learning_rate=None,
    ):
        _init(self, params, lr, locals(), clipnorm, clipvalue, skip_nonfinite, maximize)


def get(optimizer, **kwargs) -> Optimizer:
    """An optimizer from a registered name, a config dict or an optimizer object.

    Parameters
    ----------
    optimizer : str, dict or Optimizer
        A registered name ("sgd", "adam", ... as the classes' ``name``, case-insensitive), a
        config dict from :meth:`Optimizer.get_config` (its ``"name"`` picks the class), or an
        optimizer, returned as is.
    **kwargs
        Hyper-parameters for the class (with a dict, they override its entries).

    Returns
    -------
    Optimizer
        A new optimizer, not attached to a model yet (or ``optimizer`` itself).

    Raises
    ------
    ValueError
        For an unknown name, a dict without ``"name"``, keyword arguments with an optimizer
        object, or hyper-parameters the class refuses.
    TypeError
        When ``optimizer`` is none of the above.

    Examples
    --------
    >>> from nncore import optim
    >>> optim.get("SGD", lr=0.1, momentum=0.9)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)
    >>> opt = optim.get("adamw")
    >>> optim.get(opt.get_config()).get_config() == opt.get_config()
    True
    """
    if isinstance(optimizer, Optimizer):
        if kwargs:
            raise ValueError("hyper-parameters can only be given with an optimizer name")
        return optimizer
    if isinstance(optimizer, dict):
        cfg = dict(optimizer)
        name = cfg.pop("name", None)
        if name is None:
            raise ValueError("an optimizer config dict needs a 'name'")
        cfg.update(kwargs)
        return get(name, **cfg)
    if isinstance(optimizer, str):
        cls = _BY_NAME.get(optimizer.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(_BY_NAME)}")
        return cls(**kwargs)
    raise TypeError(
        f"optimizer must be a name, a config dict or an nncore.optim optimizer, got "
        f"{type(optimizer).__name__}"
    )


def _grads(model_or_grads):
    if isinstance(model_or_grads, np.ndarray):
        return model_or_grads
    if not getattr(model_or_grads, "built", False) or not hasattr(model_or_grads, "engine"):
        raise ValueError("expected a built nncore model (or a float32 gradient array)")
    return model_or_grads.engine.arena("grads")


def clip_grad_norm_(model, max_norm) -> float:
    """Rescales the model's gradients in place so that their global L2 norm is at most
    ``max_norm``, as ``torch.nn.utils.clip_grad_norm_`` does.

    Parameters
    ----------
    model : Sequential or numpy.ndarray
        A built model (its gradient arena is clipped) or a float32 gradient array.
    max_norm : float
        The largest global L2 norm allowed, >= 0.

    Returns
    -------
    float
        The global norm before clipping.

    Raises
    ------
    ValueError
        When ``max_norm`` is negative or not a number, or ``model`` is neither a built model nor
        an array.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer="sgd", loss="mse")
    >>> loss, grad = model.loss_fn(model.forward(X, training=True), X.sum(axis=1))
    >>> _ = model.backward(grad)
    >>> before = nc.optim.clip_grad_norm_(model, 0.1)
    >>> before > 0.1
    True
    >>> g = np.concatenate([v.ravel() for v in model.gradients().values()])
    >>> round(float(np.linalg.norm(g)), 4)
    0.1
    """
    max_norm = _check("max_norm", max_norm)
    return _core.clip_grad_norm(_grads(model), max_norm)


def clip_grad_value_(model, clip_value) -> float:
    """Clamps the model's gradients to [-clip_value, clip_value] in place, as
    ``torch.nn.utils.clip_grad_value_`` does.

    Parameters
    ----------
    model : Sequential or numpy.ndarray
        A built model (its gradient arena is clamped) or a float32 gradient array.
    clip_value : float
        The largest absolute value allowed, >= 0.

    Returns
    -------
    float
        The global L2 norm of the gradients before clipping.

    Raises
    ------
    ValueError
        When ``clip_value`` is negative or not a number, or ``model`` is neither a built model
        nor an array.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer="sgd", loss="mse")
    >>> loss, grad = model.loss_fn(model.forward(X, training=True), X.sum(axis=1))
    >>> _ = model.backward(grad)
    >>> norm = nc.optim.clip_grad_value_(model, 0.01)
    >>> max(float(np.abs(v).max()) for v in model.gradients().values()) <= 0.01
    True
    """
    clip_value = _check("clip_value", clip_value)
    g = _grads(model)
    norm = _core.grad_norm(g)
    _core.clip_grad_value(g, clip_value)
    return norm
