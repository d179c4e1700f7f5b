"""Regularization in the model: l1/l2 gradients, weight shrinkage, max-norm, the overfitting
demonstration from the study notes, dropout's zero mask storage, BatchNorm in fit and in the
folded inference plan."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

import reference as ref

LAYERS = [(6, "tanh"), (3, "linear")]
COEF = {"0.weight": (0.01, 0.3), "1.weight": (0.0, 0.45)}  # (l1, l2); biases carry no penalty


def _penalized_model(optimizer):
    model = nc.Sequential(
        [nc.Dense(6, "tanh", l1=0.01, l2=0.3), nc.Dense(3, l2=0.45)], input_dim=4, seed=1
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _batch(rng):
    return rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)


def _penalty64(p):
    return sum(l1 * np.abs(p[k]).sum() + l2 * (p[k] ** 2).sum() for k, (l1, l2) in COEF.items())


def test_backward_and_penalty_match_float64_finite_differences(rng):
    model = _penalized_model(nc.optim.SGD(lr=0.1))
    x, y = _batch(rng)
    p = {k: v.astype(np.float64) for k, v in model.parameters().items()}

    def data_loss():
        return ref.loss("mse", ref.mlp_forward(x.astype(np.float64), p, LAYERS), y)

    out = model.forward(x, training=True)
    loss, g = model.loss_fn(out, y)
    model.zero_grad()
    model.backward(g)
    assert loss == pytest.approx(data_loss(), rel=1e-5)
    assert model.penalty() == pytest.approx(_penalty64(p), rel=1e-6)
    # backward's gradients are the data loss's alone (its docstring: the penalty is left out)
    for k, grad in model.gradients().items():
        assert ref.rel_err(grad, ref.numeric_grad(data_loss, p[k])) < 1e-3, k


def _step_delta(model, x, y):
    before = {k: v.astype(np.float64) for k, v in model.parameters().items()}
    model.train_step(x, y)
    return before, {k: before[k] - v.astype(np.float64) for k, v in model.parameters().items()}


def test_train_step_applies_backward_plus_the_analytic_penalty_gradient(rng):
    """SGD with lr = 1 and no momentum moves each weight by exactly its effective gradient, so
    the step shows nncore's own penalty gradient; it must equal backward's data gradient plus
    l1 sign(w) + 2 l2 w computed here in float64 (the only rounding: a few float32 operations
    on the way, far below l2 * |w|)."""
    x, y = _batch(rng)
    probe = _penalized_model(nc.optim.SGD(lr=1.0))
    out = probe.forward(x, training=True)
    probe.zero_grad()
    probe.backward(probe.loss_fn(out, y)[1])
    data_grad = {k: v.astype(np.float64) for k, v in probe.gradients().items()}

    model = _penalized_model(nc.optim.SGD(lr=1.0))
    w, delta = _step_delta(model, x, y)
    for k in w:
        l1, l2 = COEF.get(k, (0.0, 0.0))
        pen = l1 * np.sign(w[k]) + 2 * l2 * w[k]
        want = data_grad[k] + pen
        tol = 1e-6 * (np.abs(w[k]) + np.abs(want)) + 1e-9
        bad = np.abs(delta[k] - want) > tol
        assert not bad.any(), (k, delta[k][bad][:4], want[bad][:4])
        if l2:  # the penalty part is far above the tolerance: a wrong factor cannot hide
            assert (np.abs(l2 * w[k]) > 100 * tol).mean() > 0.9
    # model.last_step reports the penalty of the weights the step started from
    assert model.last_step["penalty"] == pytest.approx(_penalty64(w), rel=1e-6)


def test_fit_applies_the_same_penalty_step_as_train_step(rng):
    x, y = _batch(rng)
    a = _penalized_model(nc.optim.SGD(lr=1.0))
    a.train_step(x, y)
    b = _penalized_model(nc.optim.SGD(lr=1.0))
    pen0 = b.penalty()
    h = b.fit(x, y, epochs=1, batch_size=len(x), shuffle=False)
    for k, v in a.parameters().items():
        assert np.array_equal(v, b.parameters()[k]), k
    # reg_loss: the mean over the epoch's batches of the penalty each step started from
    assert h.history["reg_loss"][0] == pytest.approx(pen0, rel=1e-12)


def test_penalty_alone_moves_the_weights_by_its_float64_gradient(rng):
    """With zero data gradient (the output already equals the target) only the penalty moves
    the weights: w -> w - lr (l1 sign(w) + 2 l2 w), exactly as in float64 up to rounding."""
    m = nc.Sequential([nc.Dense(5, l1=0.02, l2=0.1)], input_dim=3, seed=2)
    m.compile(optimizer=nc.optim.SGD(lr=0.5), loss="mse")
    x = rng.normal(size=(6, 3)).astype(np.float32)
    y = m.predict(x)
    w0 = m.parameters()["0.weight"].astype(np.float64)
    m.train_step(x, y)
    want = w0 - 0.5 * (0.02 * np.sign(w0) + 0.2 * w0)
    np.testing.assert_allclose(m.parameters()["0.weight"], want, rtol=1e-6, atol=1e-7)
    pen = 0.02 * np.abs(want).sum() + 0.1 * (want**2).sum()
    assert m.penalty() == pytest.approx(pen, rel=1e-5)


def _train(l2, seed=0, epochs=30):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 10)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    m = nc.Sequential([nc.Dense(64, "relu", l2=l2), nc.Dense(2, l2=l2)], input_dim=10, seed=seed)
    m.compile(optimizer=nc.optim.SGD(lr=0.05), loss="cross_entropy")
    h = m.fit(X, y, epochs=epochs, batch_size=20)
    return m, h


def test_l2_shrinks_weights_and_history_reports_the_term_separately():
    # The exact size of the penalty step is checked above; here: the end-to-end effect and the
    # history's bookkeeping. Measured: squared weight norm 0.56x the unregularized run's.
    plain, h0 = _train(0.0)
    reg, h1 = _train(1e-2)
    norm = lambda m: sum(float((v**2).sum()) for k, v in m.parameters().items() if "weight" in k)  # noqa: E731
    assert norm(reg) < 0.8 * norm(plain)
    assert all(v == 0 for v in h0.history["reg_loss"])
    assert all(v > 0 for v in h1.history["reg_loss"])


def test_max_norm_constraint_holds_after_updates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32) * 10
    y = rng.normal(size=(64, 1)).astype(np.float32) * 10
    m = nc.Sequential([nc.Dense(16, "relu", max_norm=0.5), nc.Dense(1)], input_dim=5)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="mse")
    m.fit(X, y, epochs=3, batch_size=8)
    norms = np.linalg.norm(m.parameters()["0.weight"], axis=1)
    assert norms.max() <= 0.5 * (1 + 1e-6)


def _noisy_task(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(240, 20)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    flip = rng.random(240) < 0.25  # label noise: memorising it is overfitting
    y[flip] = 1 - y[flip]
    return X[:120], y[:120], X[120:], y[120:]


def _gap(regularized, seed):
    Xtr, ytr, Xva, yva = _noisy_task(seed)
    if regularized:
        layers = []
        for _ in range(2):
            layers += [
                nc.Dense(128, l2=1e-2),
                nc.BatchNorm(),
                nc.Activation("relu"),
                nc.Dropout(0.7),
            ]
        layers.append(nc.Dense(2, l2=1e-2))
    else:
        layers = [nc.Dense(128, "relu"), nc.Dense(128, "relu"), nc.Dense(2)]
    m = nc.Sequential(layers, input_dim=20, seed=seed)
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    m.fit(Xtr, ytr, epochs=60, batch_size=30)
    return m.evaluate(Xtr, ytr)["accuracy"] - m.evaluate(Xva, yva)["accuracy"]


def test_overfitting_gap_shrinks_with_dropout_l2_batchnorm():
    # Measured gaps (train - validation accuracy), seeds 0..2: plain 0.46, 0.37, 0.41;
    # regularized 0.28, 0.28, 0.17.
    plain = [_gap(False, s) for s in range(3)]
    reg = [_gap(True, s) for s in range(3)]
    assert min(plain) > 0.25  # memorises the noisy labels: train accuracy far above validation
    for p, r in zip(plain, reg):
        assert r < p - 0.05
    assert np.mean(plain) - np.mean(reg) > 0.1


def test_dropout_stores_one_bit_per_element():
    x = np.ones((256, 300), np.float32)
    with_do = nc.Sequential([nc.Dense(300), nc.Dropout(0.5), nc.Dense(2)], input_dim=300)
    without = nc.Sequential([nc.Dense(300), nc.Activation("linear"), nc.Dense(2)], input_dim=300)
    for m in (with_do, without):
        m.forward(x, training=True)
    # the dropout layer holds its output rows like any layer, plus its mask: 1 bit per element
    # (rows of ceil(300 / 32) words), not a float or a byte
    extra = with_do.engine.core.workspace_bytes - without.engine.core.workspace_bytes
    assert extra == 256 * ((300 + 31) // 32) * 4


def test_batchnorm_model_trains_with_a_last_batch_of_one_row():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(33, 4)).astype(np.float32)  # 33 = 2 × 16 + 1
    y = rng.integers(0, 2, 33)
    m = nc.Sequential(
        [nc.Dense(8), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(2)], input_dim=4
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    m.fit(X, y, epochs=2, batch_size=16)
    with pytest.raises(ValueError, match="batch of 1"):
        m.train_step(X[:1], y[:1])
    fb = nc.Sequential([nc.Dense(8), nc.BatchNorm(batch1_fallback=True), nc.Dense(2)], input_dim=4)
    fb.compile(optimizer="adam", loss="cross_entropy")
    fb.train_step(X[:1], y[:1])


def test_folded_inference_equals_layer_by_layer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    m = nc.Sequential(
        [
            nc.Dense(32),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.2),
            nc.Dense(16, "tanh"),
            nc.Dense(3),
        ],
        input_dim=12,
        seed=3,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    m.fit(X, y, epochs=3, batch_size=32)
    assert m.engine.core.can_fold
    a, b = m.predict(X, fold_batchnorm=False), m.predict(X)
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    m.fit(X, y, epochs=1, batch_size=32)  # the plan is rebuilt after training
    np.testing.assert_allclose(
        m.predict(X), m.predict(X, fold_batchnorm=False), rtol=1e-4, atol=1e-6
    )
