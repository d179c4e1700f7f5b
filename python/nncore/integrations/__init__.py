"""Bridges to the tools practitioners already run, each an optional extra that nncore imports
only when the bridge is used (``import nncore`` imports none of them):

- ``nc.callbacks.TensorBoard(log_dir)``, in ``tensorboard_callback`` (extra
  ``nncore[tensorboard]``): event files with scalars, histograms, text and hyper-parameters;
- ``nncore.mlflow`` (``log_model``, ``load_model``, ``autolog``), in ``mlflow_flavor`` (extra
  ``nncore[mlflow]``): the ``nncore`` MLflow flavor with a pyfunc;
- ``nc.callbacks.OptunaPruning(trial)`` and a per-fold pruned ``cross_validate``, in
  ``optuna_pruning`` (extra ``nncore[optuna]``);
- skl2onnx converters for ``nncore.sklearn``'s MLPs, in ``onnx_converters`` (extra
  ``nncore[skl2onnx]``).

The modules are named after what they hold, not after the packages they bridge, so none of them
shadows the package it imports.
"""

from __future__ import annotations
