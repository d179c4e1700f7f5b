"""int8 post-training quantization (model.quantize, nncore.quantize): accuracy against fp32 on
digits, a 784-input 10-class task and a regression, bitwise identity over threads, ISAs and int8
kernel sets, a numpy re-implementation of the quantized arithmetic (which catches a wrong
requantization), and the errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from nncore import _core


def _fit(model, X, y, epochs, batch_size=64):
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    X, y = X[idx], y[idx]
    m = nc.Sequential(
        [
            nc.Dense(128),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.1),
            nc.Dense(64, activation="relu"),
            nc.Dense(10),
        ],
        input_dim=64,
        seed=0,
    ).compile(optimizer="adam", loss="cross_entropy")
    _fit(m, X[:1300], y[:1300], epochs=25)
    return m, X[:1300], X[1300:], y[1300:]


def _accuracy(p, y):
    return float((p.argmax(1) == y).mean())


@pytest.mark.parametrize("activations", ["static", "dynamic"])
@pytest.mark.parametrize("keep_last_fp32", [True, False])
def test_digits_accuracy_within_half_a_point(digits, activations, keep_last_fp32):
    m, Xtr, Xte, yte = digits
    q = m.quantize(Xtr, activations=activations, keep_last_fp32=keep_last_fp32)
    fp32, int8 = _accuracy(m.predict(Xte), yte), _accuracy(q.predict(Xte), yte)
    assert fp32 > 0.95
    assert int8 >= fp32 - 0.005, (fp32, int8)
    assert np.allclose(q.predict(Xte).sum(1), 1, atol=1e-5)  # softmax probabilities


def test_784_input_ten_classes_accuracy():
    rng = np.random.default_rng(3)
    centers = rng.normal(size=(10, 784)).astype(np.float32)
    y = rng.integers(0, 10, 3000)
    X = (centers[y] + 6.0 * rng.normal(size=(3000, 784))).astype(np.float32)
    X = np.maximum(X, 0) / 4  # pixel-like: non-negative, long tailed
    m = nc.Sequential(
        [nc.Dense(128), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(10)],
        input_dim=784,
        seed=1,
    ).compile(optimizer="adam", loss="cross_entropy")
    _fit(m, X[:2000], y[:2000], epochs=4, batch_size=128)
    q = m.quantize(X[:500])
    fp32, int8 = _accuracy(m.predict(X[2000:]), y[2000:]), _accuracy(q.predict(X[2000:]), y[2000:])
    assert 0.6 < fp32 < 0.995  # a task with errors to lose
    assert int8 >= fp32 - 0.005, (fp32, int8)


def test_regression_r2_within_0_005():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 12)).astype(np.float32)
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + 0.1 * rng.normal(size=3000)
    y = y.astype(np.float32)
    m = nc.Sequential(
        [nc.Dense(64), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(64, "relu"), nc.Dense(1)],
        input_dim=12,
        seed=2,
    ).compile(optimizer="adam", loss="mse")
    _fit(m, X[:2400], y[:2400], epochs=40, batch_size=64)

    def r2(p):
        return 1 - np.sum((p[:, 0] - y[2400:]) ** 2) / np.sum((y[2400:] - y[2400:].mean()) ** 2)

    fp32, int8 = r2(m.predict(X[2400:])), r2(m.quantize(X[:1000]).predict(X[2400:]))
    assert fp32 > 0.8
    assert int8 >= fp32 - 0.005, (fp32, int8)


# ------------------------------------------------------------------- the arithmetic, exactly
def _round_half_even(v):
    return np.rint(v)  # numpy rounds half to even


def _quantize_u8(x, scale, zp):
    v = _round_half_even(np.float32(x) / np.float32(scale)) + np.float32(zp)
    return np.clip(v, 0, 255).astype(np.int64)


def _dynamic_qparams(h):
    """ONNX DynamicQuantizeLinear's (scale, zero point) of h in float32: the range widened to
    hold 0, scale (hi - lo) / 255, zero point rint(clip(-lo / scale, 0, 255))."""
    lo = np.minimum(h.min(), np.float32(0))
    hi = np.maximum(h.max(), np.float32(0))
    s = np.float32((hi - lo) / np.float32(255))
    if not s > 0:
        return np.float32(1), 0
    return s, int(np.rint(np.clip(np.float32(0) - lo / s, np.float32(0), np.float32(255))))


def numpy_int8_predict(q, X, dynamic=False):
    """The documented arithmetic of QuantizedModel.predict in numpy float32 (relu / linear
    layers): u8 input, exact integer sums, y = float(acc - zp·colsum) · (input_scale ·
    weight_scale) + bias, activation, requantized with the next layer's scale; dynamic: each
    int8 layer's scale from its fp32 input's range (X is one block: at most 4096 rows)."""
    layers = q.engine.layers()
    h = X.astype(np.float32)
    a = None
    for i, d in enumerate(layers):
        if not d["int8"]:
            y = h @ d["weight"].T.astype(np.float32) + d["bias"]
        else:
            s_in, zp = d.get("input_scale"), d.get("input_zero_point")
            if dynamic:
                s_in, zp = _dynamic_qparams(h)
            if a is None:
                a = _quantize_u8(h, s_in, zp)
            w = d["weight_q"].astype(np.int64)
            acc = a @ w.T - zp * w.sum(1)
            scale = np.float32(s_in) * d["weight_scale"].astype(np.float32)
            y = acc.astype(np.float32) * scale + d["bias"]
        if d["activation"] == "relu":
            y = np.maximum(y, np.float32(0))
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if nxt is not None and nxt["int8"] and not dynamic:
            a = _quantize_u8(y, nxt["input_scale"], nxt["input_zero_point"])
        else:
            h, a = y.astype(np.float32), None
    return h


def test_int8_arithmetic_matches_numpy_bitwise(digits):
    m, Xtr, Xte, _ = digits
    m_logits = nc.Sequential(  # digits' layers, uncompiled: no softmax on the outputs
        [nc.Dense(128), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.1)]
        + [nc.Dense(64, activation="relu"), nc.Dense(10)],
        input_dim=64,
    ).build()
    m_logits.set_weights(m.get_weights())
    for name, b in m.buffers().items():
        m_logits.buffers()[name][...] = b
    q = m_logits.quantize(Xtr, keep_last_fp32=False)
    got = q.predict(Xte)
    want = numpy_int8_predict(q, Xte)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    for keep in (False, True):
        qd = m_logits.quantize(activations="dynamic", keep_last_fp32=keep)
        np.testing.assert_array_equal(qd.predict(Xte), numpy_int8_predict(qd, Xte, dynamic=True))


# ------------------------------------------------------------------ bitwise everywhere
def test_bitwise_over_threads_isas_and_kernel_sets(restore_runtime):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(700, 784)).astype(np.float32)
    m = nc.Sequential(
        [nc.Dense(96), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(80, "gelu"), nc.Dense(10)],
        input_dim=784,
        seed=3,
    ).compile(optimizer="adam", loss="cross_entropy")
    _fit(m, X[:256], rng.integers(0, 10, 256), epochs=1, batch_size=128)
    outs = []
    for isa in _core.supported_isas():
        _core.set_isa(isa)
        q_static = m.quantize(X[:200])
        q_dynamic = m.quantize(activations="dynamic", keep_last_fp32=False)
        kernels = [_core.int8_kernel()]
        if isa == _core.supported_isas()[0]:
            kernels = list(_core.int8_kernels())  # every set this CPU runs
        for kernel in kernels:
            _core.set_int8_kernel(kernel)
            for threads in (1, 2, 3):
                nc.set_num_threads(threads)
                outs.append((isa, kernel, threads, q_static.predict(X), q_dynamic.predict(X)))
        _core.set_int8_kernel("")
    assert len({o[1] for o in outs}) >= 2
    for isa, kernel, threads, s, d in outs[1:]:
        np.testing.assert_array_equal(s, outs[0][3], err_msg=f"{isa} {kernel} {threads}")
        np.testing.assert_array_equal(d, outs[0][4], err_msg=f"{isa} {kernel} {threads}")


def test_batch_size_does_not_change_rows(digits):
    m, Xtr, Xte, _ = digits
    q = m.quantize(Xtr)
    full = q.predict(Xte)
    np.testing.assert_array_equal(q.predict(Xte[:1]), full[:1])
    np.testing.assert_array_equal(q.predict(Xte[5:40]), full[5:40])


# ----------------------------------------------------------------------------- bad input
def test_errors_name_the_problem(digits):
    m, Xtr, Xte, _ = digits
    with pytest.raises(RuntimeError, match="not built"):
        nc.Sequential([nc.Dense(3)]).quantize(Xtr)
    with pytest.raises(ValueError, match="64 columns|features"):
        m.quantize(Xtr[:, :10])
    bad = Xtr[:10].copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        m.quantize(bad)
    with pytest.raises(ValueError, match="empty"):
        m.quantize(Xtr[:0])
    with pytest.raises(ValueError, match="calibration"):
        m.quantize()
    with pytest.raises(ValueError, match="static"):
        m.quantize(Xtr, activations="int4")
    with pytest.raises(TypeError, match="bool"):
        m.quantize(Xtr, keep_last_fp32="yes")
    q = m.quantize(Xtr)
    with pytest.raises(ValueError):
        q.predict(Xte[:, :3])
    with pytest.raises(ValueError, match="NaN|finite"):
        q.predict(bad)


def test_unsupported_layers_are_named():
    m = nc.Sequential([nc.Dense(8), nc.LayerNorm(), nc.Dense(2)], input_dim=4, seed=0)
    m.build()
    with pytest.raises(ValueError, match="1: LayerNorm"):
        m.quantize(np.ones((3, 4), np.float32))
    r = nc.Sequential([nc.Dense(8), nc.Residual([nc.Dense(8)]), nc.Dense(2)], input_dim=4)
    r.build()
    with pytest.raises(ValueError, match="1: Residual"):
        r.quantize(np.ones((3, 4), np.float32))
    b = nc.Sequential([nc.Dense(8, "relu"), nc.BatchNorm(), nc.Dense(2)], input_dim=4).build()
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm\) follows an activation"):
        b.quantize(np.ones((3, 4), np.float32))
    s = nc.Sequential([nc.Dense(8), nc.Activation("softmax"), nc.Dense(2)], input_dim=4).build()
    with pytest.raises(ValueError, match=r"layer 1 \(Activation\) is a softmax before the output"):
        s.quantize(np.ones((3, 4), np.float32))
    one = nc.Sequential([nc.Dense(2)], input_dim=4).build()
    with pytest.raises(ValueError, match="keep_last_fp32"):
        one.quantize(np.ones((3, 4), np.float32))
    assert one.quantize(np.ones((3, 4), np.float32), keep_last_fp32=False).predict(
        np.ones((1, 4), np.float32)
    ).shape == (1, 2)


def test_repr_and_summary_say_int8(digits):
    m, Xtr, _, _ = digits
    q = m.quantize(Xtr)
    assert repr(q).startswith("QuantizedModel(int8, 2 int8 Dense layers")
    text = q.summary(print_fn=None)
    assert "int8" in text and "fp32" in text


def test_non_finite_weights_are_refused():
    m = nc.Sequential([nc.Dense(4), nc.Dense(2)], input_dim=3).build()
    m.parameters()["0.weight"][0, 0] = np.inf  # a live view (set_weights refuses inf)
    with pytest.raises(ValueError, match="non-finite"):
        m.quantize(np.ones((2, 3), np.float32))
