"""End-to-end checks of the Dense network against float64 references, finite differences and
PyTorch; determinism across threads and ISA paths; the XOR classic from the study notes."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

import reference as ref

ACTS = list(nc.layers.ACTIVATIONS)
# The losses with options (focal, binary_focal, quantile) have their own torch and finite-
# difference tests in test_loss_options.py.
LOSSES = [x for x in nc.model.LOSSES if x not in ("focal", "binary_focal", "quantile")]


def _model(layers, input_dim, loss="mse", seed=0):
    m = nc.Sequential([nc.Dense(u, a) for u, a in layers], input_dim=input_dim, seed=seed)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss=loss)
    return m


def _params64(model):
    return {k: v.astype(np.float64) for k, v in model.parameters().items()}


def _targets(loss, n, k, rng):
    if loss == "cross_entropy":
        return rng.integers(0, k, n)
    if loss == "binary_cross_entropy":
        return rng.random((n, k))
    if loss == "poisson":
        return rng.poisson(1.5, (n, k)).astype(np.float64)
    return rng.normal(size=(n, k))


def _analytic(model, x, y):
    out = model.forward(x, training=True)
    loss, g = model.loss_fn(out, y)
    model.zero_grad()
    dx = model.backward(g)
    return loss, {k: v.copy() for k, v in model.gradients().items()}, dx


@pytest.mark.parametrize("act", ACTS)
def test_dense_activation_gradients_match_finite_differences(act, rng):
    layers = [(5, act)] if act != "softmax" else [(5, "softmax")]
    model = _model(layers, 4, loss="mse")
    x = rng.normal(size=(7, 4)).astype(np.float32)
    y = rng.normal(size=(7, 5))
    p = _params64(model)
    x64 = x.astype(np.float64)

    def f():
        return ref.loss("mse", ref.mlp_forward(x64, p, layers), y)

    loss, grads, dx = _analytic(model, x, y.astype(np.float32))
    assert abs(loss - f()) <= 1e-5 * max(1.0, abs(f()))
    for name in ("0.weight", "0.bias"):
        assert ref.rel_err(grads[name], ref.numeric_grad(f, p[name])) < 1e-3, name
    assert ref.rel_err(dx, ref.numeric_grad(f, x64)) < 1e-3


@pytest.mark.parametrize("loss", LOSSES)
def test_three_layer_network_gradients(loss, rng):
    layers = [(6, "tanh"), (5, "relu"), (3, "linear")]
    model = _model(layers, 4, loss=loss, seed=3)
    x = rng.normal(size=(9, 4)).astype(np.float32)
    y = _targets(loss, 9, 3, rng)
    p = _params64(model)

    def f():
        return ref.loss(loss, ref.mlp_forward(x.astype(np.float64), p, layers), y)

    value, grads, _ = _analytic(model, x, y)
    assert abs(value - f()) <= 1e-5 * max(1.0, abs(f()))
    for name in p:
        assert ref.rel_err(grads[name], ref.numeric_grad(f, p[name])) < 1e-3, (loss, name)


def test_sample_weights_scale_the_loss(rng):
    model = _model([(3, "linear")], 4, loss="cross_entropy")
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    w = rng.random(6).astype(np.float32)
    out = model.forward(x)
    loss, _ = model.loss_fn(out, y, sample_weight=w)
    assert loss == pytest.approx(ref.loss("cross_entropy", out, y, weights=w), rel=1e-5)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_dense_matches_torch(act, loss, rng):
    torch = pytest.importorskip("torch")
    model = _model([(3, act)], 5, loss=loss)
    if loss in ("cross_entropy", "binary_cross_entropy") and act in ("softmax", "sigmoid"):
        pytest.skip("the final softmax/sigmoid is folded into the loss")
    x = rng.normal(size=(33, 5)).astype(np.float32)
    y = _targets(loss, 33, 3, rng)
    value, grads, dx = _analytic(model, x, y)

    p = model.parameters()
    W = torch.tensor(p["0.weight"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(p["0.bias"], dtype=torch.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    z = xt @ W.T + b
    acts = {
        "linear": lambda t: t,
        "relu": torch.relu,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
        "elu": torch.nn.functional.elu,
        "selu": torch.nn.functional.selu,
        "gelu": torch.nn.functional.gelu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": torch.nn.functional.softplus,
        "silu": torch.nn.functional.silu,
        "softmax": lambda t: torch.softmax(t, dim=1),
    }
    out = acts[act](z)
    F = torch.nn.functional
    if loss == "cross_entropy":
        L = F.cross_entropy(out, torch.tensor(y))
    elif loss == "binary_cross_entropy":
        L = F.binary_cross_entropy_with_logits(out, torch.tensor(y))
    elif loss == "mse":
        L = F.mse_loss(out, torch.tensor(y))
    elif loss == "mae":
        L = F.l1_loss(out, torch.tensor(y))
    elif loss == "poisson":  # torch leaves out the constant y·log(y) - y
        t = torch.tensor(y)
        L = F.poisson_nll_loss(out, t, log_input=True, full=False) + (torch.xlogy(t, t) - t).mean()
    else:
        L = F.huber_loss(out, torch.tensor(y), delta=1.0)
    L.backward()
    assert value == pytest.approx(L.item(), rel=1e-5, abs=1e-7)
    for got, want in ((grads["0.weight"], W.grad), (grads["0.bias"], b.grad), (dx, xt.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)


def test_single_layer_perceptron_cannot_learn_xor_but_mlp_does():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.float32)
    slp = nc.Sequential([nc.Dense(1, "sigmoid")], input_dim=2, seed=0)
    slp.compile(optimizer=nc.optim.SGD(lr=0.5), loss="binary_cross_entropy", metrics=["accuracy"])
    slp.fit(X, y, epochs=2000, batch_size=4)
    assert slp.evaluate(X, y)["accuracy"] <= 0.75  # a line separates at most 3 of the 4 points
    for seed in range(3):
        mlp = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1, "sigmoid")], input_dim=2, seed=seed)
        mlp.compile(
            optimizer=nc.optim.SGD(lr=0.5), loss="binary_cross_entropy", metrics=["accuracy"]
        )
        mlp.fit(X, y, epochs=2000, batch_size=4)
        assert mlp.evaluate(X, y)["accuracy"] == 1.0


def _train_digits(threads, seed=0, epochs=3, layers=None):
    X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
    with nc.num_threads(threads):
        model = nc.Sequential(
            layers or [nc.Dense(96, "relu"), nc.Dense(64, "tanh"), nc.Dense(10)],
            input_dim=64,
            seed=seed,
        )
        model.compile(optimizer=nc.optim.SGD(lr=0.05), loss="cross_entropy")
        model.fit(X, y, epochs=epochs, batch_size=64)
        return np.concatenate([v.ravel() for v in model.parameters().values()])


def test_same_seed_gives_bitwise_identical_weights_for_1_and_2_threads():
    w1, w2 = _train_digits(1), _train_digits(2)
    assert np.array_equal(w1, w2)
    assert not np.array_equal(w1, _train_digits(1, seed=1))


def test_every_isa_path_trains_to_similar_weights(isa):
    w = _train_digits(2, epochs=1)
    assert np.isfinite(w).all()
    assert np.array_equal(w, _train_digits(1, epochs=1))


def test_predict_batch_independence(rng):
    model = _model([(33, "relu"), (7, "linear")], 13)
    x = rng.normal(size=(300, 13)).astype(np.float32)
    full = model.predict(x)
    for i in (0, 1, 150, 299):
        assert np.array_equal(model.predict(x[i : i + 1])[0], full[i])
