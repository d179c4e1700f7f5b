"""PyTorch interop (torch optional): :func:`to_torch` turns a built :class:`~nncore.Sequential`
into an equivalent ``torch.nn.Sequential`` (weights and BatchNorm running statistics copied),
:func:`from_torch` builds an nncore model from a supported ``torch.nn.Sequential``.

Supported: ``Linear`` (+ a following activation module, folded into ``Dense``), ``BatchNorm1d``,
``LayerNorm`` (over the features: a ``normalized_shape`` of one width), ``Dropout``, and the
activations ReLU, LeakyReLU, ELU, SELU, GELU (exact), Sigmoid, Tanh, Softplus (beta 1), SiLU,
Softmax (over features), Identity, and residual blocks: a :class:`~nncore.Residual` becomes
:func:`residual_module`'s class (``body`` a ``torch.nn.Sequential``, ``proj`` a bias-free ``Linear``
or None; ``forward`` returns ``body(x) + proj(x)``, or ``+ x``), which :func:`from_torch` accepts
back. A round trip keeps every weight's bits; outputs agree to float32 rounding (the two libraries'
kernels differ).

Embedding and TabularInput become a :class:`CodesEmbedding` module (``nn.Embedding`` tables
inside, input: the same float32 X with codes); ``from_torch`` reads it back, and also takes a
leading ``nn.Embedding`` + ``nn.Flatten`` pair as :class:`~nncore.Embedding`."""

from __future__ import annotations

import numpy as np

from .embedding import _CodesInput
from .layers import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    LayerNorm,
    Residual,
    layer_from_config,
)
from .model import Sequential


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("to_torch/from_torch need PyTorch (pip install torch)") from None
    return torch


_CODES_CLASS = None


def codes_embedding_class():
    """The torch module of nncore's Embedding/TabularInput (defined once torch is imported)."""
    global _CODES_CLASS
    if _CODES_CLASS is None:
        torch = _torch()

        class CodesEmbedding(torch.nn.Module):
            """x (n, in) float32 with integer codes -> numeric columns, then each code column's
            row of its ``nn.Embedding`` table, concatenated (nncore's ``embedding`` layer).
            ``config`` is the nncore layer's config; with reserve, a code outside
            [0, cardinality), a fraction or NaN reads the table's last row."""

            def __init__(self, config: dict, tables, numeric, columns, table_of, cards):
                super().__init__()
                self.config = dict(config)
                self.tables = torch.nn.ModuleList(tables)
                self.numeric, self.columns = list(numeric), list(columns)
                self.table_of, self.cards = list(table_of), list(cards)
                self.reserve = bool(config.get("reserve"))

            def forward(self, x):
                parts = [x[:, self.numeric]] if self.numeric else []
                for c, t, card in zip(self.columns, self.table_of, self.cards):
                    v = x[:, c]
                    if self.reserve:
                        ok = (v >= 0) & (v < card) & (v == torch.floor(v))
                        v = torch.where(ok, v, torch.full_like(v, float(card)))
                    parts.append(self.tables[t](v.long()))
                return torch.cat(parts, dim=1)

        _CODES_CLASS = CodesEmbedding
    return _CODES_CLASS


def _codes_module(layer, params, n_in: int):
    torch = _torch()
    numeric, cols, cards = layer._layout(n_in)
    names = layer._table_names(n_in)
    unique = list(dict.fromkeys(names))
    tables = []
    for name in unique:
        w = np.array(params[f"0.{name}"])
        emb = torch.nn.Embedding(w.shape[0], w.shape[1])
        emb.weight.copy_(torch.from_numpy(w))
        tables.append(emb)
    module = codes_embedding_class()(
        layer.get_config(), tables, numeric, cols, [unique.index(n) for n in names], cards
    )
    width = len(numeric) + sum(tables[unique.index(n)].embedding_dim for n in names)
    return module, width


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
        elif isinstance(layer, LayerNorm):
            # bias=False only when needed: torch < 2.1 has no such argument
            extra = {} if layer.bias else {"bias": False}
            ln = nn.LayerNorm(
                width, eps=layer.eps, elementwise_affine=layer.elementwise_affine, **extra
            )
            if layer.elementwise_affine:
                _copy(ln.weight, params[f"{name}.weight"])
                if layer.bias:
                    _copy(ln.bias, params[f"{name}.bias"])
            mods.append(ln)
        elif isinstance(layer, Dropout):
            mods.append(nn.Dropout(layer.rate))
        elif isinstance(layer, Activation):
            act = _act_module(nn, layer.activation, layer.alpha)
            mods.append(nn.Identity() if act is None else act)
        elif isinstance(layer, _CodesInput):  # the model's layer 0
            module, width = _codes_module(layer, params, width)
            mods.append(module)
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
    statistics, LayerNorm -> LayerNorm(width), Dropout -> Dropout, Activation -> its module,
    Residual -> :func:`residual_module`'s class."""
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
        running statistics), LayerNorm (over one width), activations, Dropout and
        :func:`residual_module` blocks (as
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
    mods = list(module)
    first = _codes_embedding(nn, mods)
    rest = mods if first is None else mods[2 if isinstance(mods[0], nn.Embedding) else 1 :]
    layers, sources = _from_modules(nn, rest, "", start=0 if first is None else 1)
    if first is not None:
        layers.insert(0, first)
    model = Sequential(layers, input_dim=input_dim, seed=seed)
    params, buffers = model.parameters(), model.buffers()
    with torch.no_grad():
        if isinstance(mods[0], nn.Embedding):
            params["0.weight"][...] = mods[0].weight.detach().cpu().numpy()
        elif first is not None:
            names = list(dict.fromkeys(first._table_names(input_dim)))
            for tname, table in zip(names, mods[0].tables):
                params[f"0.{tname}"][...] = table.weight.detach().cpu().numpy()
        for name, m in sources:
            if isinstance(m, nn.LayerNorm) and params[f"{name}.weight"].shape != m.weight.shape:
                raise ValueError(
                    f"from_torch: {m!r} normalizes {tuple(m.normalized_shape)} features, but "
                    f"its input there has {params[f'{name}.weight'].shape[0]}"
                )
            if (
                isinstance(m, nn.Linear)
                or (isinstance(m, nn.BatchNorm1d) and m.affine)
                or (isinstance(m, nn.LayerNorm) and m.elementwise_affine)
            ):
                params[f"{name}.weight"][...] = m.weight.detach().cpu().numpy()
                if getattr(m, "bias", None) is not None:
                    params[f"{name}.bias"][...] = m.bias.detach().cpu().numpy()
            if isinstance(m, nn.BatchNorm1d):
                buffers[f"{name}.running_mean"][...] = m.running_mean.detach().cpu().numpy()
                buffers[f"{name}.running_var"][...] = m.running_var.detach().cpu().numpy()
    return model  # the next predict/forward sees the written views (Sequential.parameters)


def _from_modules(nn, mods, prefix: str, start: int = 0):
    """(nncore layers, [(arena name, torch module with its tensors)]) of a list of modules;
    ``start``: the arena index of the first (1 after a leading embedding)."""
    layers: list = []
    sources: list = []
    i = 0
    while i < len(mods):
        m = mods[i]
        name = f"{prefix}{start + len(layers)}"
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
        elif isinstance(m, nn.LayerNorm):
            if len(m.normalized_shape) != 1:
                raise ValueError(
                    f"from_torch: module {i} ({m!r}): nncore's LayerNorm normalizes the features "
                    "of (batch, features) rows: normalized_shape must be one width"
                )
            affine = bool(m.elementwise_affine)  # without it torch keeps neither tensor
            layers.append(
                LayerNorm(
                    eps=m.eps, elementwise_affine=affine, bias=not affine or m.bias is not None
                )
            )
            if affine:
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


def _codes_embedding(nn, mods):
    """The nncore input layer of a leading CodesEmbedding, or of nn.Embedding + nn.Flatten."""
    m = mods[0]
    if _CODES_CLASS is not None and isinstance(m, _CODES_CLASS):
        return layer_from_config(m.config)
    if isinstance(m, nn.Embedding):
        flat = len(mods) > 1 and isinstance(mods[1], nn.Flatten) and mods[1].start_dim == 1
        if not flat or m.padding_idx is not None or m.max_norm is not None:
            raise ValueError(
                "from_torch: a leading nn.Embedding needs an nn.Flatten(1) after it and no "
                "padding_idx or max_norm"
            )
        from .embedding import Embedding

        return Embedding(m.num_embeddings, m.embedding_dim)
    return None
