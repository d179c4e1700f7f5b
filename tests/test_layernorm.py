"""LayerNorm (``nc.LayerNorm``, torch.nn.LayerNorm over the features): values and finite-difference
gradients against float64 numpy (no torch needed), PyTorch parity, the same bits over ISAs and
threads, save/load, the C++ loader, ONNX, torch interop, gradient accumulation and Residual."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from nncore import _core as core

from reference import layernorm as ref_forward

SIZES = [(n, c) for n in (1, 7, 33) for c in (1, 7, 33, 1000)]
AFFINE = [
    {},
    {"bias": False},
    {"elementwise_affine": False},
]


def numeric_grad(f, a, indices, h=1e-6):
    """Central differences of the scalar f at the given flat indices of a (float64)."""
    out = np.empty(len(indices))
    flat = a.reshape(-1)
    for k, i in enumerate(indices):
        old = flat[i]
        flat[i] = old + h
        up = f(a)
        flat[i] = old - h
        down = f(a)
        flat[i] = old
        out[k] = (up - down) / (2 * h)
    return out


def ln_net(c, **spec):
    return core.Network(c, [dict(type="layernorm", **spec)], 0)


def inputs(n, c, seed=0):
    rng = np.random.default_rng(seed + 100 * n + c)
    x = (rng.standard_normal((n, c)) * 2 + 3).astype(np.float32)
    g = rng.standard_normal((n, c)).astype(np.float32)
    gamma = rng.standard_normal(c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    return x, g, gamma, beta


def set_affine(net, c, gamma, beta, spec):
    """Writes gamma/beta into the arena as the spec has them; returns what the reference uses."""
    p = net.params_array()
    affine = spec.get("elementwise_affine", True)
    bias = affine and spec.get("bias", True)
    assert p.size == c * (int(affine) + int(bias))
    if affine:
        p[:c] = gamma
    if bias:
        p[c:] = beta
    net.params_changed()
    return (gamma if affine else None), (beta if bias else None)


@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
@pytest.mark.parametrize("n,c", SIZES)
def test_forward_matches_float64(n, c, spec):
    x, _, gamma, beta = inputs(n, c)
    net = ln_net(c, **spec)
    gd, bd = set_affine(net, c, gamma, beta, spec)
    ref = ref_forward(x, gd, bd)
    for training in (True, False):  # no running statistics: both modes compute the same
        np.testing.assert_allclose(net.forward(x, training), ref, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
@pytest.mark.parametrize("n,c", SIZES)
def test_gradients_match_finite_differences(n, c, spec):
    x, g, gamma, beta = inputs(n, c, seed=1)
    net = ln_net(c, **spec)
    gd, bd = set_affine(net, c, gamma, beta, spec)
    net.zero_grad()
    net.forward(x, True)
    dx = net.backward(g)
    grads = net.grads_array()
    g64 = g.astype(np.float64)
    pick = np.random.default_rng(n * c)

    def check(analytic, f, a):
        idx = np.arange(a.size) if a.size <= 64 else pick.choice(a.size, 64, replace=False)
        want = numeric_grad(f, a, idx)
        np.testing.assert_allclose(analytic.reshape(-1)[idx], want, rtol=1e-4, atol=2e-5)

    x64 = x.astype(np.float64)
    check(dx, lambda a: (ref_forward(a, gd, bd) * g64).sum(), x64.copy())
    if gd is not None:
        f = lambda a: (ref_forward(x64, a, bd) * g64).sum()  # noqa: E731
        check(grads[:c], f, gd.astype(np.float64))
    if bd is not None:
        f = lambda a: (ref_forward(x64, gd, a) * g64).sum()  # noqa: E731
        check(grads[c:], f, bd.astype(np.float64))


def test_large_mean_keeps_the_variance():
    """Two passes: a mean of 1e4 over a spread of 1e-1 still normalizes (E[x²] - E[x]² would
    cancel to noise in float32 and in many float64 one-pass sums)."""
    rng = np.random.default_rng(5)
    x = (1e4 + 0.1 * rng.standard_normal((4, 50))).astype(np.float32)
    y = ln_net(50).forward(x, False)
    np.testing.assert_allclose(y, ref_forward(x), rtol=1e-5, atol=1e-5)


def test_gradients_accumulate():
    """Backward adds to the gradients (+=): two calls give twice one call, bit for bit."""
    x, g, gamma, beta = inputs(7, 33, seed=2)
    net = ln_net(33)
    set_affine(net, 33, gamma, beta, {})
    net.zero_grad()
    net.forward(x, True)
    net.backward(g)
    once = net.grads_array().copy()
    net.backward(g)
    np.testing.assert_array_equal(net.grads_array(), 2 * once)
    assert np.any(once != 0)


def test_bitwise_over_isas_and_threads(restore_runtime):
    """Kernels and a whole training run: the same bits on every ISA and 1/2/3 threads (the
    shapes are large enough to split rows and columns over threads)."""
    x, g, _, _ = inputs(300, 130, seed=3)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((96, 20)).astype(np.float32)
    Y = X[:, :3].argmax(1)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for t in (1, 2, 3):
            core.set_num_threads(t)
            net = ln_net(130)
            y = net.forward(x, True)
            dx = net.backward(g)
            m = nc.Sequential(
                [nc.Dense(160, "relu"), nc.LayerNorm(), nc.Dense(3)], input_dim=20, seed=0
            )
            m.compile(optimizer="adam", loss="cross_entropy")
            m.fit(X, Y, epochs=2, batch_size=32, verbose=0)
            res[(isa, t)] = [y, dx, net.grads_array().copy(), m.engine.core.params_array().copy()]
    base = res[(core.supported_isas()[0], 1)]
    for key, out in res.items():
        for a, b in zip(base, out):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), key


def test_arguments():
    assert repr(nc.LayerNorm()) == "LayerNorm(eps=1e-05, elementwise_affine=True, bias=True)"
    for bad in (0, -1.0, float("nan"), "1e-5"):
        with pytest.raises(ValueError, match="eps"):
            nc.LayerNorm(eps=bad)
    with pytest.raises(ValueError, match="elementwise_affine"):
        nc.LayerNorm(elementwise_affine="yes")
    with pytest.raises(ValueError, match="bias"):
        nc.LayerNorm(bias=2)
    with pytest.raises(TypeError):
        nc.LayerNorm(64)  # torch's normalized_shape: the width is inferred here
    with pytest.raises(ValueError, match="eps"):
        ln_net(3, eps=0.0)
    layer = nc.LayerNorm(eps=1e-3, bias=False)
    back = nc.layers.layer_from_config(layer.get_config())
    assert back.get_config() == layer.get_config()


def _model(spec=None, seed=0):
    spec = spec or {}
    m = nc.Sequential(
        [
            nc.Dense(16, "relu"),
            nc.LayerNorm(**spec),
            nc.Residual([nc.Dense(16, "tanh"), nc.LayerNorm(eps=1e-3)]),
            nc.Dense(3),
        ],
        input_dim=6,
        seed=seed,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 6)).astype(np.float32)
    m.fit(X, X[:, :3].argmax(1), epochs=2, batch_size=16, verbose=0)
    return m, X


@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
def test_save_load_round_trip(spec, tmp_path):
    m, X = _model(spec)
    path = tmp_path / "m.nnc"
    m.save(path)
    back = nc.load(path)
    assert [repr(a) for a in back.layers] == [repr(a) for a in m.layers]
    for k, v in m.parameters().items():
        np.testing.assert_array_equal(back.parameters()[k], v)
    np.testing.assert_array_equal(back.predict(X), m.predict(X))


def test_inside_residual_matches_float64():
    """y = x + LayerNorm(x·Wᵀ + b), and predict (no fold possible) equals the layer path."""
    m = nc.Sequential([nc.Residual([nc.Dense(5), nc.LayerNorm()])], input_dim=5, seed=0)
    p = m.parameters()
    rng = np.random.default_rng(7)
    p["0.body.1.weight"][...] = rng.standard_normal(5)
    p["0.body.1.bias"][...] = rng.standard_normal(5)
    X = rng.standard_normal((9, 5)).astype(np.float32)
    z = X.astype(np.float64) @ p["0.body.0.weight"].T.astype(np.float64) + p["0.body.0.bias"]
    want = X + ref_forward(z, p["0.body.1.weight"], p["0.body.1.bias"])
    np.testing.assert_allclose(m.predict(X), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.predict(X), m.predict(X, fold_batchnorm=False))


def test_cpp_loader_predicts_the_same_bits(tmp_path):
    m, X = _model()
    path = tmp_path / "m.nnc"
    m.save(path)
    c = core.CppModel.load(str(path))
    np.testing.assert_array_equal(c.predict(X), m.predict(X))
    np.testing.assert_array_equal(c.predict(X[:1]), m.predict(X[:1]))


# ------------------------------------------------------------------ PyTorch (skipped without)
@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
@pytest.mark.parametrize("n,c", [(1, 1), (7, 7), (33, 33), (7, 1000)])
def test_layer_matches_torch(n, c, spec):
    torch = pytest.importorskip("torch")
    x, g, gamma, beta = inputs(n, c, seed=6)
    net = ln_net(c, eps=1e-4, **spec)
    gd, bd = set_affine(net, c, gamma, beta, spec)
    affine = spec.get("elementwise_affine", True)
    tl = torch.nn.LayerNorm(c, eps=1e-4, elementwise_affine=affine, bias=spec.get("bias", True))
    with torch.no_grad():
        if gd is not None:
            tl.weight.copy_(torch.from_numpy(gd))
        if bd is not None:
            tl.bias.copy_(torch.from_numpy(bd))
    tx = torch.tensor(x, requires_grad=True)
    ty = tl(tx)
    ty.backward(torch.from_numpy(g))
    net.zero_grad()
    y = net.forward(x, True)
    dx = net.backward(g)
    # With one feature x̂ is exactly 0; torch forms it as x·rstd - mean·rstd, which leaves about
    # |x|·rstd·2^-24 (rstd = 100 here), so its y and weight gradient are off by ~2e-5.
    atol = 1e-4 if c == 1 else 1e-5
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=atol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    grads = net.grads_array()
    if gd is not None:
        np.testing.assert_allclose(grads[:c], tl.weight.grad.numpy(), rtol=1e-4, atol=atol)
    if bd is not None:
        np.testing.assert_allclose(grads[c:], tl.bias.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_training_matches_torch():
    """Three SGD steps of Dense -> LayerNorm -> ReLU -> Dense (the fused train_step, which
    overwrites the gradients) follow torch's to float32 rounding."""
    torch = pytest.importorskip("torch")
    m = nc.Sequential(
        [nc.Dense(12), nc.LayerNorm(), nc.Activation("relu"), nc.Dense(2)], input_dim=5, seed=0
    )
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="mse")
    p = m.parameters()
    rng = np.random.default_rng(8)
    p["1.weight"][...] = 1 + 0.3 * rng.standard_normal(12)
    p["1.bias"][...] = 0.3 * rng.standard_normal(12)
    t = m.to_torch()
    opt = torch.optim.SGD(t.parameters(), lr=0.1)
    for _ in range(3):
        xb = rng.standard_normal((16, 5)).astype(np.float32)
        yb = rng.standard_normal((16, 2)).astype(np.float32)
        m.train_step(xb, yb)
        opt.zero_grad()
        torch.nn.functional.mse_loss(t(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
        opt.step()
    want = dict(
        zip(
            ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"],
            [q.detach().numpy() for q in t.parameters()],
        )
    )
    for k, v in want.items():
        np.testing.assert_allclose(m.parameters()[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
def test_torch_round_trip(spec):
    torch = pytest.importorskip("torch")
    m, X = _model(spec)
    t = m.to_torch().eval()
    with torch.no_grad():
        out = torch.softmax(t(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(out, m.predict(X), rtol=1e-5, atol=1e-6)
    back = nc.from_torch(t, input_dim=6)
    for k, v in m.parameters().items():
        np.testing.assert_array_equal(back.parameters()[k], v)
    assert [repr(a) for a in back.layers] == [repr(a) for a in m.layers]


def test_from_torch_layernorm():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    seq = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8, eps=1e-3), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        seq[1].weight.normal_()
        seq[1].bias.normal_()
    m = nc.from_torch(seq, input_dim=4)
    assert repr(m.layers[1]) == "LayerNorm(eps=0.001, elementwise_affine=True, bias=True)"
    X = np.random.default_rng(9).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        want = seq(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(m.predict(X), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="normalized_shape"):
        nc.from_torch(nn.Sequential(nn.Linear(4, 6), nn.LayerNorm((2, 3))), input_dim=4)
    with pytest.raises(ValueError, match="normalizes"):
        nc.from_torch(nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(5)), input_dim=4)


# ------------------------------------------------------------------ ONNX (skipped without)
@pytest.mark.parametrize("opset", [13, 17])
@pytest.mark.parametrize("spec", AFFINE, ids=["affine", "no_bias", "no_affine"])
def test_onnx_matches_onnxruntime(spec, opset, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    m, X = _model(spec)
    path = tmp_path / "m.onnx"
    m.export_onnx(path, opset=opset)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"input": X})
    np.testing.assert_allclose(out, m.predict(X), rtol=1e-5, atol=1e-5)
    ops = {n.op_type for n in __import__("onnx").load(str(path)).graph.node}
    assert ("LayerNormalization" in ops) == (opset >= 17)
