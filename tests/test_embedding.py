"""nc.Embedding and nc.TabularInput (the core's ``embedding`` layer): forward and gradients
against torch.nn.Embedding and float64 finite differences, the same bits over threads and ISAs,
unknown codes (error or reserved row), save/load and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from nncore import _core


def _mixed(n=64, seed=0):
    """X with numeric columns 0, 3 and codes in 1 (cardinality 5) and 4 (cardinality 3);
    column 2 is ignored by the input below."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    X[:, 1] = rng.integers(0, 5, n)
    X[:, 4] = rng.integers(0, 3, n)
    return X


def _tabular_model(seed=0, unknown="error"):
    inp = nc.TabularInput(
        numeric=[3, 0], categorical={1: 5, 4: 3}, embed_dim={1: 2, 4: 4}, unknown=unknown
    )
    m = nc.Sequential([inp, nc.Dense(6, "tanh"), nc.Dense(2)], input_dim=5, seed=seed)
    m.compile("sgd", "mse")
    return m


def _torch_dense(torch, layer_w, layer_b):
    lin = torch.nn.Linear(layer_w.shape[1], layer_w.shape[0]).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer_w.astype(np.float64)))
        lin.bias.copy_(torch.from_numpy(layer_b.astype(np.float64)))
    return lin


def _grads_nncore(m, X, Y):
    m.zero_grad()
    out = m.forward(X, training=True)
    _, g = m.loss_fn(out, Y)
    dx = m.backward(g)
    return out, {k: v.copy() for k, v in m.gradients().items()}, dx


def test_embedding_matches_torch_embedding_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X = rng.integers(0, 7, size=(40, 4)).astype(np.float32)  # repeated codes: the scatter-add sums
    Y = rng.normal(size=(40, 2)).astype(np.float32)
    m = nc.Sequential([nc.Embedding(7, 3), nc.Dense(2)], input_dim=4, seed=3)
    m.compile("sgd", "mse")
    p = m.parameters()
    assert p["0.weight"].shape == (7, 3)
    out, grads, dx = _grads_nncore(m, X, Y)

    emb = torch.nn.Embedding(7, 3).double()
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(p["0.weight"].astype(np.float64)))
    lin = _torch_dense(torch, p["1.weight"], p["1.bias"])
    t_out = lin(emb(torch.from_numpy(X).long()).flatten(1))
    torch.nn.functional.mse_loss(t_out, torch.from_numpy(Y).double()).backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(grads["0.weight"], emb.weight.grad.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(grads["1.weight"], lin.weight.grad.numpy(), atol=1e-5, rtol=1e-5)
    assert not dx.any()  # codes have no gradient


def test_tabular_input_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    X = _mixed()
    Y = np.random.default_rng(2).normal(size=(64, 2)).astype(np.float32)
    m = _tabular_model(seed=5)
    p = m.parameters()
    assert p["0.weight_0"].shape == (5, 2) and p["0.weight_1"].shape == (3, 4)
    out, grads, dx = _grads_nncore(m, X, Y)

    e1, e4 = torch.nn.Embedding(5, 2).double(), torch.nn.Embedding(3, 4).double()
    with torch.no_grad():
        e1.weight.copy_(torch.from_numpy(p["0.weight_0"].astype(np.float64)))
        e4.weight.copy_(torch.from_numpy(p["0.weight_1"].astype(np.float64)))
    l1 = _torch_dense(torch, p["1.weight"], p["1.bias"])
    l2 = _torch_dense(torch, p["2.weight"], p["2.bias"])
    x = torch.from_numpy(X.astype(np.float64)).requires_grad_(True)
    h = torch.cat([x[:, [3, 0]], e1(x[:, 1].long()), e4(x[:, 4].long())], dim=1)
    t_out = l2(torch.tanh(l1(h)))
    torch.nn.functional.mse_loss(t_out, torch.from_numpy(Y).double()).backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-5, rtol=1e-5)
    for name, ref in [
        ("0.weight_0", e1.weight.grad),
        ("0.weight_1", e4.weight.grad),
        ("1.weight", l1.weight.grad),
        ("2.bias", l2.bias.grad),
    ]:
        np.testing.assert_allclose(grads[name], ref.numpy(), atol=1e-5, rtol=1e-5, err_msg=name)
    # dX: dy for the numeric columns, 0 for the codes and the ignored column
    want = x.grad.numpy().copy()
    want[:, [1, 2, 4]] = 0
    np.testing.assert_allclose(dx, want, atol=1e-5, rtol=1e-5)


def _forward64(params, X, reserve=False):
    """The tabular model of _tabular_model in float64 numpy."""
    cards = {1: 5, 4: 3}

    def rows(c):
        v = X[:, c]
        ok = (v >= 0) & (v < cards[c]) & (v == np.floor(np.nan_to_num(v, nan=0.5)))
        return np.where(ok, np.nan_to_num(v), cards[c]).astype(int) if reserve else v.astype(int)

    h = np.concatenate(
        [X[:, [3, 0]], params["0.weight_0"][rows(1)], params["0.weight_1"][rows(4)]], axis=1
    )
    z = np.tanh(h @ params["1.weight"].T + params["1.bias"])
    return z @ params["2.weight"].T + params["2.bias"]


@pytest.mark.parametrize("reserve", [False, True])
def test_gradients_match_float64_finite_differences(reserve):
    X = _mixed(32, seed=4).astype(np.float64)
    if reserve:
        X[0, 1], X[1, 1], X[2, 4], X[3, 4] = 7, np.nan, -1, 0.5  # all read the reserved rows
    R = np.random.default_rng(5).normal(size=(32, 2))
    m = _tabular_model(seed=1, unknown="reserve" if reserve else "error")
    p = m.parameters()
    if reserve:  # the reserved rows start at zero: give them values so they matter
        p["0.weight_0"][-1] = [0.3, -0.2]
        p["0.weight_1"][-1] = [0.1, 0.2, -0.4, 0.5]
    params = {k: v.astype(np.float64) for k, v in p.items()}
    m.zero_grad()
    out = m.forward(X.astype(np.float32), training=True)
    np.testing.assert_allclose(out, _forward64(params, X, reserve), atol=1e-5)
    m.backward(R.astype(np.float32))  # d(sum(R * out)) / d out = R
    grads = m.gradients()
    eps = 1e-6
    for name in ("0.weight_0", "0.weight_1"):
        for idx in np.ndindex(params[name].shape):
            saved = params[name][idx]
            params[name][idx] = saved + eps
            up = (R * _forward64(params, X, reserve)).sum()
            params[name][idx] = saved - eps
            down = (R * _forward64(params, X, reserve)).sum()
            params[name][idx] = saved
            assert grads[name][idx] == pytest.approx((up - down) / (2 * eps), abs=2e-5), (
                name,
                idx,
            )


def _data(n=2100, seed=11):
    """Wide enough that forward and backward of the embedding run their parallel paths."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    for c, card in ((1, 50), (2, 7), (4, 300)):
        X[:, c] = np.minimum(rng.geometric(0.05, n) - 1, card - 1)  # skewed: hot codes
    y = (X[:, 0] + (X[:, 1] % 3) - (X[:, 4] > 20) > 0).astype(np.int64)
    return X, y


def _fit_bits(threads):
    X, y = _data()
    nc.set_num_threads(threads)
    try:
        m = nc.Sequential(
            [
                nc.TabularInput(categorical={1: 50, 2: 7, 4: 300}, embed_dim={1: 16, 2: 4, 4: 24}),
                nc.Dense(64, "relu"),
                nc.Dense(2),
            ],
            seed=7,
        )
        m.compile(nc.optim.Adam(lr=3e-3), "cross_entropy")
        m.fit(X, y, epochs=2, batch_size=700)
    finally:
        nc.set_num_threads(0)
    return m.engine.core.params_array().copy()


def test_training_is_bitwise_the_same_over_threads_and_isas(restore_runtime):
    base = _fit_bits(1)
    for isa in _core.supported_isas():
        _core.set_isa(isa)
        for t in (1, 2, 3):
            got = _fit_bits(t)
            diff = np.flatnonzero(got.view(np.uint32) != base.view(np.uint32))
            assert diff.size == 0, f"{isa}, {t} threads: {diff.size} values differ"


@pytest.mark.parametrize(
    "value, shown", [(5, "5.0"), (-1, "-1.0"), (2.5, "2.5"), (np.nan, "nan"), (np.inf, "inf")]
)
def test_unknown_codes_raise_naming_column_row_and_value(value, shown):
    m = _tabular_model()
    X = _mixed(8)
    X[6, 1] = value
    with pytest.raises(ValueError, match=rf"column 1 holds {shown} at row 6.*\[0, 5\)"):
        m.predict(X)
    with pytest.raises(ValueError, match="column 1"):
        m.fit(X, np.zeros((8, 2), np.float32), epochs=1)
    # the core checks too (callers that bypass Python's check)
    with pytest.raises(ValueError, match=r"column 1 holds .* at row 6"):
        m.engine.core.forward(X, False, None)


def test_nan_in_a_numeric_column_is_still_refused():
    m = _tabular_model(unknown="reserve")
    X = _mixed(8)
    X[3, 3] = np.nan
    with pytest.raises(ValueError, match="nan at row 3, column 3 .*NaN and inf are not allowed"):
        m.predict(X)
    X[3, 3] = 0
    X[5, 2] = np.inf  # a column the layer ignores: still refused, named as it is in X
    with pytest.raises(ValueError, match="inf at row 5, column 2"):
        m.predict(X)


def test_reserve_maps_unknown_codes_to_the_last_row():
    m = _tabular_model(unknown="reserve")
    p = m.parameters()
    assert p["0.weight_0"].shape == (6, 2) and not p["0.weight_0"][-1].any()  # starts at zero
    p["0.weight_0"][-1] = [4.0, -3.0]
    X = _mixed(6)
    X[:, 1] = [0, 5, -2, 1.5, np.nan, 1e9]
    ref = X.copy()
    ref[1:, 1] = 0
    h = m.forward(X)
    # rows 1..5 read the reserved row: their output equals that of a code whose row we set alike
    p["0.weight_0"][0] = [4.0, -3.0]
    np.testing.assert_array_equal(h[1:], m.forward(ref)[1:])
    assert not np.array_equal(h[0], h[1])


def test_embedding_must_be_first_and_dx_of_codes_is_zero():
    with pytest.raises(ValueError, match="must be the first layer"):
        nc.Sequential([nc.Dense(3), nc.Embedding(4, 2)], input_dim=2)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nc.Embedding(0, 2), "cardinality must be an integer in"),
        (lambda: nc.Embedding(3, -1), "dim must be"),
        (lambda: nc.Embedding(2**24 + 1, 2), "2\\*\\*24"),
        (lambda: nc.Embedding(3, 2, unknown="skip"), "unknown must be"),
        (lambda: nc.TabularInput(categorical={1: 0}), "cardinality of column 1"),
        (lambda: nc.TabularInput(categorical={}), "non-empty dict"),
        (lambda: nc.TabularInput(categorical={-1: 3}), "column index"),
        (lambda: nc.TabularInput([0, 1], {1: 3}), "column 1 is both numeric and categorical"),
        (lambda: nc.TabularInput([0, 0], {1: 3}), "repeated"),
        (lambda: nc.TabularInput([0], {1: 3}, embed_dim={2: 4}), "exactly the categorical"),
        (lambda: nc.TabularInput([0], {1: 3}, embed_dim=0), "embed_dim"),
        (lambda: nc.TabularInput("ab", {1: 3}), "list of column indices"),
        (
            lambda: nc.Sequential([nc.TabularInput([0], {7: 3}), nc.Dense(1)], input_dim=3),
            "categorical column 7 is out of range for an input of 3 columns",
        ),
        (
            lambda: nc.Sequential([nc.TabularInput([9], {1: 3}), nc.Dense(1)], input_dim=3),
            "numeric column 9 is out of range",
        ),
    ],
)
def test_bad_arguments_raise_clearly(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_core_refuses_bad_specs():
    def net(**kw):
        return _core.Network(3, [{"type": "embedding", **kw}, {"type": "dense", "units": 1}], 0)

    with pytest.raises(ValueError, match="cardinality must be >= 1"):
        net(cardinality=[0], dim=[2])
    with pytest.raises(ValueError, match="cardinality is required"):
        net(dim=[2])
    with pytest.raises(ValueError, match="a list of integers >= 0"):
        net(cardinality=[3], dim=[2], columns=[-1])
    with pytest.raises(ValueError, match="both numeric and categorical"):
        net(cardinality=[3], dim=[2], columns=[1], numeric=[1])
    with pytest.raises(ValueError, match="give table="):
        net(cardinality=[3, 4, 5], dim=[2, 2, 2], columns=[0, 1])


def test_column_out_of_range_at_fit_time():
    m = nc.Sequential([nc.TabularInput(categorical={4: 3}), nc.Dense(1)])
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="column 4 is out of range for X with 3 columns"):
        m.fit(np.zeros((4, 3), np.float32), np.zeros(4, np.float32))


@pytest.mark.parametrize("unknown", ["error", "reserve"])
def test_save_load_round_trip(tmp_path, unknown):
    X, y = _data(300)
    for first in (
        nc.TabularInput(categorical={1: 50, 2: 7, 4: 300}, embed_dim=3, unknown=unknown),
        nc.TabularInput([0, 5], {1: 50, 4: 300}, embed_dim={1: 2, 4: 5}, unknown=unknown),
    ):
        m = nc.Sequential([first, nc.Dense(8, "relu"), nc.Dense(2)], seed=2)
        m.compile("adam", "cross_entropy")
        m.fit(X, y, epochs=1, batch_size=64)
        path = str(tmp_path / "m.nnc")
        nc.io.save(m, path)
        back = nc.load(path)
        assert repr(back.layers[0]) == repr(first)
        np.testing.assert_array_equal(back.predict(X), m.predict(X))
    m = nc.Sequential([nc.Embedding(300, 4, unknown=unknown), nc.Dense(1)], input_dim=3)
    nc.io.save(m, str(tmp_path / "e.nnc"))
    back = nc.load(str(tmp_path / "e.nnc"))
    assert repr(back.layers[0]) == repr(m.layers[0])
    np.testing.assert_array_equal(back.predict(X[:, [1, 2, 4]]), m.predict(X[:, [1, 2, 4]]))


def test_numeric_none_takes_every_other_column_in_order():
    m = nc.Sequential([nc.TabularInput(categorical={1: 3}, embed_dim=2)], input_dim=4, seed=0)
    X = np.array([[0.5, 2, -1.0, 7.0]], np.float32)
    w = m.parameters()["0.weight"]
    np.testing.assert_array_equal(m.predict(X)[0], [0.5, -1.0, 7.0, *w[2]])


@pytest.mark.parametrize("unknown", ["error", "reserve"])
def test_onnx_export_gathers_the_same_rows(tmp_path, unknown):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    X, y = _data(200)
    for first in (
        nc.TabularInput([5, 0], {1: 50, 4: 300}, embed_dim={1: 2, 4: 5}, unknown=unknown),
        nc.TabularInput(categorical={2: 7}, unknown=unknown),
    ):
        m = nc.Sequential([first, nc.Dense(8, "relu"), nc.Dense(2)], seed=4)
        m.compile("adam", "cross_entropy")
        m.fit(X, y, epochs=1, batch_size=50)
        Xb = X.copy()
        if unknown == "reserve":  # unknown codes of every kind, read from a non-zero row
            m.parameters()["0.weight" if len(first.categorical) == 1 else "0.weight_0"][-1] = 1.5
            col = next(iter(first.categorical))
            Xb[:4, col] = [first.categorical[col], -1, np.nan, 0.5]
        path = tmp_path / "m.onnx"
        m.export_onnx(path)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (out,) = sess.run(None, {sess.get_inputs()[0].name: Xb})
        np.testing.assert_allclose(out, m.predict(Xb), atol=1e-5)
    m = nc.Sequential([nc.Embedding(300, 3), nc.Dense(1)], input_dim=2)
    m.export_onnx(tmp_path / "e.onnx")
    sess = ort.InferenceSession(str(tmp_path / "e.onnx"), providers=["CPUExecutionProvider"])
    Z = X[:, [1, 4]]
    np.testing.assert_allclose(sess.run(None, {"input": Z})[0], m.predict(Z), atol=1e-5)


def test_torch_interop_round_trip():
    torch = pytest.importorskip("torch")
    X, y = _data(120)
    for first in (
        nc.TabularInput([5, 0], {1: 50, 4: 300}, embed_dim={1: 2, 4: 5}, unknown="reserve"),
        nc.Embedding(300, 3),
    ):
        Z = X if isinstance(first, nc.TabularInput) else X[:, [1, 2, 4]]
        m = nc.Sequential([first, nc.Dense(8, "relu"), nc.Dense(2)], seed=4)
        m.compile("adam", "cross_entropy")
        m.fit(Z, y, epochs=1, batch_size=50)
        if isinstance(first, nc.TabularInput):
            m.parameters()["0.weight_0"][-1] = 0.7
            Z = Z.copy()
            Z[:3, 1] = [50, np.nan, 1.5]  # the reserved row, in torch too
        seq = m.to_torch().eval()
        with torch.no_grad():
            out = seq(torch.from_numpy(Z)).numpy()
        np.testing.assert_allclose(out, m.forward(Z), atol=1e-6)
        back = nc.from_torch(seq, input_dim=Z.shape[1])
        assert repr(back.layers[0]) == repr(m.layers[0])
        for name, w in m.parameters().items():
            assert np.array_equal(back.parameters()[name], w), name
    emb = torch.nn.Embedding(6, 2)
    seq = torch.nn.Sequential(emb, torch.nn.Flatten(1), torch.nn.Linear(4, 1))
    model = nc.from_torch(seq, input_dim=2)
    codes = np.array([[0, 5], [3, 3]], np.float32)
    with torch.no_grad():
        want = seq(torch.from_numpy(codes).long()).numpy()
    np.testing.assert_allclose(model.predict(codes), want, atol=1e-6)
    with pytest.raises(ValueError, match="nn.Flatten"):
        nc.from_torch(torch.nn.Sequential(emb, torch.nn.Linear(2, 1)), input_dim=1)


def test_cpp_model_loader_predicts_the_same_bits(tmp_path):
    X, y = _data(200)
    X[:3, 4] = [300, -1, np.nan]
    m = nc.Sequential(
        [nc.TabularInput([5, 0], {1: 50, 4: 300}, unknown="reserve"), nc.Dense(2)], seed=1
    )
    m.compile("adam", "cross_entropy")
    m.fit(X, y, epochs=1, batch_size=50)
    m.save(tmp_path / "m.nnc")
    c = _core.CppModel.load(str(tmp_path / "m.nnc"))
    np.testing.assert_array_equal(c.predict(X), m.predict(X))


def test_output_width_and_summary_before_and_after_build():
    inp = nc.TabularInput(categorical={1: 5, 3: 3}, embed_dim={1: 2, 3: 4})
    assert inp.output_width(6) == 4 + 6 and inp.output_width(None) is None
    assert nc.TabularInput([0], {1: 5}, embed_dim=3).output_width(None) == 4
    assert nc.Embedding(9, 3).output_width(2) == 6
    m = nc.Sequential([inp, nc.Dense(3)], input_dim=6)
    assert m.engine.core.output_dim == 3 and m._output_width() == 3
    m.summary()


def test_embedding_inside_a_residual_block_is_refused():
    with pytest.raises(ValueError, match="must be the model's first layer, not inside a block"):
        nc.Sequential([nc.Residual([nc.Embedding(4, 2)])], input_dim=2)


def test_residual_mlp_after_tabular_input_trains_bitwise_over_threads(restore_runtime):
    X, y = _data(1400)

    def fit(threads):
        nc.set_num_threads(threads)
        m = nc.Sequential(
            [
                nc.TabularInput(categorical={1: 50, 2: 7, 4: 300}, embed_dim=8),
                nc.Dense(64, "relu"),
                nc.Residual([nc.Dense(64, "relu"), nc.Dropout(0.1), nc.Dense(64)]),
                nc.Dense(2),
            ],
            seed=3,
        )
        m.compile("adam", "cross_entropy")
        m.fit(X, y, epochs=1, batch_size=700)
        return m.engine.core.params_array().copy(), m.predict(X[:50])

    (p1, out1), (p3, out3) = fit(1), fit(3)
    assert np.array_equal(p1.view(np.uint32), p3.view(np.uint32))
    m_ref = nc.Sequential([nc.TabularInput(categorical={1: 50})], input_dim=6)
    assert m_ref.predict(X[:2]).shape == (2, 5 + 8)
    assert out1.shape == out3.shape == (50, 2)
