"""The plain MLP that the command line (``nncore train/cv``) and the scikit-learn estimators
build: hidden Dense layers (optionally Dense -> BatchNorm -> activation, optionally followed by
Dropout) and a linear output layer that the loss reads as logits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .layers import Activation, BatchNorm, Dense, Dropout, Layer
from .model import Sequential


def mlp_layers(
    hidden: Iterable[int],
    n_out: int,
    activation: str = "relu",
    *,
    batchnorm: bool = False,
    dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    max_norm: float | None = None,
) -> list[Layer]:
    """The layers of an MLP with the given hidden widths and ``n_out`` outputs; ``l1``/``l2``
    apply to every Dense, the output layer included; ``max_norm`` to the hidden Dense layers."""
    layers: list[Layer] = []
    for h in hidden:
        if batchnorm:
            # the activation follows the normalization, so the Dense stays linear
            layers += [
                Dense(int(h), l1=l1, l2=l2, max_norm=max_norm),
                BatchNorm(),
                Activation(activation),
            ]
        else:
            layers.append(Dense(int(h), activation, l1=l1, l2=l2, max_norm=max_norm))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(int(n_out), l1=l1, l2=l2))
    return layers


def build_mlp(
    n_in: int,
    n_out: int,
    hidden: Iterable[int],
    activation: str = "relu",
    *,
    batchnorm: bool = False,
    dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    max_norm: float | None = None,
    seed: int = 0,
    optimizer: Any = "adam",
    loss: str = "mse",
    metrics: Any = None,
    first: Layer | None = None,
) -> Sequential:
    """A compiled :class:`Sequential` MLP (see :func:`mlp_layers`); ``first`` (an input layer
    such as :class:`nncore.TabularInput`) goes before the hidden layers."""
    layers = mlp_layers(
        hidden,
        n_out,
        activation,
        batchnorm=batchnorm,
        dropout=dropout,
        l1=l1,
        l2=l2,
        max_norm=max_norm,
    )
    if first is not None:
        layers.insert(0, first)
    model = Sequential(layers, input_dim=int(n_in), seed=int(seed))
    return model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
