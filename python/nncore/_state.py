"""A model's state as plain data and back (what an ``.nnc`` file holds); Keras's weights-only
files over the same format (``save_weights`` leaves the optimizer out, ``load_weights`` copies a
file's weights into a model of the same layers); PyTorch's ``state_dict`` / ``load_state_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from . import _format
from . import optim as _optim
from ._validation import check_positive_int

_MAX_COUNT = 2**63 - 1  # step and epoch counters are 64-bit in the core
_OPTIMIZER = "optimizer."  # the prefix of the optimizer's state arrays


def state_of(model, *, optimizer: bool = True) -> dict[str, Any]:
    """:meth:`Sequential.state`; ``optimizer=False`` leaves the optimizer's state out (its kind
    and hyper-parameters stay, so a model loaded from the file gets a fresh one of the same)."""
    if model.engine is None:
        raise RuntimeError("cannot save a model that is not built yet")
    arrays = model.engine.state_arrays()
    opt: dict | None = None
    if model.optimizer is not None:
        sd = model.optimizer.state_dict()
        opt = {k: v for k, v in sd.items() if k != "state"}
        if optimizer:
            for k, v in sd["state"].items():
                arrays[_OPTIMIZER + k] = np.asarray(v, dtype=np.float32)
        else:
            opt["steps"] = 0
    return {
        "config": model.get_config(),
        "optimizer": opt,
        "step": model.engine.step,
        "epochs_done": int(model.epochs_done),
        "arrays": arrays,
    }


def from_state(cls, state: dict):
    """:meth:`Sequential.from_state`: built once, with nothing initialised randomly (the state's
    arrays are the weights)."""
    config = state.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("the state lacks the model configuration")
    optd = state.get("optimizer")
    opt = "sgd" if optd is None else _optim.get(optd["name"], **optd.get("hparams", {}))
    model = cls.from_config(dict(config, input_dim=None), optimizer=opt)
    model.build(config.get("input_dim"), _init=False)
    arrays = state["arrays"]
    model.engine.load_arrays(arrays)
    model.engine.step = check_positive_int(state.get("step", 0), "step", 0, _MAX_COUNT)
    model.epochs_done = check_positive_int(
        state.get("epochs_done", 0), "epochs_done", 0, _MAX_COUNT
    )
    if optd is not None and model.optimizer is not None:
        n = len(_OPTIMIZER)
        opt_state = {k[n:]: v for k, v in arrays.items() if k.startswith(_OPTIMIZER)}
        model.optimizer.load_state_dict(dict(optd, state=opt_state))
    return model


def save_weights(model, target) -> None:
    """:meth:`Sequential.save_weights`: a model file without the optimizer's state."""
    _format.write_model(target, _format.encode(state_of(model, optimizer=False)))


def _layer_kinds(layers) -> list[str]:
    return [type(layer).__name__ for layer in layers]


def load_weights(model, source, max_bytes: int) -> None:
    """:meth:`Sequential.load_weights`: the file is validated whole (as :func:`nncore.load` does)
    and its model built before anything of ``model`` is written."""
    data, name = _format.read_source(source, max_bytes)
    header, arrays = _format.decode(data, name)
    with _format.model_errors(name):
        saved = from_state(type(model), {**header, "arrays": arrays})
    mine, theirs = _layer_kinds(model.layers), _layer_kinds(saved.layers)
    if mine != theirs or model.input_dim not in (None, saved.input_dim):
        raise ValueError(
            f"{name}: the file's model ({saved.input_dim} inputs, layers {theirs}) is not this "
            f"model ({model.input_dim} inputs, layers {mine})"
        )
    if model.engine is None:
        model.build(saved.input_dim)
    try:
        model.set_weights(saved.get_weights())
    except ValueError as e:
        raise ValueError(f"{name}: the file's weights do not fit this model: {e}") from None


class IncompatibleKeys(NamedTuple):
    """What :meth:`Sequential.load_state_dict` did not match, as PyTorch reports it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# PyTorch's BatchNorm1d counts its batches in a buffer nncore has no use for (it averages with
# a fixed momentum), so a state_dict from PyTorch loads without it.
_TORCH_ONLY = ".num_batches_tracked"


def state_dict(model) -> dict[str, np.ndarray]:
    """:meth:`Sequential.state_dict`: copies of the parameters and buffers, in layer order."""
    return {k: v.copy() for k, v in {**model.parameters(), **model.buffers()}.items()}


def load_state_dict(model, state: Mapping, strict: bool) -> IncompatibleKeys:
    """:meth:`Sequential.load_state_dict`: every array checked before any is written."""
    if not isinstance(state, Mapping):
        raise TypeError(
            f"state_dict: expected a mapping of name to array, got {type(state).__name__}"
        )
    current = state_dict(model)
    missing = [k for k in current if k not in state]
    unexpected = [
        k
        for k in state
        if k not in current and not (isinstance(k, str) and k.endswith(_TORCH_ONLY))
    ]
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append("missing keys " + ", ".join(repr(k) for k in missing))
        if unexpected:
            parts.append("unexpected keys " + ", ".join(repr(k) for k in unexpected))
        raise ValueError(
            f"load_state_dict: {'; '.join(parts)} (the model's keys: {', '.join(current)}; "
            "strict=False loads the keys both have)"
        )
    model.set_weights([state[k] if k in state else v for k, v in current.items()])
    return IncompatibleKeys(missing, unexpected)
