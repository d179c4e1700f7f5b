"""The engine: the one owner of the C++ ``_core.Network`` behind a model.

It builds the network from the layers' specs (a final softmax/sigmoid folded into a matching
loss), keeps its state across rebuilds, and offers the flat arenas (parameters, gradients,
buffers), the named views into them, the raw forward / loss / backward / step calls on already
checked arrays, the data-parallel block passes and the state arrays a model file holds. Every
internal module (training, diagnostics, distributed, streaming, the scikit-learn estimators,
optim, ONNX and torch export) reaches the network through ``model.engine`` and nothing else;
``Sequential`` is the public face only.
"""

from .network import Engine, core_specs

__all__ = ["Engine", "core_specs"]
