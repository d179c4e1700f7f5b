"""nncore.mlflow on a local file store: log_model -> load_model and the pyfunc give the model's
predictions bit for bit; autolog records the parameters, the per-epoch metrics and the model from
Sequential.fit and from the drop-in estimators. (``mlflow models serve`` answering REST requests
is checked by tools/mlflow_serve_check.py: starting the server takes too long for the suite.)"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import nncore as nc

with warnings.catch_warnings():  # MLflow 3.x warns about its own type hints on import
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("mlflow.pyfunc")

import nncore.mlflow as nc_mlflow  # noqa: E402


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3.x: opt in to a folder store
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri("file:" + str(tmp_path / "mlruns"))
    yield tmp_path
    nc_mlflow.autolog(disable=True)
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _run_metric(client, run, key) -> dict:
    """{step: value} of a run's metric (MLflow 3 also files a copy of the metrics at the logged
    model's step, which the file store lists again: the same step and value)."""
    return {m.step: m.value for m in client.get_metric_history(run.info.run_id, key)}


def _data(n=120):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (X[:, 0] - X[:, 2] > 0).astype(np.int64)
    return X, y


def _model():
    model = nc.Sequential([nc.Dense(16, "relu"), nc.BatchNorm(), nc.Dense(2)], input_dim=5, seed=3)
    return model.compile(
        optimizer=nc.optim.Adam(lr=0.02), loss="cross_entropy", metrics=["accuracy"]
    )


def test_log_model_round_trip_and_pyfunc(store):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=3, batch_size=16)
    with mlflow.start_run():
        info = nc_mlflow.log_model(model, input_example=X[:3])
    again = nc_mlflow.load_model(info.model_uri)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(df)), model.predict(X))
    local = mlflow.artifacts.download_artifacts(info.model_uri)
    files = set(os.listdir(local))
    assert {"MLmodel", "model.nnc", "requirements.txt", "python_env.yaml"} <= files
    with open(os.path.join(local, "requirements.txt")) as f:
        assert f.read().split("\n")[:2] == [f"nncore=={nc.__version__}", f"numpy=={np.__version__}"]
    flavors = mlflow.models.Model.load(os.path.join(local, "MLmodel")).flavors
    assert flavors["python_function"]["loader_module"] == "nncore.mlflow"
    assert flavors["nncore"]["data"] == "model.nnc"


def test_autolog_sequential_fit(store):
    X, y = _data()
    nc_mlflow.autolog()
    model = _model()
    history = model.fit(X, y, epochs=4, batch_size=32, validation_split=0.25)
    run = mlflow.last_active_run()
    client = mlflow.tracking.MlflowClient()
    params = run.data.params
    assert params["epochs"] == "4" and params["batch_size"] == "32"
    assert params["optimizer"] == "adam" and float(params["lr"]) == 0.02
    assert params["layers"].startswith("dense(16, relu) -> batchnorm(")
    for key in ("loss", "val_loss", "val_accuracy", "lr"):
        logged = _run_metric(client, run, key)
        assert sorted(logged) == history.epoch
        np.testing.assert_allclose(
            [logged[e] for e in history.epoch], history.history[key], rtol=1e-12
        )
    (logged_model,) = mlflow.search_logged_models(
        filter_string=f"source_run_id = '{run.info.run_id}'", output_format="list"
    )
    again = nc_mlflow.load_model(f"models:/{logged_model.model_id}")
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_autolog_drop_in_estimator(store):
    pytest.importorskip("sklearn")
    from nncore.sklearn import MLPClassifier

    X, y = _data()
    nc_mlflow.autolog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a few iterations on purpose
        est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0).fit(X, y)
    run = mlflow.last_active_run()
    assert run.data.params["hidden_layer_sizes"] == "(8,)"
    assert run.data.params["max_iter"] == "6"
    client = mlflow.tracking.MlflowClient()
    losses = _run_metric(client, run, "loss")
    assert sorted(losses) == list(range(len(est.loss_curve_)))
    np.testing.assert_allclose([losses[i] for i in sorted(losses)], est.loss_curve_, rtol=1e-12)
    (logged_model,) = mlflow.search_logged_models(
        filter_string=f"source_run_id = '{run.info.run_id}'", output_format="list"
    )
    net = nc_mlflow.load_model(f"models:/{logged_model.model_id}")
    # the network's output: the positive class's probability (binary target, one sigmoid output)
    np.testing.assert_allclose(net.predict(X)[:, 0], est.predict_proba(X)[:, 1], atol=1e-6)


def test_autolog_disable_restores_fit(store):
    fit = nc.Sequential.fit
    nc_mlflow.autolog()
    assert nc.Sequential.fit is not fit
    nc_mlflow.autolog(disable=True)
    assert nc.Sequential.fit is fit


def test_save_model_refuses_other_objects(tmp_path):
    with pytest.raises(TypeError, match="nncore.Sequential"):
        nc_mlflow.save_model(object(), tmp_path / "m")
