"""ONNX export (issue #18): onnxruntime runs the exported graph to predict's outputs within 1e-5
for every supported layer and activation, at any batch size; unsupported layers are named."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from nncore.layers import ACTIVATIONS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _data(n=50, d=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 2).astype(np.float32)
    return X, X[:, :k].argmax(axis=1).astype(np.int64)


def _run(path, X):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {sess.get_inputs()[0].name: X})
    return out


def _check(model, tmp_path, opset=None, X=None):
    if X is None:
        X, _ = _data(d=model.input_dim)
    path = tmp_path / "m.onnx"
    model.export_onnx(path, opset=opset)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    dim0 = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim0.dim_param == "batch" and not dim0.HasField("dim_value")
    for rows in (1, 3, len(X)):  # the batch dimension is dynamic
        np.testing.assert_allclose(_run(path, X[:rows]), model.predict(X[:rows]), rtol=0, atol=1e-5)
    return proto


def _fitted(layers, loss="mse", d=7, k=3, seed=0):
    m = nc.Sequential(layers, input_dim=d, seed=seed)
    m.compile(optimizer=nc.optim.Adam(lr=1e-2), loss=loss)
    X, y = _data(d=d, k=k)
    target = (
        y
        if loss == "cross_entropy"
        else (
            (y == 0).astype(np.float32)[:, None]
            if loss == "binary_cross_entropy"
            else X[:, :k] * 0.5
        )
    )
    m.fit(X, target, epochs=3, batch_size=16)  # moves BatchNorm's running statistics
    return m


@pytest.mark.parametrize("opset", [13, 20])
@pytest.mark.parametrize("act", [a for a in ACTIVATIONS])
def test_every_activation_in_dense_and_activation_layers(act, opset, tmp_path):
    m = _fitted([nc.Dense(16, act), nc.Dense(8), nc.Activation(act), nc.Dense(3)])
    _check(m, tmp_path, opset=opset)


@pytest.mark.parametrize(("act", "alpha"), [("leaky_relu", 0.2), ("elu", 0.5)])
def test_activation_alpha(act, alpha, tmp_path):
    m = _fitted([nc.Dense(16, act, alpha=alpha), nc.Activation(act, alpha=alpha), nc.Dense(3)])
    _check(m, tmp_path)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_dropout_and_softmax_output(affine, tmp_path):
    m = _fitted(
        [
            nc.Dense(32, use_bias=False),
            nc.BatchNorm(affine=affine, eps=1e-3),
            nc.Activation("relu"),
            nc.Dropout(0.4),
            nc.Dense(16, "gelu"),
            nc.BatchNorm(),
            nc.Dense(3, "softmax"),
        ],
        loss="cross_entropy",
    )
    assert np.abs(m.buffers()["1.running_mean"]).max() > 0.01  # real statistics are exported
    proto = _check(m, tmp_path)
    ops = [n.op_type for n in proto.graph.node]
    assert "Dropout" not in ops and ops.count("BatchNormalization") == 2
    assert ops[-1] == "Softmax" and ops.count("Softmax") == 1  # folded once, as predict does


def test_sigmoid_output_and_uncompiled_model(tmp_path):
    m = _fitted([nc.Dense(8, "tanh"), nc.Dense(1)], loss="binary_cross_entropy")
    proto = _check(m, tmp_path)
    assert proto.graph.node[-1].op_type == "Sigmoid"
    u = nc.Sequential([nc.Dropout(0.5)], input_dim=7)
    _check(u, tmp_path)
    v = nc.Sequential([nc.Dense(4, "selu")], input_dim=7, seed=1)
    _check(v, tmp_path)


class _Custom(nc.Dense):
    """Stands in for a layer type that export_onnx does not know."""


def test_unsupported_layer_is_named(tmp_path):
    m = _fitted([nc.Dense(8, "relu"), nc.Dense(3)])
    m.layers[1] = _Custom(3)
    with pytest.raises(ValueError, match=r"layer 1 \(.*\) cannot be exported to ONNX"):
        m.export_onnx(tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_bad_opset_and_unbuilt_model(tmp_path):
    m = _fitted([nc.Dense(3)])
    for bad in (12, 10_000, "13", True):
        with pytest.raises(ValueError, match="opset"):
            m.export_onnx(tmp_path / "x.onnx", opset=bad)
    with pytest.raises(RuntimeError, match="not built"):
        nc.Sequential([nc.Dense(3)]).export_onnx(tmp_path / "x.onnx")
