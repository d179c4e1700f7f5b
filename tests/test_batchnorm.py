"""BatchNorm: kernels and the layer through nncore._core.Network, against float64 numpy and torch."""

import numpy as np
import pytest

from nncore import _core as core


@pytest.fixture
def restore():
    isa = core.isa()
    yield
    core.set_isa(isa)
    core.set_num_threads(0)


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


def test_bitwise_isas_and_threads(restore):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((700, 200)).astype(np.float32)
    g = rng.standard_normal((700, 200)).astype(np.float32)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for t in (1, 2):
            core.set_num_threads(t)
            net = bn_net(200)
            y = net.forward(x, True)
            dx = net.backward(g)
            res[(isa, t)] = [y, dx, net.grads_array().copy(), net.buffers_array().copy()]
    base = res[(core.supported_isas()[-1], 1)]
    for key, out in res.items():
        for a, b in zip(base, out):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), key
