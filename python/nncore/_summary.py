"""``Sequential.summary``'s table: layers (a residual block's layers indented under it), output
widths and parameter counts, from the layers and the engine's parameter entries."""

from __future__ import annotations

import numpy as np

from .layers import Residual


def _summary_rows(layers, prefix: str, width, counts: dict, depth: int):
    """(name, description, output width, parameters) of each layer, a block's layers indented
    under it (``"3.body.0"``) and its projection after them (``"3.proj"``)."""
    for j, layer in enumerate(layers):
        name, pad = f"{prefix}{j}", "  " * depth
        before, width = width, layer.output_width(width)
        if not isinstance(layer, Residual):
            yield pad + name, repr(layer), width, counts.get(name, 0)
            continue
        total = sum(c for k, c in counts.items() if k.startswith(name + "."))
        yield pad + name, f"Residual(projection={layer.projection!r})", width, total
        yield from _summary_rows(layer.layers, f"{name}.body.", before, counts, depth + 1)
        if f"{name}.proj" in counts:
            yield f"{pad}  {name}.proj", "projection x·Pᵀ (no bias)", width, counts[f"{name}.proj"]


def summary_text(model) -> str:
    """The summary table of a built model, as text."""
    counts: dict[str, int] = {}  # owner ("0", "3.body.1", "3.proj") -> parameters
    for name, shape, _off, _layer in model.engine.param_entries():
        owner = name.rsplit(".", 1)[0]
        counts[owner] = counts.get(owner, 0) + int(np.prod(shape))
    rows = [("#", "layer", "output", "params")]
    rows += [
        (n, d, f"(None, {w})", f"{c:,}")
        for n, d, w, c in _summary_rows(model.layers, "", model.input_dim, counts, 0)
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    line = "  ".join("-" * w for w in widths)
    text = [f"Sequential(input_dim={model.input_dim}, seed={model.seed})", line]
    for j, r in enumerate(rows):
        text.append("  ".join(r[c].ljust(widths[c]) for c in range(4)))
        if j == 0:
            text.append(line)
    text += [line, f"total parameters: {model.num_params:,}"]
    if model.loss:
        text.append(f"loss: {model.loss}, optimizer: {model.optimizer!r}")
    return "\n".join(text)
