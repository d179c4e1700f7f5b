"""nncore as an MLflow flavor (needs ``pip install "nncore[mlflow]"``): ``log_model`` /
``load_model`` / ``save_model`` keep a model as its ``.nnc`` file with a ``python_function``
flavor, so ``mlflow.pyfunc.load_model(uri).predict(df)`` and ``mlflow models serve`` run it;
``autolog()`` logs the parameters, per-epoch metrics and the model of every ``fit``. The code is in
:mod:`nncore.integrations.mlflow_flavor`; this module is the public entry point and the pyfunc
loader that MLmodel files name. ``import nncore.mlflow`` does not import MLflow.
"""

from __future__ import annotations

from nncore.integrations.mlflow_flavor import (
    FLAVOR_NAME,
    PyFuncModel,
    autolog,
    get_default_pip_requirements,
    load_model,
    load_pyfunc,
    log_model,
    save_model,
)


def _load_pyfunc(path):
    """The hook ``mlflow.pyfunc`` calls with the model's data path."""
    return load_pyfunc(path)


__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
]
