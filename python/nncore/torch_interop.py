"""PyTorch interop (torch optional): :func:`to_torch` turns a built :class:`~nncore.Sequential`
into an equivalent ``torch.nn.Sequential`` (weights and BatchNorm running statistics copied),
:func:`from_torch` builds an nncore model from a supported ``torch.nn.Sequential``.

Supported: ``Linear`` (+ a following activation module, folded into ``Dense``),
``BatchNorm1d``, ``Dropout``, and the activations ReLU, LeakyReLU, ELU, SELU, GELU (exact),
Sigmoid, Tanh, Softplus (beta 1), SiLU, Softmax (over features), Identity. A round trip keeps
every weight's bits; outputs agree to float32 rounding (the two libraries' kernels differ).

Embedding and TabularInput become a :class:`CodesEmbedding` module (``nn.Embedding`` tables
inside, input: the same float32 X with codes); ``from_torch`` reads it back, and also takes a
leading ``nn.Embedding`` + ``nn.Flatten`` pair as :class:`~nncore.Embedding`."""

from __future__ import annotations

import numpy as np

from .embedding import _CodesInput
from .layers import Activation, BatchNorm, Dense, Dropout, layer_from_config
from .model import Sequential

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


def _codes_module(torch, layer, params, n_in: int):
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


def to_torch(model: Sequential):
    """An equivalent ``torch.nn.Sequential`` (float32, evaluation mode set by the caller as
    usual): Dense -> Linear (+ activation module), BatchNorm -> BatchNorm1d with its running
    statistics, Dropout -> Dropout, Activation -> its module."""
    torch = _torch()
    nn = torch.nn
    params, buffers = model.parameters(), model.buffers()  # RuntimeError if not built
    width = model.input_dim
    mods = []
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            if isinstance(layer, Dense):
                lin = nn.Linear(width, layer.units, bias=layer.use_bias)
                lin.weight.copy_(torch.from_numpy(np.array(params[f"{i}.weight"])))
                if layer.use_bias:
                    lin.bias.copy_(torch.from_numpy(np.array(params[f"{i}.bias"])))
                mods.append(lin)
                act = _act_module(nn, layer.activation, layer.alpha)
                if act is not None:
                    mods.append(act)
                width = layer.units
            elif isinstance(layer, BatchNorm):
                bn = nn.BatchNorm1d(
                    width, eps=layer.eps, momentum=layer.momentum, affine=layer.affine
                )
                if layer.affine:
                    bn.weight.copy_(torch.from_numpy(np.array(params[f"{i}.weight"])))
                    bn.bias.copy_(torch.from_numpy(np.array(params[f"{i}.bias"])))
                bn.running_mean.copy_(torch.from_numpy(np.array(buffers[f"{i}.running_mean"])))
                bn.running_var.copy_(torch.from_numpy(np.array(buffers[f"{i}.running_var"])))
                mods.append(bn)
            elif isinstance(layer, Dropout):
                mods.append(nn.Dropout(layer.rate))
            elif isinstance(layer, Activation):
                act = _act_module(nn, layer.activation, layer.alpha)
                mods.append(nn.Identity() if act is None else act)
            elif isinstance(layer, _CodesInput):  # always layer 0
                module, width = _codes_module(torch, layer, params, int(width or 0))
                mods.append(module)
            else:
                raise ValueError(f"to_torch: no PyTorch equivalent for {type(layer).__name__}")
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
        running statistics), activations and Dropout.
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
    layers: list = []
    sources: list = []
    i = 0
    while i < len(mods):
        m = mods[i]
        if i == 0 and _codes_embedding(nn, mods) is not None:
            layers.append(_codes_embedding(nn, mods))
            sources.append(m)
            i += 1 if not isinstance(m, nn.Embedding) else 2
            continue
        if isinstance(m, nn.Linear):
            act = _activation_of(nn, mods[i + 1]) if i + 1 < len(mods) else None
            name, alpha = act if act is not None else ("linear", None)
            layers.append(Dense(m.out_features, name, use_bias=m.bias is not None, alpha=alpha))
            sources.append(m)
            i += 2 if act is not None else 1
            continue
        if isinstance(m, nn.BatchNorm1d):
            momentum = 0.1 if m.momentum is None else m.momentum
            if m.momentum is None or not m.track_running_stats:
                raise ValueError("from_torch: BatchNorm1d needs running statistics and a momentum")
            layers.append(BatchNorm(momentum=momentum, eps=m.eps, affine=m.affine))
        elif isinstance(m, nn.Dropout):
            layers.append(Dropout(m.p))
        else:
            act = _activation_of(nn, m)
            if act is None:
                raise ValueError(f"from_torch: module {i} ({m!r}) has no nncore equivalent")
            layers.append(Activation(act[0], alpha=act[1]))
        sources.append(m)
        i += 1
    model = Sequential(layers, input_dim=input_dim, seed=seed)
    params, buffers = model.parameters(), model.buffers()
    for j, (layer, m) in enumerate(zip(layers, sources)):
        if isinstance(m, nn.Embedding):
            params["0.weight"][...] = m.weight.detach().cpu().numpy()
        elif isinstance(layer, _CodesInput):
            names = list(dict.fromkeys(layer._table_names(input_dim)))
            for name, table in zip(names, m.tables):
                params[f"0.{name}"][...] = table.weight.detach().cpu().numpy()
        if isinstance(layer, Dense) or (isinstance(layer, BatchNorm) and layer.affine):
            params[f"{j}.weight"][...] = m.weight.detach().cpu().numpy()
            if getattr(m, "bias", None) is not None:
                params[f"{j}.bias"][...] = m.bias.detach().cpu().numpy()
        if isinstance(layer, BatchNorm):
            buffers[f"{j}.running_mean"][...] = m.running_mean.detach().cpu().numpy()
            buffers[f"{j}.running_var"][...] = m.running_var.detach().cpu().numpy()
    return model  # the next predict/forward sees the written views (Sequential.parameters)


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
