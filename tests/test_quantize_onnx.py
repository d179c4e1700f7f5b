"""ONNX export of int8 models (nncore.onnx_quantized) run by onnxruntime: the logits of a model
without an output transform are bitwise nncore's (the graph is the same float sequence as the
epilogue: exact integer sums, Cast, Mul, Add, Relu, QuantizeLinear), with and without
onnxruntime's graph rewrites; with a softmax output only the softmax implementations differ
(a few ulps). Skipped without onnx / onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc


def _layers():
    return [
        nc.Dense(64),
        nc.BatchNorm(),
        nc.Activation("relu"),
        nc.Dropout(0.1),
        nc.Dense(32, "relu"),
        nc.Dense(4),
    ]


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 30)).astype(np.float32)
    y = rng.integers(0, 4, 500)
    clf = nc.Sequential(_layers(), input_dim=30, seed=0).compile(
        optimizer="adam", loss="cross_entropy"
    )
    clf.fit(X, y, epochs=2, verbose=0)
    raw = nc.Sequential(_layers(), input_dim=30).build()  # the same weights, no softmax
    raw.set_weights(clf.get_weights())
    for k, b in clf.buffers().items():
        raw.buffers()[k][...] = b
    return clf, raw, X


def _run(q, X, path, optimize: bool):
    ort = pytest.importorskip("onnxruntime")
    q.export_onnx(path)
    so = ort.SessionOptions()
    so.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": X})[0]


@pytest.mark.parametrize("activations", ["static", "dynamic"])
@pytest.mark.parametrize("keep_last_fp32", [True, False])
@pytest.mark.parametrize("optimize", [False, True])
def test_onnxruntime_reproduces_int8_predictions(
    models, tmp_path, activations, keep_last_fp32, optimize
):
    pytest.importorskip("onnx")
    clf, raw, X = models
    for model, exact in ((raw, True), (clf, False)):
        q = model.quantize(X[:200], activations=activations, keep_last_fp32=keep_last_fp32)
        got, want = _run(q, X, tmp_path / "q.onnx", optimize), q.predict(X)
        assert np.array_equal(got.argmax(1), want.argmax(1))
        if exact:
            np.testing.assert_array_equal(got, want)
        else:  # probabilities in [0, 1]: two softmax implementations, a few ulps apart
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_graph_uses_integer_ops(models, tmp_path):
    onnx = pytest.importorskip("onnx")
    _, raw, X = models
    raw.quantize(X[:100]).export_onnx(tmp_path / "q.onnx")
    ops = [n.op_type for n in onnx.load(tmp_path / "q.onnx").graph.node]
    assert ops.count("MatMulInteger") == 2 and ops.count("QuantizeLinear") == 2
    assert ops.count("Gemm") == 1  # the fp32 last layer
