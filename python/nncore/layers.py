"""Layer descriptions. A layer here only holds hyper-parameters; the C++ core owns the maths.

Once the model is built, a layer's parameters are views into the network's weights
(:meth:`nncore.Sequential.parameters`).
"""

# Developer note: each layer turns into one spec dict (``spec()``) for the core's Network.

from __future__ import annotations

from . import _schema
from ._schema import ACTIVATIONS, INITIALIZERS
from ._validation import check_positive_int, check_X

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "Layer",
    "Dense",
    "Activation",
    "BatchNorm",
    "LayerNorm",
    "Dropout",
    "Residual",
    "Input",
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
    """Base class of the layers: a layer holds hyper-parameters and turns them into the spec dict
    the C++ core builds it from. Subclasses implement :meth:`spec`; :meth:`get_config` and the
    ``repr`` follow from it.

    Examples
    --------
    >>> from nncore.layers import Dense, Layer
    >>> isinstance(Dense(4), Layer)
    True
    >>> Dense(4, "relu").get_config()["activation"]
    'relu'
    """

    def spec(self) -> dict:
        """The dict the core's ``Network`` builds this layer from: ``{"type": ..., ...}``."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The layer's hyper-parameters as a plain dict.

        Returns
        -------
        dict
            What model files save for this layer; ``layer_from_config`` rebuilds it.
        """
        return {k: v for k, v in self.spec().items()}

    def output_width(self, width: int | None) -> int | None:
        """The width of this layer's output for an input of ``width`` features.

        Parameters
        ----------
        width : int or None
            Features of the input (None: unknown).

        Returns
        -------
        int or None
            The layer's ``units`` when it has them, else ``width``.
        """
        units = self.spec().get("units")
        return width if units is None else int(units)

    def needs_batch_statistics(self) -> bool:
        """Whether a training forward cannot run on a batch of one row (the core's rule).

        Returns
        -------
        bool
            True for a layer that needs batch statistics (batch normalisation).
        """
        return False

    def check_input(self, X, n_features: int | None, name: str):
        """The model's input checked as this layer, first in a model, reads it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The model's input.
        n_features : int or None
            The width the model expects (None: any).
        name : str
            How error messages name the input (``"X"``).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            float32 rows of ``n_features`` finite values (a layer of integer codes checks its
            columns itself).

        Raises
        ------
        ValueError
            On a wrong shape or non-finite values.
        """
        return check_X(X, n_features=n_features, name=name)

    # Config keys whose constructor argument has another name (the repr shows the argument).
    ARGUMENT_NAMES: dict[str, str] = {}

    def __repr__(self) -> str:
        names = self.ARGUMENT_NAMES
        args = ", ".join(
            f"{names.get(k, k)}={v!r}" for k, v in self.get_config().items() if k != "type"
        )
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
        Whether the layer adds a learned bias vector.
    l1, l2 : float
        Penalties ``l1·Σ|W| + l2·ΣW²`` added to the loss and its gradient (weights only).
    max_norm : float or None
        After each update, each unit's incoming weight vector is rescaled to L2 norm ≤ max_norm.
    alpha : float or None
        Slope of leaky_relu (default 0.01) or alpha of elu (default 1.0).

    Raises
    ------
    ValueError
        For an unknown activation or init, ``units < 1``, negative ``l1``/``l2``, a
        ``max_norm`` that is not positive, or any value of the wrong type.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> layer = nc.Dense(3, "relu", l2=1e-4)
    >>> layer
    Dense(units=3, activation='relu', init='auto', use_bias=True, l1=0.0, l2=0.0001)
    >>> model = nc.Sequential([layer, nc.Dense(2)], input_dim=5, seed=0)
    >>> model.predict(np.zeros((4, 5), np.float32)).shape
    (4, 2)
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
    """An activation function as its own layer (e.g. after BatchNorm).

    Parameters
    ----------
    activation : str
        One of ``linear, relu, leaky_relu, elu, selu, gelu, sigmoid, tanh, softplus, silu,
        softmax``.
    alpha : float or None, default None
        Slope of leaky_relu (default 0.01) or alpha of elu (default 1.0).

    Raises
    ------
    ValueError
        For an unknown activation or an alpha out of the core's limits.

    Examples
    --------
    >>> import nncore as nc
    >>> nc.Activation("elu", alpha=0.5)
    Activation(activation='elu', alpha=0.5)
    >>> model = nc.Sequential([nc.Dense(4), nc.BatchNorm(), nc.Activation("relu")], input_dim=3)
    >>> len(model.layers)
    3
    """

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

    Parameters
    ----------
    momentum : float, default 0.1
        Weight of the batch statistics in the running ones, in [0, 1].
    eps : float, default 1e-5
        Added to the variance before the square root; positive.
    affine : bool, default True
        Learn a per-feature scale (gamma, starts at 1) and shift (beta, starts at 0).
    batch1_fallback : bool, default False
        Normalize a training batch of one row with the running statistics instead of raising.

    Raises
    ------
    ValueError
        When a value is out of range (momentum outside [0, 1], eps not positive) or of the wrong
        type.

    Examples
    --------
    >>> import nncore as nc
    >>> nc.BatchNorm(momentum=0.01)
    BatchNorm(momentum=0.01, eps=1e-05, affine=True, batch1_fallback=False)
    >>> model = nc.Sequential([nc.Dense(4), nc.BatchNorm(), nc.Activation("relu")], input_dim=3)
    >>> model.layers[1].get_config()["type"]
    'batchnorm'
    """

    ARGUMENT_NAMES = {"batch1": "batch1_fallback"}

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

    def needs_batch_statistics(self) -> bool:
        return not self.batch1_fallback

    def spec(self) -> dict:
        return {
            "type": "batchnorm",
            "momentum": self.momentum,
            "eps": self.eps,
            "affine": self.affine,
            "batch1": self.batch1_fallback,
        }


class LayerNorm(Layer):
    """Layer normalization over the features of each row, as ``torch.nn.LayerNorm(features)``.

    ``y = (x - mean) / sqrt(var + eps) · weight + bias`` with the row's mean and biased variance;
    training and evaluation compute the same thing (there are no running statistics), so a batch
    of one row is fine. The width is the input's (inferred when the model is built), so unlike
    torch there is no ``normalized_shape``; the arguments are keyword-only, so ``LayerNorm(64)``
    cannot silently set ``eps``.

    Parameters
    ----------
    eps : float, default 1e-5
        Added to the variance before the square root; positive.
    elementwise_affine : bool, default True
        Learn a per-feature scale (``weight``, starts at 1) and, with ``bias``, a shift.
    bias : bool, default True
        Learn the per-feature shift (``bias``, starts at 0) when ``elementwise_affine`` is true
        (torch >= 2.1's argument).

    Raises
    ------
    ValueError
        When ``eps`` is not a positive number or a flag is not a boolean.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> nc.LayerNorm()
    LayerNorm(eps=1e-05, elementwise_affine=True, bias=True)
    >>> model = nc.Sequential([nc.Dense(4), nc.LayerNorm(), nc.Activation("relu")], input_dim=3)
    >>> sorted(model.parameters())[2:]
    ['1.bias', '1.weight']
    >>> y = nc.Sequential([nc.LayerNorm()], input_dim=3).predict(np.float32([[1, 2, 3]]))
    >>> bool(abs(y.mean()) < 1e-6)
    True
    """

    def __init__(self, *, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True):
        self.eps, self.elementwise_affine, self.bias = _checked(
            "layernorm", "LayerNorm", eps=eps, elementwise_affine=elementwise_affine, bias=bias
        )

    def spec(self) -> dict:
        return {
            "type": "layernorm",
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.bias,
        }


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability ``rate`` and scale the rest
    by 1/(1 - rate); identity in evaluation. The mask is a pure function of (seed, step, layer,
    element), so it does not depend on threads or batch splits; forward keeps it as 1 bit per
    element for backward.

    Parameters
    ----------
    rate : float
        Probability of zeroing a value, in [0, 1).

    Raises
    ------
    ValueError
        When ``rate`` is outside [0, 1) or not a number.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(8, "relu"), nc.Dropout(0.5), nc.Dense(1)], input_dim=2)
    >>> x = np.ones((3, 2), np.float32)
    >>> bool(np.array_equal(model.predict(x), model.predict(x)))  # identity in evaluation
    True
    """

    def __init__(self, rate: float):
        (self.rate,) = _checked("dropout", "Dropout", rate=rate)

    def spec(self) -> dict:
        return {"type": "dropout", "rate": self.rate}


_PROJECTIONS = {
    "auto": "auto",
    True: "always",
    "always": "always",
    False: "never",
    "never": "never",
}


class Residual(Layer):
    """A residual block ``y = f(x) + skip(x)``: ``f`` is ``layers`` applied in order, ``skip`` the
    identity, or a learned bias-free linear map ``x · Pᵀ`` (P of shape (out, in)) when ``f``
    changes the width. Blocks nest (a Residual may hold Residuals); everything runs in the C++
    core, training and inference, with the same determinism as any other layer.

    The projection is bias-free, like ResNet's 1x1 shortcut and Keras/PyTorch residual MLPs:
    the body's last layer usually has a bias, which a bias on the skip would only duplicate. It
    is initialised like a linear ``Dense`` (Xavier uniform). The block's tensors are named
    ``"<i>.body.<j>.<name>"`` (layer j of the block) and ``"<i>.proj.weight"`` in
    :meth:`Sequential.parameters`.

    Parameters
    ----------
    layers : list of Layer
        The body ``f``, at least one layer.
    projection : "auto", True or False, default "auto"
        ``"auto"``: a projection exactly when the widths differ; ``True`` (or ``"always"``): a
        projection even when they match; ``False`` (or ``"never"``): the identity, and the body
        must keep the width.

    Raises
    ------
    ValueError
        For an empty block, an unknown ``projection``, or (when the model is built)
        ``projection=False`` with a body that changes the width.
    TypeError
        When ``layers`` is not a list of nncore layers.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> block = nc.Residual([nc.Dense(16, "relu"), nc.Dense(8)])
    >>> block
    Residual([Dense(units=16, ...), Dense(units=8, ...)], projection='auto')
    >>> model = nc.Sequential([nc.Dense(8, "relu"), block, nc.Dense(2)], input_dim=4, seed=0)
    >>> sorted(k for k in model.parameters() if k.startswith("1."))
    ['1.body.0.bias', '1.body.0.weight', '1.body.1.bias', '1.body.1.weight']
    >>> nc.Sequential([nc.Residual([nc.Dense(6)])], input_dim=4).parameters()["0.proj.weight"].shape
    (6, 4)
    """

    def __init__(self, layers, *, projection="auto"):
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
            raise TypeError(f"Residual: layers must be a list of nncore layers, got {layers!r}")
        if not layers:
            raise ValueError("Residual: a block needs at least one layer")
        for j, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Residual: layers[{j}] must be an nncore layer (Dense, Activation, "
                    f"BatchNorm, LayerNorm, Dropout, Residual), got {layer!r}"
                )
        key = projection if isinstance(projection, (bool, str)) else None
        if key not in _PROJECTIONS:
            raise ValueError(
                f"Residual: projection must be 'auto', True or False, got {projection!r}"
            )
        self.layers: list[Layer] = list(layers)
        self.projection: str = _PROJECTIONS[key]

    def spec(self) -> dict:
        return {
            "type": "residual",
            "projection": self.projection,
            "layers": [layer.spec() for layer in self.layers],
        }

    def get_config(self) -> dict:
        return {
            "type": "residual",
            "projection": self.projection,
            "layers": [layer.get_config() for layer in self.layers],
        }

    def output_width(self, width: int | None) -> int | None:
        for layer in self.layers:
            width = layer.output_width(width)
        return width

    def needs_batch_statistics(self) -> bool:
        return any(layer.needs_batch_statistics() for layer in self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Residual([{inner}], projection={self.projection!r})"


LAYER_TYPES = {
    "dense": Dense,
    "activation": Activation,
    "batchnorm": BatchNorm,
    "layernorm": LayerNorm,
    "dropout": Dropout,
    "residual": Residual,
}


class Input:
    """The model's input width, given as Keras's first entry of a Sequential: a marker, not a
    layer (no computation, no parameters), taken as ``input_dim``.

    Parameters
    ----------
    shape : int or tuple of one int
        The number of features, ``(n_features,)`` as Keras writes it.

    Raises
    ------
    ValueError
        When ``shape`` is not one positive integer (nncore's models take rows of features).

    Examples
    --------
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Input(shape=(20,)), nc.Dense(8, "relu"), nc.Dense(2)])
    >>> model.input_dim, model.built, len(model.layers)
    (20, True, 2)
    """

    def __init__(self, shape):
        dims = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if len(dims) != 1:
            raise ValueError(
                f"Input: nncore's models take rows of features, so shape is one number "
                f"(n_features,), got {shape!r}"
            )
        self.shape = (check_positive_int(dims[0], "Input: shape's width"),)

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"


def layer_from_config(config: dict) -> Layer:
    """The layer a config dict describes: the inverse of :meth:`Layer.get_config`.

    Parameters
    ----------
    config : dict
        ``{"type": "dense" | "activation" | "batchnorm" | "layernorm" | "dropout" | "residual"
        | "embedding", ...hyper-parameters}`` as :meth:`Layer.get_config` returns it (not
        modified).

    Returns
    -------
    Layer
        A new :class:`Dense`, :class:`Activation`, :class:`BatchNorm`, :class:`LayerNorm`,
        :class:`Dropout`, :class:`Residual` or embedding layer.

    Raises
    ------
    ValueError
        For an unknown or missing ``type``, or hyper-parameters the layer refuses.
    KeyError or TypeError
        When a required key (``units``, ``rate``, ...) is missing, or a key is not one of the
        layer's arguments.

    Examples
    --------
    >>> from nncore.layers import Dense, layer_from_config
    >>> layer_from_config(Dense(4, "tanh").get_config())
    Dense(units=4, activation='tanh', init='auto', use_bias=True, l1=0.0, l2=0.0)
    >>> layer_from_config({"type": "dropout", "rate": 0.3})
    Dropout(rate=0.3)
    """
    cfg = dict(config)
    kind = cfg.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}")
    reader = getattr(LAYER_TYPES[kind], "from_config", None)
    if reader is not None:  # a layer registered from another module reads its own config
        return reader(cfg)
    if kind == "dense":
        cfg.setdefault("activation", "linear")
        return Dense(cfg.pop("units"), cfg.pop("activation"), **cfg)
    if kind == "activation":
        return Activation(cfg.pop("activation"), **cfg)
    if kind == "batchnorm":
        return BatchNorm(cfg["momentum"], cfg["eps"], cfg["affine"], cfg.get("batch1", False))
    if kind == "residual":
        children = cfg.get("layers")
        if not isinstance(children, list):
            raise ValueError("a residual config needs a list of layer configs under 'layers'")
        return Residual(
            [layer_from_config(c) for c in children], projection=cfg.get("projection", "auto")
        )
    # every other layer's config keys are its constructor's arguments (Dropout, LayerNorm, ...)
    return LAYER_TYPES[kind](**cfg)
