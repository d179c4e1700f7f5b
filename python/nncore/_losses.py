"""The built-in losses as the core's schema lists them (names, aliases, options), and the check
of a loss's options (``compile(loss=..., loss_options={...})``): every option of a loss lives in
that one dict (Huber's ``delta`` too); class weights belong to ``fit(class_weight=...)``. The
spellings retired in favour of these (``compile(huber_delta=)``, the loss option
``class_weight``) are translated here, with a ``DeprecationWarning``, for one release."""

from __future__ import annotations

import numpy as np

from . import _deprecation, _schema

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
# Python names of list options the core knows under another name: a sigmoid loss's weight per
# output column (torch's BCEWithLogitsLoss(weight=) of shape (outputs,)) is the core's
# class_weight list.
_CORE_NAMES = {"output_weight": "class_weight"}


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
    lists = [k for k in kind["lists"] if k != "class_weight"]
    if "class_weight" in kind["lists"] and loss in SIGMOID_LOSSES:
        lists.append("output_weight")
    out: dict = {}
    for key, value in _renamed(loss, options).items():
        if key in params:
            out[key] = _schema.check(f"{loss}: {key}", params[key], value)
        elif key in lists or (key == "class_weight" and key in kind["lists"]):
            arr = np.asarray(value, dtype=np.float64).ravel()
            if arr.size == 0 or not np.isfinite(arr).all():
                raise ValueError(f"{loss}: {key} must be a non-empty list of finite numbers")
            if key in ("class_weight", "output_weight") and (arr < 0).any():
                raise ValueError(f"{loss}: {key} values must be >= 0")
            if key == "quantiles" and ((arr <= 0) | (arr >= 1)).any():
                raise ValueError(f"{loss}: quantiles must lie in (0, 1), got {arr.tolist()}")
            out[key] = arr.tolist()
        else:
            valid = [*params, *lists]
            raise ValueError(
                f"{loss} has no option {key!r} (valid: {', '.join(valid) if valid else 'none'})"
            )
    if loss == "binary_focal" and "alpha" in out and out["alpha"] > 1:
        raise ValueError(f"binary_focal: alpha must be <= 1 (< 0: none), got {out['alpha']}")
    if loss == "quantile" and "quantiles" not in out:
        raise ValueError("the quantile loss needs loss_options={'quantiles': [...]}")
    return out


def _renamed(loss: str, options: dict) -> dict:
    """``options`` with the deprecated loss option ``class_weight`` warned about: a sigmoid
    loss's becomes ``output_weight`` (the same numbers); a softmax loss keeps it for this
    release, its numbers unchanged, while ``fit(class_weight=...)`` is the one home."""
    if options.get("class_weight") is None or loss not in (*SOFTMAX_LOSSES, *SIGMOID_LOSSES):
        return options
    if loss in SIGMOID_LOSSES:
        _deprecation.warn(
            "loss_options={'class_weight': ...} for " + loss,
            "write loss_options={'output_weight': [...]}, one weight per output column "
            "(the same numbers)",
            stacklevel=6,
        )
        out = {k: v for k, v in options.items() if k != "class_weight"}
        return {**out, "output_weight": options["class_weight"]}
    norm = (
        " (fit's weighted loss is averaged over the rows, as Keras and scikit-learn do; this "
        "option divided by the summed weights of each batch's labels, as torch's "
        "CrossEntropyLoss(weight=) does)"
        if loss == "cross_entropy"
        else " (the same numbers)"
    )
    _deprecation.warn(
        "loss_options={'class_weight': ...} for " + loss,
        "pass the weights to fit instead: model.fit(X, y, class_weight=[w0, w1, ...])" + norm,
        stacklevel=6,
    )
    return options


def compile_options(loss: str, loss_options, huber_delta) -> dict:
    """compile's loss options checked, with the deprecated ``huber_delta=`` folded in as
    ``delta``."""
    options = check_options(loss, loss_options)
    if huber_delta is None:
        return options
    _deprecation.warn(
        "compile(huber_delta=...)",
        f"write compile(loss='huber', loss_options={{'delta': {huber_delta!r}}})",
        stacklevel=4,
    )
    if not (isinstance(huber_delta, (int, float)) and huber_delta > 0):
        raise ValueError(f"huber_delta must be > 0, got {huber_delta!r}")
    if loss != "huber":
        return options
    if "delta" in options:
        raise ValueError("give Huber's delta once: loss_options={'delta': ...}")
    return {**options, "delta": float(huber_delta)}


def config_options(comp: dict):
    """The loss options of a saved compile config; a file written before delta moved into the
    options holds it as ``huber_delta``, read here without a warning."""
    options = dict(comp.get("loss_options") or {})
    delta = comp.get("huber_delta", 1.0)
    if comp.get("loss") == "huber" and delta != 1.0 and "delta" not in options:
        options["delta"] = delta
    return options or None


def core_options(options: dict) -> dict:
    """The options under the names the core reads."""
    return {_CORE_NAMES.get(k, k): v for k, v in options.items()}
