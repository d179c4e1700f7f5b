"""Model -> PyTorch: :func:`to_torch` builds the ``torch.nn.Sequential`` equal to a built
model (torch imported on first use). The public module is :mod:`nncore.torch_interop`, which adds
the way back (``from_torch``); this half sits below ``Sequential`` so that ``model.to_torch`` can
call it."""

from __future__ import annotations

import numpy as np

from .embedding import CodesInput
from .layers import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    LayerNorm,
    Residual,
)


def torch_module():
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
        torch = torch_module()

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
    torch = torch_module()
    numeric, cols, cards = layer.layout(n_in)
    names = layer.table_names(n_in)
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
        nn = torch_module().nn

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
    dst.copy_(torch_module().from_numpy(np.array(src)))


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
        elif isinstance(layer, CodesInput):  # the model's layer 0
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


def to_torch(model):
    """An equivalent ``torch.nn.Sequential`` (float32, evaluation mode set by the caller as
    usual): Dense -> Linear (+ activation module), BatchNorm -> BatchNorm1d with its running
    statistics, LayerNorm -> LayerNorm(width), Dropout -> Dropout, Activation -> its module,
    Residual -> :func:`residual_module`'s class."""
    torch = torch_module()
    nn = torch.nn
    params, buffers = model.parameters(), model.buffers()  # RuntimeError if not built
    with torch.no_grad():
        mods, _ = _to_modules(nn, model.layers, params, buffers, "", int(model.input_dim or 0))
    return nn.Sequential(*mods)
