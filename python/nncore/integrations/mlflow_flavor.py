"""The ``nncore`` MLflow flavor behind :mod:`nncore.mlflow`: a model is its ``.nnc`` file (nncore's
checksummed format, never a pickle) plus MLflow's ``MLmodel``, requirements and environment files,
with a ``python_function`` flavor whose loader is :mod:`nncore.mlflow`, so
``mlflow.pyfunc.load_model(uri).predict(df)`` and ``mlflow models serve`` run it. :func:`autolog`
patches ``Sequential.fit`` and the scikit-learn drop-in estimators' ``fit``. MLflow is imported
when one of these functions is called, not with nncore."""

from __future__ import annotations

import functools
import os
import warnings
from importlib import metadata as _metadata
from typing import Any

import numpy as np

import nncore
from nncore.callbacks import Callback
from nncore.integrations._params import model_params, plain_params

FLAVOR_NAME = "nncore"
MODEL_FILE = "model.nnc"
LOADER_MODULE = "nncore.mlflow"


def _require_mlflow():
    try:
        with warnings.catch_warnings():
            # MLflow's own type module warns about its Any hints on import (3.x): not ours to fix
            warnings.filterwarnings("ignore", message=".*Any type hint", category=UserWarning)
            import mlflow
            import mlflow.pyfunc
    except ImportError:
        raise ImportError(
            "nncore.mlflow needs the mlflow package: pip install 'nncore[mlflow]' "
            "(or pip install mlflow)"
        ) from None
    return mlflow


def _sequential(model):
    """The Sequential to save: the model itself, or a fitted drop-in estimator's ``model_``."""
    if isinstance(model, nncore.Sequential):
        return model
    inner = getattr(model, "model_", None)
    if isinstance(inner, nncore.Sequential):
        return inner
    raise TypeError(
        "nncore.mlflow saves an nncore.Sequential or a fitted nncore.sklearn estimator, "
        f"got {type(model).__name__}"
    )


def _version(dist: str) -> str | None:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return None


def get_default_pip_requirements() -> list:
    """The packages a served nncore model needs, pinned to the versions in use:
    ``nncore`` and ``numpy`` (``pandas`` comes with MLflow's pyfunc).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from nncore.integrations.mlflow_flavor import get_default_pip_requirements
    >>> [r.split("==")[0] for r in get_default_pip_requirements()]
    ['nncore', 'numpy']
    """
    nncore_version = _version("nncore") or nncore.__version__
    return [f"nncore=={nncore_version}", f"numpy=={np.__version__}"]


def save_model(
    model,
    path,
    *,
    mlflow_model=None,
    signature=None,
    input_example=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    metadata: dict | None = None,
) -> None:
    """Save ``model`` as an MLflow model directory at ``path`` (which must not exist yet).

    Parameters
    ----------
    model : nncore.Sequential or fitted nncore.sklearn estimator
        An estimator is saved as its network ``model_`` (the pyfunc then returns the network's
        outputs: class probabilities, or the regression values).
    path : str or path-like
        The directory to create.
    mlflow_model : mlflow.models.Model, optional
        The MLmodel to add the flavors to (``log_model`` passes its own).
    signature, input_example : optional
        As in MLflow's own flavors. Without a signature one is inferred from ``input_example``.
    pip_requirements, extra_pip_requirements : list of str, optional
        Replace, or add to, :func:`get_default_pip_requirements`.
    metadata : dict, optional
        As in MLflow's own flavors: written into the MLmodel file.

    Raises
    ------
    TypeError
        When ``model`` is neither a Sequential nor a fitted nncore estimator.
    ImportError
        Without the mlflow package.

    Examples
    --------
    >>> import os, tempfile
    >>> import nncore as nc
    >>> from nncore import mlflow as nc_mlflow
    >>> model = nc.Sequential([nc.Dense(3)], input_dim=2).compile(loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> nc_mlflow.save_model(model, os.path.join(tmp.name, "m"))
    >>> sorted(os.listdir(os.path.join(tmp.name, "m")))  # doctest: +ELLIPSIS
    ['MLmodel', 'conda.yaml', 'model.nnc', 'python_env.yaml', 'requirements.txt']
    >>> tmp.cleanup()
    """
    mlflow = _require_mlflow()
    from mlflow.models import Model, infer_signature
    from mlflow.models.utils import _save_example

    seq = _sequential(model)
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        raise FileExistsError(f"nncore.mlflow.save_model: {path} already exists")
    os.makedirs(path)
    if mlflow_model is None:
        mlflow_model = Model()
    seq.save(os.path.join(path, MODEL_FILE))
    if input_example is not None:
        _save_example(mlflow_model, input_example, path)
        if signature is None:
            x = np.asarray(input_example, dtype=np.float32)
            signature = infer_signature(x, seq.predict(x))
    if signature is not None:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata
    mlflow.pyfunc.add_to_model(
        mlflow_model,
        loader_module=LOADER_MODULE,
        data=MODEL_FILE,
        conda_env="conda.yaml",
        python_env="python_env.yaml",
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        nncore_version=nncore.__version__,
        data=MODEL_FILE,
        loss=seq.loss if isinstance(seq.loss, str) else None,
    )
    mlflow_model.save(os.path.join(path, "MLmodel"))
    _write_environment(path, mlflow.__version__, pip_requirements, extra_pip_requirements)


def _write_environment(path, mlflow_version, pip_requirements, extra_pip_requirements) -> None:
    """requirements.txt, conda.yaml and python_env.yaml of a saved model directory."""
    import yaml

    reqs = list(pip_requirements or get_default_pip_requirements())
    reqs += list(extra_pip_requirements or [])
    with open(os.path.join(path, "requirements.txt"), "w") as f:
        f.write("\n".join(reqs) + "\n")
    conda = {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={_python()}",
            "pip",
            {"pip": [f"mlflow=={mlflow_version}", *reqs]},
        ],
    }
    with open(os.path.join(path, "conda.yaml"), "w") as f:
        yaml.safe_dump(conda, f, default_flow_style=False)
    with open(os.path.join(path, "python_env.yaml"), "w") as f:
        yaml.safe_dump(
            {
                "python": _python(),
                "build_dependencies": ["pip"],
                "dependencies": ["-r requirements.txt"],
            },
            f,
            default_flow_style=False,
        )


def _python() -> str:
    import platform

    return platform.python_version()


def log_model(model, name: str = "model", **kwargs):
    """Log ``model`` to the active MLflow run (one is started when none is active).

    Parameters
    ----------
    model : nncore.Sequential or fitted nncore.sklearn estimator
        See :func:`save_model`.
    name : str, default "model"
        The logged model's name.
    **kwargs
        :func:`save_model`'s options (``signature``, ``input_example``, ``pip_requirements``,
        ...) and ``mlflow.models.Model.log``'s (``registered_model_name``, ``params``, ``tags``,
        ``step``, ...).

    Returns
    -------
    mlflow.models.model.ModelInfo
        ``model_uri`` loads it back with :func:`load_model` or ``mlflow.pyfunc.load_model``.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlflow
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import mlflow as nc_mlflow
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3.x: a local folder store
    >>> mlflow.set_tracking_uri("file:" + os.path.join(tmp.name, "mlruns"))
    >>> model = nc.Sequential([nc.Dense(3)], input_dim=2).compile(loss="mse")
    >>> with mlflow.start_run():
    ...     info = nc_mlflow.log_model(model)
    >>> again = nc_mlflow.load_model(info.model_uri)
    >>> x = np.ones((1, 2), np.float32)
    >>> bool((again.predict(x) == model.predict(x)).all())
    True
    >>> mlflow.set_tracking_uri(None); tmp.cleanup()
    """
    _require_mlflow()
    from mlflow.models import Model

    return Model.log(
        artifact_path=None,
        name=name,
        flavor=_this_module(),
        flavor_name=FLAVOR_NAME,
        model=model,
        **kwargs,
    )


def _this_module():
    import sys

    return sys.modules[__name__]


def load_model(model_uri: str, dst_path=None):
    """Load a model logged with :func:`log_model` (or saved with :func:`save_model`) as an
    :class:`nncore.Sequential`.

    Parameters
    ----------
    model_uri : str
        ``runs:/<run_id>/<name>``, ``models:/<model_id>``, a local path, ... (any MLflow model
        URI).
    dst_path : str, optional
        Where to download the artifacts (a temporary folder otherwise).

    Returns
    -------
    nncore.Sequential

    Examples
    --------
    >>> import os, tempfile
    >>> import nncore as nc
    >>> from nncore import mlflow as nc_mlflow
    >>> model = nc.Sequential([nc.Dense(3)], input_dim=2).compile(loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> nc_mlflow.save_model(model, os.path.join(tmp.name, "m"))
    >>> nc_mlflow.load_model(os.path.join(tmp.name, "m")).num_params
    9
    >>> tmp.cleanup()
    """
    _require_mlflow()
    from mlflow.artifacts import download_artifacts
    from mlflow.models import Model

    local = download_artifacts(artifact_uri=model_uri, dst_path=dst_path)
    flavors = Model.load(os.path.join(local, "MLmodel")).flavors
    if FLAVOR_NAME not in flavors:
        raise ValueError(f"{model_uri} has no {FLAVOR_NAME!r} flavor (flavors: {sorted(flavors)})")
    return nncore.load(os.path.join(local, flavors[FLAVOR_NAME]["data"]))


class PyFuncModel:
    """What ``mlflow.pyfunc.load_model`` runs for an nncore model: ``predict(data)`` turns a
    pandas DataFrame, numpy array or list of rows into float32 features (columns in order) and
    returns ``model.predict`` (probabilities for a classifier, values for a regressor).

    Parameters
    ----------
    model : nncore.Sequential
        The model to serve.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore.integrations.mlflow_flavor import PyFuncModel
    >>> model = nc.Sequential([nc.Dense(3)], input_dim=2).compile(loss="mse")
    >>> PyFuncModel(model).predict([[0.0, 1.0]]).shape
    (1, 3)
    """

    def __init__(self, model):
        self.model = model

    def predict(self, data, params=None) -> np.ndarray:
        """The model's predictions for the rows of ``data``.

        Parameters
        ----------
        data : pandas.DataFrame, numpy.ndarray, dict or list of rows
            The features, columns in the model's input order (a dict maps column names to
            values; one row may be 1-D).
        params : dict, optional
            MLflow's inference parameters; none are used.

        Returns
        -------
        numpy.ndarray
            ``model.predict`` of the rows: probabilities for a classifier, values for a
            regressor.
        """
        if hasattr(data, "to_numpy"):
            data = data.to_numpy()
        elif isinstance(data, dict):  # {"column": values} as a served JSON "inputs" may hold
            data = np.column_stack([np.asarray(v) for v in data.values()])
        x = np.asarray(data, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        return self.model.predict(x)

    def get_raw_model(self):
        """The wrapped model.

        Returns
        -------
        nncore.Sequential
            The model ``predict`` runs.
        """
        return self.model


def load_pyfunc(path) -> PyFuncModel:
    """MLflow's pyfunc loader for the ``nncore`` flavor (``_load_pyfunc`` of :mod:`nncore.mlflow`).

    Parameters
    ----------
    path : str or path-like
        The ``.nnc`` file or the model directory.

    Returns
    -------
    PyFuncModel
        The loaded model, wrapped for MLflow's pyfunc interface.

    Examples
    --------
    >>> import os, tempfile
    >>> import nncore as nc
    >>> from nncore.integrations.mlflow_flavor import load_pyfunc
    >>> tmp = tempfile.TemporaryDirectory()
    >>> nc.Sequential([nc.Dense(3)], input_dim=2).save(os.path.join(tmp.name, "model.nnc"))
    >>> load_pyfunc(os.path.join(tmp.name, "model.nnc")).predict([[1.0, 2.0]]).shape
    (1, 3)
    >>> tmp.cleanup()
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, MODEL_FILE)
    return PyFuncModel(nncore.load(path))


# ------------------------------------------------------------------------------- autolog
_PATCHED: dict = {}  # (class, method name) -> the original function
_SETTINGS: dict = {"log_models": True, "silent": False}
_DEPTH = [0]  # > 0 inside a patched fit: an inner fit is not logged again


class _EpochMetrics(Callback):
    """Logs each epoch's scalar logs as MLflow metrics at step = epoch."""

    def __init__(self, mlflow):
        self.mlflow = mlflow

    def on_epoch_end(self, epoch, logs=None):
        metrics = {
            _metric_name(k): float(v)
            for k, v in (logs or {}).items()
            if np.ndim(v) == 0 and not isinstance(v, (str, bytes)) and np.isfinite(v)
        }
        if metrics:
            self.mlflow.log_metrics(metrics, step=int(epoch))


def _metric_name(key: str) -> str:
    return key.replace("/", "_layer")  # grad_norm/0 -> grad_norm_layer0


def _log_params(mlflow, params: dict) -> None:
    from mlflow.exceptions import MlflowException

    try:
        mlflow.log_params(plain_params(params))
    except MlflowException:  # a second fit in the same run with other values: keep the first
        if not _SETTINGS["silent"]:
            warnings.warn(
                "nncore.mlflow.autolog: the run already holds other parameter values; "
                "this fit's parameters were not logged",
                stacklevel=3,
            )


def _run(mlflow):
    """(run, whether autolog started it)."""
    active = mlflow.active_run()
    if active is not None:
        return active, False
    return mlflow.start_run(), True


_FIT_ARGS = ("epochs", "batch_size", "shuffle", "validation_split", "seed")


def _patched_sequential_fit(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        if _DEPTH[0]:
            return original(self, *args, **kwargs)
        mlflow = _require_mlflow()
        run, started = _run(mlflow)
        _DEPTH[0] += 1
        try:
            fit_args = {k: kwargs[k] for k in _FIT_ARGS if k in kwargs}
            _log_params(mlflow, {**model_params(self), **fit_args} if self.built else fit_args)
            callbacks = [*(kwargs.pop("callbacks", None) or []), _EpochMetrics(mlflow)]
            history = original(self, *args, callbacks=callbacks, **kwargs)
            if _SETTINGS["log_models"]:  # linked to the last epoch's metrics
                log_model(self, name="model", step=max(history.epoch, default=0))
            mlflow.set_tag("nncore.fit", "Sequential.fit")
            return history
        finally:
            _DEPTH[0] -= 1
            if started:
                mlflow.end_run()

    return fit


def _patched_estimator_fit(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        if _DEPTH[0]:
            return original(self, *args, **kwargs)
        mlflow = _require_mlflow()
        run, started = _run(mlflow)
        _DEPTH[0] += 1
        try:
            _log_params(mlflow, self.get_params(deep=False))
            out = original(self, *args, **kwargs)
            curves = {
                "loss": getattr(self, "loss_curve_", None),
                "validation_score": getattr(self, "validation_scores_", None),
            }
            for name, values in curves.items():
                for step, v in enumerate(values or []):
                    if v is not None and np.isfinite(v):
                        mlflow.log_metric(name, float(v), step=step)
            mlflow.log_metric("n_iter", float(getattr(self, "n_iter_", 0)))
            if _SETTINGS["log_models"]:
                log_model(self, name="model")
            mlflow.set_tag("nncore.fit", f"{type(self).__name__}.fit")
            return out
        finally:
            _DEPTH[0] -= 1
            if started:
                mlflow.end_run()

    return fit


def _targets() -> list:
    targets: list[tuple[Any, Any]] = [(nncore.Sequential, _patched_sequential_fit)]
    try:
        from nncore.sklearn import MLPClassifier, MLPRegressor
    except ImportError:  # scikit-learn is not installed: only Sequential.fit is patched
        return targets
    targets.append((MLPClassifier, _patched_estimator_fit))
    targets.append((MLPRegressor, _patched_estimator_fit))
    return targets


def autolog(log_models: bool = True, disable: bool = False, silent: bool = False) -> None:
    """Log every ``fit`` to MLflow: the parameters, the per-epoch metrics and the model (with its
    pip requirements), into the active run or into a new run per fit.

    ``Sequential.fit`` logs the model's hyper-parameters (optimizer and its settings, loss,
    layers, ...) and fit's ``epochs``/``batch_size``/..., each epoch's logs (``loss``,
    ``val_loss``, metrics, ``lr``, diagnostics as ``grad_norm_layer0``) at step = epoch. The
    drop-in ``nncore.sklearn.MLPClassifier``/``MLPRegressor`` log ``get_params()``,
    ``loss_curve_`` and ``validation_scores_`` per iteration and ``n_iter``. A fit inside a
    logged fit is not logged again.

    Parameters
    ----------
    log_models : bool, default True
        Also log the trained model (:func:`log_model`, name ``"model"``).
    disable : bool, default False
        Undo the patches.
    silent : bool, default False
        No warning when a second fit in one run has other parameter values (they are not
        logged: MLflow's parameters cannot change).

    Examples
    --------
    >>> import os, tempfile
    >>> import mlflow
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import mlflow as nc_mlflow
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3.x: a local folder store
    >>> mlflow.set_tracking_uri("file:" + os.path.join(tmp.name, "mlruns"))
    >>> nc_mlflow.autolog(log_models=False)
    >>> X = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(1)], input_dim=2).compile(optimizer="sgd", loss="mse")
    >>> with mlflow.start_run() as run:
    ...     history = model.fit(X, X.sum(axis=1), epochs=3)
    >>> logged = mlflow.get_run(run.info.run_id).data
    >>> logged.params["epochs"], logged.params["optimizer"], "loss" in logged.metrics
    ('3', 'sgd', True)
    >>> nc_mlflow.autolog(disable=True)
    >>> mlflow.set_tracking_uri(None); tmp.cleanup()
    """
    _SETTINGS.update(log_models=bool(log_models), silent=bool(silent))
    for cls, patch in _targets():
        key = (cls, "fit")
        if disable:
            if key in _PATCHED:
                cls.fit = _PATCHED.pop(key)
            continue
        if key not in _PATCHED:
            _PATCHED[key] = cls.__dict__["fit"]
            cls.fit = patch(_PATCHED[key])


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
