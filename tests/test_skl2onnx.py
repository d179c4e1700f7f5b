"""skl2onnx converters for nncore.sklearn's MLPs: Pipeline(StandardScaler(), nncore MLP) converts
with skl2onnx.to_onnx and onnxruntime reproduces predict_proba / predict (digits, breast cancer)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from skl2onnx import to_onnx  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import nncore.integrations.onnx_converters  # noqa: E402,F401  (registers the converters)
from nncore.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: few iterations, on purpose
        return make_pipeline(StandardScaler(), est).fit(X, y)


def _run(onx, X):
    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})


@pytest.mark.parametrize(
    "load, options",
    [
        (load_digits, {}),
        (load_breast_cancer, {}),  # binary: one sigmoid output, predict_proba's two columns
        (load_breast_cancer, {"batchnorm": True, "dropout": 0.2, "activation": "gelu"}),
    ],
    ids=["digits", "breast_cancer", "breast_cancer-batchnorm-gelu"],
)
def test_pipeline_matches_predict_proba(load, options):
    X, y = load(return_X_y=True)
    X = X.astype(np.float32)
    pipe = _fit(
        MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0, **options), X, y
    )
    clf = pipe[-1]
    onx = to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False}})
    labels, proba = _run(onx, X)
    expected = pipe.predict_proba(X)
    assert proba.shape == expected.shape
    np.testing.assert_allclose(proba, expected, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(labels, pipe.predict(X))


def test_string_labels_and_zipmap():
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    names = np.array(["benign", "malignant"])[1 - y]
    pipe = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0), X, names)
    labels, proba = _run(to_onnx(pipe, X[:1]), X[:20])  # default: ZipMap, a dict per row
    np.testing.assert_array_equal(labels, pipe.predict(X[:20]))
    expected = pipe.predict_proba(X[:20])
    got = np.array([[row[c] for c in pipe.classes_] for row in proba])
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor_pipeline(dtype):
    X, y = load_digits(return_X_y=True)
    X = X.astype(dtype)
    pipe = _fit(MLPRegressor(hidden_layer_sizes=(16,), max_iter=10, random_state=0), X, y)
    (out,) = _run(to_onnx(pipe, X[:1]), X)
    assert out.dtype == dtype and out.shape == (len(X), 1)
    np.testing.assert_allclose(out.ravel(), pipe.predict(X), atol=1e-4, rtol=1e-6)


def test_multilabel_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    Y = (X[:, :2] > 0).astype(int)
    est = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, Y)
    with pytest.raises(NotImplementedError, match="multi-label"):
        to_onnx(est, X[:1], options={id(est[-1]): {"zipmap": False}})
