"""Bridges to the tools practitioners already run, each an optional extra that nncore imports
only when the bridge is used (``import nncore`` imports none of them).

========================================  =====================  =================================
bridge                                    extra                  module
========================================  =====================  =================================
``nc.callbacks.TensorBoard(log_dir)``     ``nncore[tensorboard]`` :mod:`.tensorboard_callback`
``nncore.mlflow`` (flavor, ``autolog``)   ``nncore[mlflow]``      :mod:`.mlflow_flavor`
``nc.callbacks.OptunaPruning(trial)``     ``nncore[optuna]``      :mod:`.optuna_pruning`
skl2onnx converters for ``nncore.sklearn`` ``nncore[skl2onnx]``  :mod:`.onnx_converters`
========================================  =====================  =================================

The modules are named after what they hold, not after the packages they bridge, so that none of
them shadows the package it imports.
"""

from __future__ import annotations
