"""PyTorch interop (torch optional): :func:`to_torch` turns a built :class:`~nncore.Sequential`
into an equivalent ``torch.nn.Sequential`` (weights and BatchNorm running statistics copied),
:func:`from_torch` builds an nncore model from a supported ``torch.nn.Sequential``.

Supported: ``Linear`` (+ a following activation module, folded into ``Dense``),
``BatchNorm1d``, ``Dropout``, and the activations ReLU, LeakyReLU, ELU, SELU, GELU (exact),
Sigmoid, Tanh, Softplus (beta 1), SiLU, Softmax (over features), Identity, and residual blocks:
a :class:`~nncore.Residual` becomes :func:`residual_module`'s class (``body`` a
``torch.nn.Sequential``, ``proj`` a bias-free ``Linear`` or None; ``forward`` returns
``body(x) + proj(x)``, or ``+ x``), which :func:`from_torch` accepts back. A round trip keeps
every weight's bits; outputs agree to float32 rounding (the two libraries' kernels differ)."""

from __future__ import annotations

import numpy as np

from .layers import Activation, BatchNorm, Dense, Dropout, Residual
from .model import Sequential


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("to_torch/from_torch need PyTorch (pip install torch)") from None
    return torch


def _act_module(nn, name: str, alpha):
    if name == "linear":
        return None
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01 if alpha is None else alpha)
    if name == "elu":
        return nn.ELU(1.0 if alpha is None else alpha)
    if name == "softmax":
        return nn.Softmax(dim=1)
    if name == "gelu":
        return nn.GELU(approximate="none")
    return {
        "relu": nn.ReLU,
        "selu": nn.SELU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "softplus": nn.Softplus,
        "silu": nn.SiLU,
    }[name]()


_RESIDUAL: list = []  # the torch module class, made once (torch is imported lazily)


def residual_module():
    """The ``torch.nn.Module`` class a :class:`~nncore.Residual` block converts to:
    ``Residual(body, proj=None)`` with ``forward(x) = body(x) + (x if proj is None else
    proj(x))``."""
    if not _RESIDUAL:
        nn = _torch().nn

        class Residual(nn.Module):
            """nncore's residual block: ``body(x) + x``, or ``body(x) + proj(x)`` with ``proj``
            a bias-free Linear when the body changes the width."""

            def __init__(self, body, proj=None):
                super().__init__()
                self.body = body
                self.proj = proj

            def forward(self, x):
                return self.body(x) + (x if self.proj is None else self.proj(x))

        _RESIDUAL.append(Residual)
    return _RESIDUAL[0]


def _copy(dst, src) -> None:
    dst.copy_(_torch().from_numpy(np.array(src)))


def _to_modules(nn, layers, params, buffers, prefix: str, width: int):
    """The torch modules of ``layers`` (named ``prefix + index`` in the arenas) and their
    output width."""
    mods: list = []
    for i, layer in enumerate(layers):
        name = f"{prefix}{i}"
        if isinstance(layer, Dense):
            lin = nn.Linear(width, layer.units, bias=layer.use_bias)
            _copy(lin.weight, params[f"{name}.weight"])
            if layer.use_bias:
                _copy(lin.bias, params[f"{name}.bias"])
            mods.append(lin)
            act = _act_module(nn, layer.activation, layer.alpha)
            if act is not None:
                mods.append(act)
            width = layer.units
        elif isinstance(layer, BatchNorm):
            bn = nn.BatchNorm1d(width, eps=layer.eps, momentum=layer.momentum, affine=layer.affine)
            if layer.affine:
                _copy(bn.weight, params[f"{name}.weight"])
                _copy(bn.bias, params[f"{name}.bias"])
            _copy(bn.running_mean, buffers[f"{name}.running_mean"])
            _copy(bn.running_var, buffers[f"{name}.running_var"])
            mods.append(bn)
        elif isinstance(layer, Dropout):
            mods.append(nn.Dropout(layer.rate))
        elif isinstance(layer, Activation):
            act = _act_module(nn, layer.activation, layer.alpha)
            mods.append(nn.Identity() if act is None else act)
        elif isinstance(layer, Residual):
            body, out = _to_modules(nn, layer.layers, params, buffers, f"{name}.body.", width)
            proj = None
            if f"{name}.proj.weight" in params:
                proj = nn.Linear(width, out, bias=False)
                _copy(proj.weight, params[f"{name}.proj.weight"])
            mods.append(residual_module()(nn.Sequential(*body), proj))
            width = out
        else:
            raise ValueError(f"to_torch: no PyTorch equivalent for {type(layer).__name__}")
    return mods, width


def to_torch(model: Sequential):
    """An equivalent ``torch.nn.Sequential`` (float32, evaluation mode set by the caller as
    usual): Dense -> Linear (+ activation module), BatchNorm -> BatchNorm1d with its running
    statistics, Dropout -> Dropout, Activation -> its module, Residual -> :func:`residual_module`'s
    class."""
    torch = _torch()
    nn = torch.nn
    params, buffers = model.parameters(), model.buffers()  # RuntimeError if not built
    with torch.no_grad():
        mods, _ = _to_modules(nn, model.layers, params, buffers, "", int(model.input_dim or 0))
    return nn.Sequential(*mods)


def _activation_of(nn, m):
    """(name, alpha) of a supported activation module, else None."""
    simple = {
        nn.ReLU: "relu",
        nn.SELU: "selu",
        nn.Sigmoid: "sigmoid",
        nn.Tanh: "tanh",
        nn.SiLU: "silu",
        nn.Identity: "linear",
    }
    if type(m) in simple:
        return simple[type(m)], None
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", float(m.negative_slope)
    if isinstance(m, nn.ELU):
        return "elu", float(m.alpha)
    if isinstance(m, nn.GELU) and m.approximate == "none":
        return "gelu", None
    if isinstance(m, nn.Softplus) and m.beta == 1:
        return "softplus", None
    if isinstance(m, nn.Softmax) and m.dim in (1, -1):
        return "softmax", None
    return None


def from_torch(module, input_dim: int, *, seed: int = 0) -> Sequential:
    """The nncore model of a ``torch.nn.Sequential`` of supported modules (see the module
    docstring), with its weights and BatchNorm running statistics.

    Parameters
    ----------
    module : torch.nn.Sequential
        Linear (each optionally followed by a supported activation module), BatchNorm1d (with
        running statistics), activations, Dropout and :func:`residual_module` blocks (as
        :func:`to_torch` writes them).
    input_dim : int
        Number of input features.
    seed : int, default 0
        The nncore model's seed (its dropout masks and ``fit``'s shuffling).

    Returns
    -------
    Sequential
        Built, not compiled; ``predict`` equals the torch module's evaluation-mode output.

    Raises
    ------
    ImportError
        Without PyTorch.
    ValueError
        Naming the first module it cannot express.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> import torch  # doctest: +SKIP
    >>> seq = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    ... # doctest: +SKIP
    >>> model = nc.from_torch(seq, input_dim=4)  # doctest: +SKIP
    >>> x = np.ones((3, 4), np.float32)  # doctest: +SKIP
    >>> bool(np.allclose(model.predict(x), seq(torch.from_numpy(x)).detach().numpy(), atol=1e-6))
    ... # doctest: +SKIP
    True
    """
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    layers, sources = _from_modules(nn, list(module), "")
    model = Sequential(layers, input_dim=input_dim, seed=seed)
    params, buffers = model.parameters(), model.buffers()
    with torch.no_grad():
        for name, m in sources:
            if isinstance(m, nn.Linear) or (isinstance(m, nn.BatchNorm1d) and m.affine):
                params[f"{name}.weight"][...] = m.weight.detach().cpu().numpy()
                if getattr(m, "bias", None) is not None:
                    params[f"{name}.bias"][...] = m.bias.detach().cpu().numpy()
            if isinstance(m, nn.BatchNorm1d):
                buffers[f"{name}.running_mean"][...] = m.running_mean.detach().cpu().numpy()
                buffers[f"{name}.running_var"][...] = m.running_var.detach().cpu().numpy()
    return model  # the next predict/forward sees the written views (Sequential.parameters)


def _from_modules(nn, mods, prefix: str):
    """(nncore layers, [(arena name, torch module with its tensors)]) of a list of modules."""
    layers: list = []
    sources: list = []
    i = 0
    while i < len(mods):
        m = mods[i]
        name = f"{prefix}{len(layers)}"
        if isinstance(m, nn.Linear):
            act = _activation_of(nn, mods[i + 1]) if i + 1 < len(mods) else None
            act_name, alpha = act if act is not None else ("linear", None)
            layers.append(Dense(m.out_features, act_name, use_bias=m.bias is not None, alpha=alpha))
            sources.append((name, m))
            i += 2 if act is not None else 1
            continue
        if isinstance(m, residual_module()):
            if not isinstance(m.body, nn.Sequential) or len(m.body) == 0:
                raise ValueError(
                    f"from_torch: module {i}: a Residual's body must be a non-empty "
                    "torch.nn.Sequential"
                )
            body, body_sources = _from_modules(nn, list(m.body), f"{name}.body.")
            if m.proj is not None:
                if not isinstance(m.proj, nn.Linear) or m.proj.bias is not None:
                    raise ValueError(
                        f"from_torch: module {i}: a Residual's proj must be a "
                        "bias-free torch.nn.Linear or None"
                    )
                sources.append((f"{name}.proj", m.proj))
            # "auto" unless the projection keeps the width (then only "always" has one)
            square = m.proj is not None and m.proj.in_features == m.proj.out_features
            layers.append(Residual(body, projection=True if square else "auto"))
            sources.extend(body_sources)
        elif isinstance(m, nn.BatchNorm1d):
            if m.momentum is None or not m.track_running_stats:
                raise ValueError("from_torch: BatchNorm1d needs running statistics and a momentum")
            layers.append(BatchNorm(momentum=m.momentum, eps=m.eps, affine=m.affine))
            sources.append((name, m))
        elif isinstance(m, nn.Dropout):
            layers.append(Dropout(m.p))
        else:
            act = _activation_of(nn, m)
            if act is None:
                raise ValueError(f"from_torch: module {i} ({m!r}) has no nncore equivalent")
            layers.append(Activation(act[0], alpha=act[1]))
        i += 1
    return layers, sources
