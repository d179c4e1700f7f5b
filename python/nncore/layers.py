"""Layer descriptions. A layer here only holds hyper-parameters; the C++ core owns the maths.

Each layer turns into one spec dict for ``nncore._core.Network``; its parameters are views into
the network's flat arenas once the model is built.
"""

from __future__ import annotations

from . import _schema
from ._schema import ACTIVATIONS, INITIALIZERS

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "Layer",
    "Dense",
    "Activation",
    "BatchNorm",
    "Dropout",
    "LAYER_TYPES",
    "layer_from_config",
]


def _check_activation(activation):
    name = "linear" if activation is None else activation
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}"
        )
    return name


def _checked(kind: str, title: str, **values) -> list:
    """Each value checked against the core's limits for this layer kind (``_core.schema()``)."""
    params = _schema.layer_params(kind)
    return [_schema.check(f"{title}: {k}", params[k], v) for k, v in values.items()]


class Layer:
    """Base class: a layer knows its spec and, once built, its index in the network."""

    def spec(self) -> dict:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: v for k, v in self.spec().items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer ``y = activation(x · Wᵀ + b)`` with W of shape (units, inputs).

    Parameters
    ----------
    units : int
        Output width.
    activation : str or None
        One of ``linear, relu, leaky_relu, elu, selu, gelu, sigmoid, tanh, softplus, silu, softmax``;
        applied in the GEMM epilogue where elementwise.
    init : str
        Weight initializer: ``auto`` (He for the ReLU family, Xavier for tanh/sigmoid, LeCun for
        SELU), ``xavier_uniform``, ``xavier_normal``, ``he_uniform``, ``he_normal``,
        ``lecun_normal``, ``orthogonal``, ``zeros``. Biases start at zero.
    use_bias : bool
    l1, l2 : float
        Penalties ``l1·Σ|W| + l2·ΣW²`` added to the loss and its gradient (weights only).
    max_norm : float or None
        After each update, each unit's incoming weight vector is rescaled to L2 norm ≤ max_norm.
    alpha : float or None
        Slope of leaky_relu (default 0.01) or alpha of elu (default 1.0).
    """

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        *,
        init: str = "auto",
        use_bias: bool = True,
        l1: float = 0.0,
        l2: float = 0.0,
        max_norm: float | None = None,
        alpha: float | None = None,
    ):
        if init not in INITIALIZERS:
            raise ValueError(
                f"Dense: unknown init {init!r}: expected one of {', '.join(INITIALIZERS)}"
            )
        self.units, self.use_bias, self.l1, self.l2, self.max_norm, self.alpha = _checked(
            "dense",
            "Dense",
            units=units,
            use_bias=use_bias,
            l1=l1,
            l2=l2,
            max_norm=max_norm,
            alpha=alpha,
        )
        self.activation = _check_activation(activation)
        self.init = init

    def spec(self) -> dict:
        s = {
            "type": "dense",
            "units": self.units,
            "activation": self.activation,
            "init": self.init,
            "use_bias": self.use_bias,
            "l1": self.l1,
            "l2": self.l2,
        }
        if self.max_norm is not None:
            s["max_norm"] = float(self.max_norm)
        if self.alpha is not None:
            s["alpha"] = float(self.alpha)
        return s


class Activation(Layer):
    """An activation function as its own layer (e.g. after BatchNorm)."""

    def __init__(self, activation: str, *, alpha: float | None = None):
        self.activation = _check_activation(activation)
        (self.alpha,) = _checked("activation", "Activation", alpha=alpha)

    def spec(self) -> dict:
        s = {"type": "activation", "activation": self.activation}
        if self.alpha is not None:
            s["alpha"] = float(self.alpha)
        return s


class BatchNorm(Layer):
    """Batch normalization over features, with PyTorch's conventions.

    Training mode normalizes with the batch statistics and updates the running mean/variance
    (``running = (1 - momentum)·running + momentum·batch``, unbiased batch variance); evaluation
    mode uses the running statistics. A training batch of one row has no variance: it raises, unless
    ``batch1_fallback=True``, which normalizes such a batch with the running statistics (and leaves
    them unchanged). ``fit`` drops a final partial batch of one row when the model has BatchNorm.
    """

    def __init__(
        self,
        momentum: float = 0.1,
        eps: float = 1e-5,
        affine: bool = True,
        batch1_fallback: bool = False,
    ):
        self.momentum, self.eps, self.affine, self.batch1_fallback = _checked(
            "batchnorm",
            "BatchNorm",
            momentum=momentum,
            eps=eps,
            affine=affine,
            batch1=batch1_fallback,
        )

    def spec(self) -> dict:
        return {
            "type": "batchnorm",
            "momentum": self.momentum,
            "eps": self.eps,
            "affine": self.affine,
            "batch1": self.batch1_fallback,
        }


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability ``rate`` and scale the rest
    by 1/(1 - rate); identity in evaluation. The mask is a pure function of (seed, step, layer,
    element), so it does not depend on threads or batch splits; forward keeps it as 1 bit per
    element for backward."""

    def __init__(self, rate: float):
        (self.rate,) = _checked("dropout", "Dropout", rate=rate)

    def spec(self) -> dict:
        return {"type": "dropout", "rate": self.rate}


LAYER_TYPES = {"dense": Dense, "activation": Activation, "batchnorm": BatchNorm, "dropout": Dropout}


def layer_from_config(config: dict) -> Layer:
    """Inverse of ``Layer.get_config``."""
    cfg = dict(config)
    kind = cfg.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}")
    if kind == "dense":
        cfg.setdefault("activation", "linear")
        return Dense(cfg.pop("units"), cfg.pop("activation"), **cfg)
    if kind == "activation":
        return Activation(cfg.pop("activation"), **cfg)
    if kind == "batchnorm":
        return BatchNorm(cfg["momentum"], cfg["eps"], cfg["affine"], cfg.get("batch1", False))
    return Dropout(cfg["rate"])
