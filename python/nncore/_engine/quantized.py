"""The int8 engine: a ``_core.QuantizedNetwork`` built from a model's engine (its folded chain of
Dense layers, weights quantized per output channel) and the calls :mod:`nncore.quantize` makes
on it. Arrays handed in are already checked; checking user input is the public face's job."""

from __future__ import annotations

import numpy as np

from .. import _core
from .network import Engine


def calibrate(engine: Engine, X: np.ndarray, dynamic: bool, keep_last_fp32: bool):
    """(input scales, zero points) of each int8 layer over the calibration rows X."""
    scales, zps = _core.QuantizedNetwork.calibrate(engine.core, X, dynamic, keep_last_fp32)
    return [float(s) for s in scales], [int(z) for z in zps]


def int8_layers(engine: Engine, dynamic: bool, keep_last_fp32: bool) -> int:
    """How many layers run in int8 (raises ValueError when the network cannot be quantized)."""
    return int(_core.QuantizedNetwork.int8_layers(engine.core, dynamic, keep_last_fp32))


class QuantizedEngine:
    """The int8 plan of ``engine``'s network as it is now (later training does not change it)."""

    def __init__(self, engine: Engine, dynamic: bool, keep_last_fp32: bool, scales, zero_points):
        self._qnet = _core.QuantizedNetwork(
            engine.core, bool(dynamic), bool(keep_last_fp32), list(scales), list(zero_points)
        )

    @property
    def input_dim(self) -> int:
        return int(self._qnet.input_dim)

    @property
    def output_dim(self) -> int:
        return int(self._qnet.output_dim)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._qnet.predict(X)

    def layers(self) -> list:
        """Per Dense layer: sizes, int8 or fp32, activation, bias, and the int8 weights with
        their per-channel scales and the input's scale and zero point (or the fp32 weight)."""
        return self._qnet.layers()
