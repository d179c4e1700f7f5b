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

from ._torch_export import (  # noqa: F401  (the public names of the export half)
    codes_embedding_class,
    residual_module,
    to_torch,
    torch_module,
)
from .embedding import Embedding
from .layers import Activation, BatchNorm, Dense, Dropout, LayerNorm, Residual, layer_from_config
from .model import Sequential


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


def from_torch(module, input_dim: int | None = None, *, seed: int = 0) -> Sequential:
    """The nncore model of a ``torch.nn.Sequential`` of supported modules (see the module
    docstring), with its weights and BatchNorm running statistics.

    Parameters
    ----------
    module : torch.nn.Sequential
        Linear (each optionally followed by a supported activation module), BatchNorm1d (with
        running statistics), LayerNorm (over one width), activations, Dropout and
        :func:`residual_module` blocks (as
        :func:`to_torch` writes them).
    input_dim : int, optional
        Number of input features; by default the first module's (a Linear's ``in_features``, a
        BatchNorm1d's ``num_features``, a LayerNorm's width). Needed when the module starts
        with an embedding of codes.
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
    >>> model = nc.from_torch(seq)  # input_dim read off the first Linear  # doctest: +SKIP
    >>> x = np.ones((3, 4), np.float32)  # doctest: +SKIP
    >>> bool(np.allclose(model.predict(x), seq(torch.from_numpy(x)).detach().numpy(), atol=1e-6))
    ... # doctest: +SKIP
    True
    """
    torch = torch_module()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    mods = list(module)
    first = _codes_embedding(nn, mods)
    rest = mods if first is None else mods[2 if isinstance(mods[0], nn.Embedding) else 1 :]
    layers, sources = _from_modules(nn, rest, "", start=0 if first is None else 1)
    input_dim = _input_width(nn, mods, input_dim)  # after the modules: an unsupported one first
    if first is not None:
        layers.insert(0, first)
    model = Sequential(layers, input_dim=input_dim, seed=seed)
    params, buffers = model.parameters(), model.buffers()
    with torch.no_grad():
        if isinstance(mods[0], nn.Embedding):
            params["0.weight"][...] = mods[0].weight.detach().cpu().numpy()
        elif first is not None:
            names = list(dict.fromkeys(first.table_names(input_dim)))
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


def _input_width(nn, mods: list, given: int | None) -> int:
    """input_dim as given, else read off the first module; a given one must agree with it."""
    first = mods[0] if mods else None
    width = None
    if isinstance(first, nn.Linear):
        width = first.in_features
    elif isinstance(first, nn.BatchNorm1d):
        width = first.num_features
    elif isinstance(first, nn.LayerNorm) and len(first.normalized_shape) == 1:
        width = first.normalized_shape[0]
    if given is None:
        if width is None:
            raise ValueError(
                f"from_torch: give input_dim (the first module, {first!r}, does not say its "
                "input width)"
            )
        return int(width)
    if width is not None and given != width:
        raise ValueError(f"from_torch: input_dim={given}, but {first!r} takes {width} features")
    return given


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
    if isinstance(m, codes_embedding_class()):
        return layer_from_config(m.config)
    if isinstance(m, nn.Embedding):
        flat = len(mods) > 1 and isinstance(mods[1], nn.Flatten) and mods[1].start_dim == 1
        if not flat or m.padding_idx is not None or m.max_norm is not None:
            raise ValueError(
                "from_torch: a leading nn.Embedding needs an nn.Flatten(1) after it and no "
                "padding_idx or max_norm"
            )
        return Embedding(m.num_embeddings, m.embedding_dim)
    return None
