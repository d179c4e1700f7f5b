"""nncore: fast dense neural networks (MLPs) on CPUs.

A C++17 core (OpenMP, run-time-dispatched AVX-512/AVX2/NEON kernels) does the work; this package
builds models, trains and evaluates them, and runs model selection.

>>> import nncore as nc
>>> model = nc.Sequential([nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0)
>>> model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])  # doctest: +ELLIPSIS
Sequential(...)
"""

from __future__ import annotations

import importlib
from typing import Any

try:
    from . import _core  # noqa: F401  (fails early with a clear message)
except ImportError as e:  # a bad NNCORE_ISA surfaces here with the core's message
    raise ImportError(f"nncore's C++ core could not be loaded: {e}") from e

from . import callbacks, data, datasets, optim
from ._config import __version__, config, get_num_threads, num_threads, set_num_threads
from .embedding import Embedding, TabularInput
from .io import ModelFileError, load
from .layers import Activation, BatchNorm, Dense, Dropout, Input, LayerNorm, Residual
from .model import Sequential

# Heavier or optional parts load on first use, so `import nncore` stays fast.
_LAZY = {
    "metrics",
    "model_selection",
    "preprocessing",
    "sklearn",
    "plot",
    "diagnostics",
    "lr_scheduler",
    "io",
    "torch_interop",
    "mlflow",
    "integrations",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name == "from_torch":  # torch is imported only when it is called
        return importlib.import_module(".torch_interop", __name__).from_torch
    raise AttributeError(f"module 'nncore' has no attribute {name!r}")


__all__ = [
    "Activation",
    "BatchNorm",
    "Dense",
    "Dropout",
    "Embedding",
    "Input",
    "LayerNorm",
    "ModelFileError",
    "Residual",
    "Sequential",
    "TabularInput",
    "callbacks",
    "config",
    "data",
    "datasets",
    "from_torch",
    "get_num_threads",
    "load",
    "num_threads",
    "optim",
    "set_num_threads",
    "__version__",
]
