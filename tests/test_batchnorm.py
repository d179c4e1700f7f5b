"""BatchNorm: kernels and the layer through nncore._core.Network, against float64 numpy and torch."""

import numpy as np
import pytest

from nncore import _core as core


def ref_train(x, gamma, beta, eps):
    x = np.asarray(x, np.float64)
    mu = x.mean(0)
    var = x.var(0)
    xh = (x - mu) / np.sqrt(var + eps)
    return xh * gamma + beta, mu, var


def ref_loss(x, gamma, beta, eps, g):
    return (ref_train(x, gamma, beta, eps)[0] * g).sum()


def numeric(f, a, h=1e-6):
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = h
        out[idx] = (f(a + e) - f(a - e)) / (2 * h)
    return out


@pytest.mark.parametrize("n,c", [(2, 1), (7, 3), (33, 5)])
def test_kernel_gradients_match_finite_differences(n, c):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((n, c)) * 2 + 3).astype(np.float32)
    gamma = rng.standard_normal(c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    g = rng.standard_normal((n, c)).astype(np.float32)
    eps = 1e-3
    y, mean, invstd, rm, rv = core.bn_forward_train(
        x, gamma, beta, eps, 0.1, np.zeros(c), np.ones(c)
    )
    ry, rmu, rvar = ref_train(x, gamma, beta, eps)
    np.testing.assert_allclose(y, ry, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mean, rmu, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(rvar + eps), rtol=1e-6)
    np.testing.assert_allclose(rm, 0.1 * rmu, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * rvar * n / (n - 1), rtol=1e-6)
    dx, dgamma, dbeta = core.bn_backward(g, x, mean, invstd, gamma, True)
    xd, gd, bd = x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64)
    np.testing.assert_allclose(
        dx, numeric(lambda a: ref_loss(a, gd, bd, eps, g), xd), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        dgamma, numeric(lambda a: ref_loss(xd, a, bd, eps, g), gd), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        dbeta, numeric(lambda a: ref_loss(xd, gd, a, eps, g), bd), rtol=1e-4, atol=1e-5
    )


def test_eval_kernel_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    gamma, beta = (
        rng.standard_normal(4).astype(np.float32),
        rng.standard_normal(4).astype(np.float32),
    )
    rm, rv = rng.standard_normal(4).astype(np.float32), (rng.random(4) + 0.5).astype(np.float32)
    y, invstd = core.bn_forward_eval(x, gamma, beta, rm, rv, 1e-5)
    ref = (x - rm.astype(np.float64)) / np.sqrt(rv.astype(np.float64) + 1e-5) * gamma + beta
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    g = rng.standard_normal((9, 4)).astype(np.float32)
    dx, dgamma, dbeta = core.bn_backward(g, x, rm, invstd, gamma, False)
    np.testing.assert_allclose(dx, g * gamma / np.sqrt(rv.astype(np.float64) + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(dbeta, g.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        dgamma, (g * (x - rm) / np.sqrt(rv + 1e-5)).sum(0), rtol=1e-4, atol=1e-5
    )


def bn_net(c, **spec):
    return core.Network(c, [dict(type="batchnorm", **spec)], 0)


@pytest.mark.parametrize("affine", [True, False])
def test_network_matches_torch_over_ten_steps(affine):
    torch = pytest.importorskip("torch")
    c, n = 6, 32
    rng = np.random.default_rng(0)
    net = bn_net(c, affine=int(affine))
    tbn = torch.nn.BatchNorm1d(c, affine=affine)
    if affine:
        p = net.params_array()
        w = rng.standard_normal(c).astype(np.float32)
        b = rng.standard_normal(c).astype(np.float32)
        p[:c], p[c:] = w, b
        net.params_changed()
        with torch.no_grad():
            tbn.weight.copy_(torch.tensor(w))
            tbn.bias.copy_(torch.tensor(b))
    for _step in range(10):
        x = (rng.standard_normal((n, c)) * 3 + 5).astype(np.float32)
        g = rng.standard_normal((n, c)).astype(np.float32)
        net.zero_grad()
        y = net.forward(x, True)
        dx = net.backward(g)
        tx = torch.tensor(x, requires_grad=True)
        tbn.train()
        if affine:
            tbn.zero_grad()
        ty = tbn(tx)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
        if affine:
            gr = net.grads_array()
            np.testing.assert_allclose(gr[:c], tbn.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(gr[c:], tbn.bias.grad.numpy(), rtol=1e-5, atol=1e-5)
    buf = net.buffers_array()
    np.testing.assert_allclose(buf[:c], tbn.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(buf[c:], tbn.running_var.numpy(), rtol=1e-5)
    # evaluation mode uses the running statistics, forward and backward
    tbn.eval()
    x = rng.standard_normal((5, c)).astype(np.float32)
    g = rng.standard_normal((5, c)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ty = tbn(tx)
    ty.backward(torch.tensor(g))
    y = net.forward(x, False)
    dx = net.backward(g)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(net.buffers_array(), buf)  # eval does not touch the statistics


def test_momentum_and_eps_are_used():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 3)).astype(np.float32)
    net = bn_net(3, momentum=0.5, eps=0.1)
    y = net.forward(x, True)
    ref, mu, var = ref_train(x, 1.0, 0.0, 0.1)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.buffers_array()[:3], 0.5 * mu, rtol=1e-5)
    np.testing.assert_allclose(net.buffers_array()[3:], 0.5 + 0.5 * var * 10 / 9, rtol=1e-5)


def test_affine_off_has_no_params():
    net = bn_net(4, affine=0)
    assert net.num_params == 0 and net.buffers_array().size == 8
    net2 = bn_net(4)
    np.testing.assert_array_equal(net2.params_array(), [1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(net2.buffers_array(), [0, 0, 0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize(
    "spec,param",
    [
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"eps": 0.0}, "eps"),
        ({"eps": -1.0}, "eps"),
        ({"affine": 2}, "affine"),
        ({"batch1": 3}, "batch1"),
    ],
)
def test_bad_hyper_parameters(spec, param):
    with pytest.raises(ValueError, match=f"BatchNorm.*{param}"):
        bn_net(3, **spec)


def test_batch_of_one():
    x = np.ones((1, 3), np.float32)
    with pytest.raises(ValueError, match="batch of 1|one row"):
        bn_net(3).forward(x, True)
    net = bn_net(3, batch1=1)
    buf = net.buffers_array().copy()
    y = net.forward(x, True)  # fallback: running statistics, no update
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-5), rtol=1e-6)
    np.testing.assert_array_equal(net.buffers_array(), buf)
    dx = net.backward(np.ones((1, 3), np.float32))
    np.testing.assert_allclose(dx, np.full((1, 3), 1 / np.sqrt(1 + 1e-5)), rtol=1e-6)


def test_bitwise_isas_and_threads(restore_runtime):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((700, 200)).astype(np.float32)
    g = rng.standard_normal((700, 200)).astype(np.float32)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for t in (1, 2, 3, 5, 7, 16):
            core.set_num_threads(t)
            net = bn_net(200)
            y = net.forward(x, True)
            dx = net.backward(g)
            res[(isa, t)] = [y, dx, net.grads_array().copy(), net.buffers_array().copy()]
    base = res[(core.supported_isas()[-1], 1)]
    for key, out in res.items():
        for a, b in zip(base, out):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), key


@pytest.mark.parametrize("threads", [1, 2])
def test_fused_relu_matches_the_layer_by_layer_network(threads, restore_runtime):
    """BatchNorm → ReLU runs as one fused layer by default; with fusion off every layer runs on
    its own. Same seed, same data: the same bits for the loss, the parameters and gradients
    after every step, the outputs in both modes, user-loop gradients and predictions — for a
    pair in the middle (followed by dropout), a pair at the end, and a ReLU after a Dense
    (not fused)."""
    import nncore as nc

    core.set_num_threads(threads)
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 9)).astype(np.float32)  # 300 rows: the big-batch backward
    y = rng.integers(0, 4, 300)

    def model(fusion):
        m = nc.Sequential(
            [
                nc.Dense(20),
                nc.BatchNorm(),
                nc.Activation("relu"),
                nc.Dropout(0.25),
                nc.Dense(12),
                nc.Activation("relu"),
                nc.Dense(8),
                nc.BatchNorm(),
                nc.Activation("relu"),
                nc.Dense(4),
                nc.BatchNorm(),
                nc.Activation("relu"),
            ],
            input_dim=9,
            seed=2,
        )
        m.compile(optimizer=nc.optim.Adam(lr=0.02), loss="cross_entropy")
        m.engine.core.fusion = fusion
        return m

    a, b = model(True), model(False)
    assert a.engine.core.fusion and not b.engine.core.fusion
    a.engine.core.set_profiling(True)
    b.engine.core.set_profiling(True)
    for step in range(5):
        rows = slice(step * 16, step * 16 + 17) if step < 4 else slice(None)
        la, lb = a.train_step(X[rows], y[rows]), b.train_step(X[rows], y[rows])
        assert la == lb, step
        for k, v in a.parameters().items():
            assert np.array_equal(v, b.parameters()[k]), (step, k)
            assert np.array_equal(a.gradients()[k], b.gradients()[k]), (step, k)
    for training in (False, True):
        oa, ob = a.forward(X, training=training), b.forward(X, training=training)
        assert np.array_equal(oa, ob), training
        ga, gb = a.backward(np.ones_like(oa)), b.backward(np.ones_like(ob))
        assert np.array_equal(ga, gb), training
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    fused = sorted(k for k in a.engine.core.profile() if "+relu" in k)
    assert fused == [f"{i}.batchnorm+relu.{d}" for i in (1, 10, 7) for d in ("backward", "forward")]
    assert "2.activation.forward" not in a.engine.core.profile()
    assert not [k for k in b.engine.core.profile() if "+relu" in k]
    assert "5.activation.forward" in a.engine.core.profile()  # a ReLU after a Dense is not fused
    # forward_all still shows every layer's own output: the BatchNorm's, before its ReLU
    outs = a.engine.core.forward_all(X, True)
    assert (outs[1] < 0).any() and np.array_equal(outs[2], np.maximum(outs[1], 0))
    assert a.engine.core.fusion
