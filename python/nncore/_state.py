"""A model's state as plain data and back (what an ``.nnc`` file holds), and Keras's weights-only
files over the same format: ``save_weights`` leaves the optimizer out, ``load_weights`` copies a
file's weights into a model of the same layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _format
from . import optim as _optim
from ._validation import check_positive_int

_MAX_COUNT = 2**63 - 1  # step and epoch counters are 64-bit in the core
_OPTIMIZER = "optimizer."  # the prefix of the optimizer's state arrays


def state_of(model, *, optimizer: bool = True) -> dict[str, Any]:
    """:meth:`Sequential.state`; ``optimizer=False`` leaves the optimizer and its state out."""
    if model.engine is None:
        raise RuntimeError("cannot save a model that is not built yet")
    arrays = model.engine.state_arrays()
    opt: dict | None = None
    if optimizer and model.optimizer is not None:
        sd = model.optimizer.state_dict()
        for k, v in sd["state"].items():
            arrays[_OPTIMIZER + k] = np.asarray(v, dtype=np.float32)
        opt = {k: v for k, v in sd.items() if k != "state"}
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
    """:meth:`Sequential.save_weights`: a model file without the optimizer."""
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
