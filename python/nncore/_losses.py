"""The built-in losses as the core's schema lists them (names, aliases, options), and the check
of a loss's options (``compile(loss=..., loss_options={...})``)."""

from __future__ import annotations

import numpy as np

from . import _schema

_KINDS = {k["name"]: k for k in _schema.SCHEMA["losses"]}
LOSSES: tuple[str, ...] = tuple(_KINDS)
ALIASES: dict[str, str] = {a: k["name"] for k in _KINDS.values() for a in k["aliases"]}
# The output transform that predict() applies for each loss (the core trains on logits).
OUTPUT_TRANSFORM = {
    "cross_entropy": "softmax",
    "focal": "softmax",
    "binary_cross_entropy": "sigmoid",
    "binary_focal": "sigmoid",
}
SOFTMAX_LOSSES = ("cross_entropy", "focal")  # integer labels, argmax accuracy
SIGMOID_LOSSES = ("binary_cross_entropy", "binary_focal")  # targets in [0, 1], one per output


def canonical(loss: str) -> str:
    name = ALIASES.get(loss, loss)
    if name not in _KINDS:
        raise ValueError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
    return name


def check_options(loss: str, options) -> dict:
    """The options normalised (floats, lists of floats) after checking each against the
    schema's entry for ``loss``; list lengths are checked against the outputs by the core."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"loss_options must be a dict, got {type(options).__name__}")
    kind = _KINDS[loss]
    params = {p["name"]: p for p in kind["params"]}
    out: dict = {}
    for key, value in options.items():
        if key in params:
            out[key] = _schema.check(f"{loss}: {key}", params[key], value)
        elif key in kind["lists"]:
            arr = np.asarray(value, dtype=np.float64).ravel()
            if arr.size == 0 or not np.isfinite(arr).all():
                raise ValueError(f"{loss}: {key} must be a non-empty list of finite numbers")
            if key == "class_weight" and (arr < 0).any():
                raise ValueError(f"{loss}: class_weight values must be >= 0")
            if key == "quantiles" and ((arr <= 0) | (arr >= 1)).any():
                raise ValueError(f"{loss}: quantiles must lie in (0, 1), got {arr.tolist()}")
            out[key] = arr.tolist()
        else:
            valid = [*params, *kind["lists"]]
            raise ValueError(
                f"{loss} has no option {key!r} (valid: {', '.join(valid) if valid else 'none'})"
            )
    if loss == "binary_focal" and "alpha" in out and out["alpha"] > 1:
        raise ValueError(f"binary_focal: alpha must be <= 1 (< 0: none), got {out['alpha']}")
    if loss == "quantile" and "quantiles" not in out:
        raise ValueError("the quantile loss needs loss_options={'quantiles': [...]}")
    return out
