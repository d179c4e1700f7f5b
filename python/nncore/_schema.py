"""The C++ core's description of its layers, activations, losses and optimizers
(``_core.schema()``), and the one check of a hyper-parameter against its limit.

The layer and optimizer classes validate from here, so a limit lives only in the core's table
(``cpp/src/schema.cpp``); the messages name the parameter and the value given.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core

SCHEMA: dict = _core.schema()

_LAYERS = {k["type"]: k for k in SCHEMA["layers"]}
_OPTIMIZERS = {k["name"]: k for k in SCHEMA["optimizers"]}

ACTIVATIONS: tuple[str, ...] = tuple(a["name"] for a in SCHEMA["activations"])
INITIALIZERS: tuple[str, ...] = tuple(SCHEMA["initializers"])
OPTIMIZERS: tuple[str, ...] = tuple(_OPTIMIZERS)


def layer_params(kind: str) -> dict:
    """{name: parameter description} of a layer kind ("dense", "batchnorm", ...)."""
    return {p["name"]: p for p in _LAYERS[kind]["params"]}


def optimizer_params(name: str) -> dict:
    """{name: parameter description} of an optimizer, core names (beta1, beta2, ...)."""
    return {p["name"]: p for p in _OPTIMIZERS[name]["params"]}


_MUST = {
    "finite": "a finite number",
    "ge0": "a finite number >= 0",
    "gt0": "a finite number > 0",
    "unit_open": "in [0, 1)",
    "unit_closed": "in [0, 1]",
    "positive_int": "a positive integer",
}


def _fits(limit: str, v: float) -> bool:
    if limit == "unit_open":
        return 0.0 <= v < 1.0
    if limit == "unit_closed":
        return 0.0 <= v <= 1.0
    if not math.isfinite(v):
        return False
    return limit == "finite" or (limit == "ge0" and v >= 0) or (limit == "gt0" and v > 0)


def check(name: str, param: dict, value):
    """Returns ``value`` normalised (float, bool, int or None) if it fits ``param``'s limit, else
    raises ValueError "<name> must be ..., got <value>". ``name`` is the parameter as the message
    should say it ("Dense: l1", "betas[0] (beta1)"). An optional parameter accepts None."""
    limit = param["limit"]
    if value is None and param["optional"]:
        return None
    if limit == "flag":
        if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, numbers.Real) and value in (0, 1)
        ):
            return bool(value)
        raise ValueError(f"{name} must be True or False, got {value!r}")
    if limit == "choice":
        if isinstance(value, str) and value in param["choices"]:
            return value
        raise ValueError(f"{name} must be one of {', '.join(param['choices'])}, got {value!r}")
    must = _MUST[limit]
    if param["optional"]:
        must = f"None or {must}"
    if limit == "positive_int":
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Integral)
            or value < 1
        ):
            raise ValueError(f"{name} must be {must}, got {value!r}")
        return int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {must}, got {value!r}")
    v = float(value)
    if not _fits(limit, v):
        raise ValueError(f"{name} must be {must}, got {value!r}")
    return v
