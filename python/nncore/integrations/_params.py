"""A model's hyper-parameters as one flat dict of plain values, shared by the TensorBoard HParams
record and MLflow's logged parameters (both want scalars: numbers, strings, booleans)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _plain(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if v is None or isinstance(v, str):
        return "None" if v is None else v
    return str(v)


def _layer_text(cfg: dict) -> str:
    kind = cfg.get("type", "?")
    if kind == "dense":
        return f"dense({cfg['units']}, {cfg['activation']})"
    inner = ", ".join(f"{k}={v}" for k, v in cfg.items() if k != "type")
    return f"{kind}({inner})"


def model_params(model) -> dict:
    """``{"optimizer": "adam", "lr": 0.001, ..., "loss": ..., "layers": "dense(64, relu) ->
    ...", "hidden_units": "64,32", "num_params": ...}`` for a compiled Sequential, through its
    public ``get_config``, ``optimizer.get_config`` and ``num_params`` only."""
    out: dict = {}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        cfg = dict(opt.get_config())
        out["optimizer"] = cfg.pop("name")
        for k, v in cfg.items():
            if isinstance(v, (list, tuple)):
                for i, vi in enumerate(v):
                    out[f"{k}{i + 1}"] = _plain(vi)
            else:
                out[k] = _plain(v)
    config = model.get_config()
    if isinstance(getattr(model, "loss", None), str):
        out["loss"] = model.loss
    layers = config.get("layers", [])
    out["layers"] = " -> ".join(_layer_text(c) for c in layers)
    dense = [c["units"] for c in layers if c.get("type") == "dense"]
    out["depth"] = max(len(dense) - 1, 0)
    out["hidden_units"] = ",".join(str(u) for u in dense[:-1]) or "none"
    dropouts = [c["rate"] for c in layers if c.get("type") == "dropout"]
    out["dropout"] = float(max(dropouts)) if dropouts else 0.0
    out["input_dim"] = _plain(config.get("input_dim"))
    out["seed"] = _plain(config.get("seed"))
    out["num_params"] = int(getattr(model, "num_params", 0))
    return out


def plain_params(params: dict) -> dict:
    """Every value as a number, a string or a boolean."""
    return {str(k): _plain(v) for k, v in params.items()}
