"""nc.Residual (issue #19): y = f(x) + x, or + x·Pᵀ when f changes the width. Forward and
gradients against float64 central finite differences (PyTorch parity: test_residual_torch.py);
nested blocks; training bitwise over threads and ISAs; dropout mask ids of the blocks' layers;
save/load (Python and the C++ loader); the folded predict; to_torch/from_torch; ONNX; bad specs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import nncore as nc
from nncore import _core

import reference as ref

D = 6


def _mlp(seed=0, width=D, rate=0.0):
    """A residual MLP: an identity block with BN and Dropout inside, a projected block holding a
    nested block, and a final Dense."""
    return nc.Sequential(
        [
            nc.Dense(8, "tanh"),
            nc.Residual(
                [nc.Dense(10, "relu"), nc.BatchNorm(), nc.Dropout(rate), nc.Dense(8, "gelu")]
            ),
            nc.Residual(
                [
                    nc.Dense(5),
                    nc.Residual([nc.Dense(7, "tanh"), nc.Activation("elu"), nc.Dense(5)]),
                    nc.Activation("sigmoid"),
                ]
            ),
            nc.Residual([nc.Dense(5, "silu")], projection=True),
            nc.Dense(3),
        ],
        input_dim=width,
        seed=seed,
    )


def _data(n=32, d=D, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32)


# ---------------------------------------------------------------- float64 finite differences
def _ref_forward(layers, h, P, prefix=""):
    for j, layer in enumerate(layers):
        name = f"{prefix}{j}"
        if isinstance(layer, nc.Dense):
            h = ref.activation(layer.activation, h @ P[f"{name}.weight"].T + P[f"{name}.bias"])
        elif isinstance(layer, nc.BatchNorm):  # training mode: the batch's statistics
            mu, var = h.mean(0), h.var(0)
            h = (h - mu) / np.sqrt(var + layer.eps) * P[f"{name}.weight"] + P[f"{name}.bias"]
        elif isinstance(layer, nc.Activation):
            h = ref.activation(layer.activation, h)
        elif isinstance(layer, nc.Residual):
            body = _ref_forward(layer.layers, h, P, f"{name}.body.")
            proj = P.get(f"{name}.proj.weight")
            h = body + (h if proj is None else h @ proj.T)
    return h


def test_gradients_match_float64_finite_differences():
    m = _mlp(seed=2)
    X = _data(n=12, seed=2)
    dout = np.random.default_rng(3).normal(size=(12, 3))
    m.forward(X, training=True)
    m.zero_grad()
    dx = m.backward(dout.astype(np.float32))
    P = {k: np.array(v, np.float64) for k, v in m.parameters().items()}
    x64 = X.astype(np.float64)

    def f():
        return float((_ref_forward(m.layers, x64, P) * dout).sum())

    assert ref.rel_err(m.forward(X, training=True), _ref_forward(m.layers, x64, P)) < 1e-5
    assert ref.rel_err(dx, ref.numeric_grad(f, x64)) < 1e-4
    for k, g in m.gradients().items():
        assert ref.rel_err(g, ref.numeric_grad(f, P[k])) < 1e-4, k


# ---------------------------------------------------------------- determinism
def _train_hash(threads=None):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 40)).astype(np.float32)
    y = (X[:, :5] @ rng.normal(size=(5, 5))).argmax(axis=1)
    # 127 rows x 520 features: the skip's add and its backward run on several threads
    m = nc.Sequential(
        [
            nc.Dense(520, "relu"),
            nc.Residual(
                [nc.Dense(520, l2=1e-4), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.3)]
            ),
            nc.Residual([nc.Dropout(0.2), nc.Residual([nc.Dense(64, "tanh")]), nc.Dropout(0.1)]),
            nc.Dense(5),
        ],
        input_dim=40,
        seed=5,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    if threads:
        nc.set_num_threads(threads)
    m.fit(X, y, epochs=2, batch_size=127)
    h = hashlib.sha256()
    for a in (m.engine.core.params_array(), m.engine.core.buffers_array(), m.predict(X[:50])):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_training_is_bitwise_the_same_over_threads_and_isas(restore_runtime):
    want = _train_hash(1)
    for t in (2, 3):
        assert _train_hash(t) == want, f"{t} threads"
    nc.set_num_threads(2)
    for isa in _core.supported_isas():
        _core.set_isa(isa)
        assert _train_hash() == want, isa


def _zeros(m, X, **kw):
    return m.forward(X, training=True, step=7, **kw) == 0


def test_dropout_in_a_block_uses_its_pre_order_id():
    """The mask of a layer inside a block is keyed by its pre-order position (a block, then its
    layers), as the same Dropout at that position of a flat network."""
    X = np.abs(_data()) + 0.5  # no zeros of its own
    lin = nc.Activation("linear")
    flat = nc.Sequential([lin, lin, lin, nc.Dropout(0.5)], input_dim=D, seed=9)
    # ids: block 0, Activation 1, inner block 2, Dropout 3
    nested = nc.Sequential(
        [nc.Residual([lin, nc.Residual([nc.Dropout(0.5)])])], input_dim=D, seed=9
    )
    out = nested.forward(X, training=True, step=7)
    dropped = out == 2 * X  # x + (x + 0) where the mask drops
    np.testing.assert_array_equal(dropped, _zeros(flat, X))
    assert 0.3 < dropped.mean() < 0.7


def test_two_dropouts_of_a_block_draw_different_masks():
    X = np.abs(_data()) + 0.5
    m = nc.Sequential(
        [nc.Residual([nc.Dropout(0.5)]), nc.Residual([nc.Dropout(0.5)])], input_dim=D, seed=9
    )
    a = m.engine.core.forward_all(X, True)
    first = a[0] == X  # x + 0
    second = a[1] == a[0]
    assert 0.3 < first.mean() < 0.7 and not np.array_equal(first, second)
    # and the same key gives the same masks
    np.testing.assert_array_equal(
        m.forward(X, training=True, step=3), m.forward(X, training=True, step=3)
    )


def test_mc_dropout_inside_a_block():
    m = _mlp(rate=0.3)
    X = _data()
    mean, std = m.predict(X, mc_samples=8, seed=1, return_std=True)
    again = m.predict(X, mc_samples=8, seed=1, return_std=True)
    assert (std > 0).any()
    np.testing.assert_array_equal(mean, again[0])
    _, std0 = _mlp(rate=0.0).predict(X, mc_samples=4, return_std=True)
    assert not std0.any()


# ---------------------------------------------------------------- save / load, C++ loader, fold
def _trained(rate=0.2):
    m = _mlp(rate=rate)
    m.compile(optimizer="adam", loss="cross_entropy")
    X = _data(n=200)
    m.fit(X, X[:, :3].argmax(1), epochs=3, batch_size=32)
    return m, X


def test_save_load_round_trip_resumes_bitwise(tmp_path):
    m, X = _trained()
    p = tmp_path / "m.nnc"
    m.save(p)
    back = nc.load(p)
    assert repr(back) == repr(m)
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    y = X[:, :3].argmax(1)
    m.fit(X, y, epochs=1)
    back.fit(X, y, epochs=1)
    np.testing.assert_array_equal(back.engine.core.params_array(), m.engine.core.params_array())


def test_the_cpp_loader_reads_residual_models(tmp_path):
    m, X = _trained()
    p = tmp_path / "m.nnc"
    m.save(p)
    c = _core.CppModel.load(str(p))
    assert (c.input_dim, c.output_dim) == (D, 3)
    np.testing.assert_array_equal(c.predict(X), m.predict(X))


def test_folded_predict_matches_layer_by_layer():
    """BatchNorm folds inside blocks, an activation after a block runs on its own, a projection
    accumulates into the body's output; a pre-activation block (BatchNorm first) falls back."""
    m = nc.Sequential(
        [
            nc.Dense(16, "relu"),
            nc.Residual(
                [nc.Dense(16), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.2), nc.Dense(16)]
            ),
            nc.Activation("relu"),
            nc.Residual([nc.Dense(8), nc.BatchNorm(), nc.Residual([nc.Dense(8, "tanh")])]),
            nc.Residual([nc.Dropout(0.5)]),
            nc.Dense(3),
        ],
        input_dim=D,
        seed=4,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    X = _data(n=300)
    m.fit(X, X[:, :3].argmax(1), epochs=3, batch_size=32)
    assert m.engine.core.can_fold
    folded = m.predict(X, fold_batchnorm=True)
    layered = m.predict(X, fold_batchnorm=False)
    np.testing.assert_array_equal(folded, m.predict(X))  # the folded plan is predict's default
    np.testing.assert_allclose(folded, layered, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(folded, layered)  # really another path
    pre, X2 = _trained()  # BatchNorm after an activated Dense: not foldable
    assert not pre.engine.core.can_fold
    np.testing.assert_array_equal(pre.predict(X2), pre.predict(X2, fold_batchnorm=False))
    pre_act = nc.Sequential(
        [nc.Residual([nc.BatchNorm(), nc.Activation("relu"), nc.Dense(D)])], input_dim=D
    )
    assert not pre_act.engine.core.can_fold


def test_summary_and_parameters_name_the_nested_layers():
    m = _mlp()
    names = list(m.parameters())
    assert "2.body.1.body.0.weight" in names and "3.proj.weight" in names
    assert "2.proj.weight" in names and "1.proj.weight" not in names
    assert list(m.buffers()) == ["1.body.1.running_mean", "1.body.1.running_var"]
    text = m.summary(print_fn=None)
    assert "2.body.1.body.0" in text and "Residual" in text


# ---------------------------------------------------------------- interop
def _kinds(layers):
    return [
        (type(x).__name__, _kinds(x.layers), x.projection)
        if isinstance(x, nc.Residual)
        else type(x).__name__
        for x in layers
    ]


def test_to_torch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    m, X = _trained()
    tm = m.to_torch().eval()
    with torch.no_grad():
        out = tm(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, m.engine.core.forward(X, False), rtol=1e-6, atol=1e-6)
    back = nc.from_torch(tm, input_dim=D)
    assert _kinds(back.layers) == _kinds(m.layers)
    np.testing.assert_array_equal(back.engine.core.params_array(), m.engine.core.params_array())
    np.testing.assert_array_equal(back.engine.core.buffers_array(), m.engine.core.buffers_array())


def test_onnx_export_adds_the_skip(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    m, X = _trained()
    path = tmp_path / "m.onnx"
    m.export_onnx(path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {sess.get_inputs()[0].name: X})
    np.testing.assert_allclose(out, m.predict(X), rtol=0, atol=1e-5)


# ---------------------------------------------------------------- errors
def test_bad_blocks_raise_clear_errors():
    with pytest.raises(ValueError, match="at least one layer"):
        nc.Residual([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be an nncore layer"):
        nc.Residual([nc.Dense(3), "relu"])
    with pytest.raises(TypeError, match="list of nncore layers"):
        nc.Residual(nc.Dense(3))
    with pytest.raises(ValueError, match="projection must be"):
        nc.Residual([nc.Dense(3)], projection="yes")
    with pytest.raises(ValueError, match="projection is 'never'"):
        nc.Sequential([nc.Residual([nc.Dense(3)], projection=False)], input_dim=4)
    with pytest.raises(ValueError, match="at least one layer"):
        _core.Network(3, [{"type": "residual", "layers": []}], 0)
    with pytest.raises(TypeError, match=r"layers\[0\] must be a layer spec"):
        _core.Network(3, [{"type": "residual", "layers": [3]}], 0)
    with pytest.raises(ValueError, match="takes no nested layers"):
        _core.Network(3, [{"type": "dense", "units": 2, "layers": [{"type": "dropout"}]}], 0)
    with pytest.raises(ValueError, match="projection must be one of auto, always, never"):
        _core.Network(3, [{"type": "residual", "projection": "x", "layers": [{"type": "dropout"}]}])
    with pytest.raises(ValueError, match="a block needs"):
        _core.Network(3, [{"type": "residual"}], 0)


def test_diagnostics_name_the_layers_inside_blocks():
    from nncore import diagnostics

    m = _mlp()
    m.compile(optimizer="adam", loss="cross_entropy")
    X = _data(n=64)
    y = X[:, :3].argmax(1)
    rows = diagnostics.report(m, X, y, print_fn=None)
    by = {r["layer"]: r for r in rows}
    assert by["2.body.1.body.0"]["activation"] == "tanh" and by["2.proj"]["type"] == "projection"
    assert by[1]["type"] == "residual" and "grad_norm" not in by[1]
    h = m.fit(X, y, epochs=2, diagnostics=True)
    keys = list(diagnostics.series(h, "grad_norm"))
    assert keys == [
        0,
        "1.body.0",
        "1.body.3",
        "2.body.0",
        "2.body.1.body.0",
        "2.body.1.body.2",
        "2.proj",
        "3.body.0",
        "3.proj",
        4,
    ]
    assert all(v > 0 for vals in diagnostics.series(h, "grad_norm").values() for v in vals)


def test_children_hooks_penalty_constraints_and_batch_statistics():
    def build():
        layers = [nc.Dense(8, "relu", l2=0.1, max_norm=0.5), nc.BatchNorm(), nc.Dense(D)]
        m = nc.Sequential([nc.Residual(layers)], input_dim=D, seed=0)
        return m.compile(optimizer="sgd", loss="mse")

    m = build()
    w = m.parameters()["0.body.0.weight"]
    assert m.penalty() == pytest.approx(0.1 * float((w.astype(np.float64) ** 2).sum()), rel=1e-5)
    # a model whose parameters were never exposed: only the layers' own hooks run after a step
    m = build()
    X = _data(n=64)
    m.fit(X, X, epochs=2, batch_size=16)
    (off, shape) = [(o, s) for n, s, o, _ in m.engine.core.param_views() if n == "0.body.0.weight"][
        0
    ]
    w = m.engine.core.params_array()[off : off + shape[0] * shape[1]].reshape(shape)
    assert np.linalg.norm(w, axis=1).max() <= 0.5 + 1e-6  # max_norm after every step
    # inference repacks the children's weights after the steps: the same as a fresh copy
    np.testing.assert_array_equal(m.predict(X), nc.io.loads(nc.io.dumps(m)).predict(X))
    with pytest.raises(ValueError, match="batch of 1"):
        m.train_step(X[:1], X[:1])


def test_concurrent_predicts_equal_sequential():
    import threading

    m, X = _trained()
    want = {f: m.predict(X, fold_batchnorm=f) for f in (False, True)}
    errors = []

    def work(f):
        for _ in range(20):
            if not np.array_equal(m.predict(X, fold_batchnorm=f), want[f]):
                errors.append(f)

    threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_profiling_names_the_parts_of_a_block_and_keeps_the_bits():
    def run(profile):
        m = nc.Sequential(
            [nc.Dense(8, "relu"), nc.Residual([nc.Dense(8, "relu"), nc.Residual([nc.Dense(4)])])],
            input_dim=D,
            seed=1,
        )
        m.compile(optimizer="adam", loss="mse")
        m.engine.core.set_profiling(profile)
        X = _data()
        m.fit(X, X[:, :4], epochs=2, batch_size=8)
        return m

    m = run(True)
    keys = set(m.engine.core.profile())
    for k in (
        "1.residual.forward",
        "1.body.0.dense.forward",
        "1.body.1.body.0.dense.backward",
        "1.body.1.skip.forward",
        "1.skip.forward",
        "1.skip.backward",
    ):
        assert k in keys, k
    np.testing.assert_array_equal(
        m.engine.core.params_array(), run(False).engine.core.params_array()
    )


def test_a_wide_layer_inside_a_block_counts_for_the_batch_limit():
    m = nc.Sequential([nc.Residual([nc.Dense(2**20), nc.Dense(4)])], input_dim=4)
    with pytest.raises(ValueError, match="exceeds the core's limit"):
        m.predict(np.zeros((1000, 4), np.float32))
