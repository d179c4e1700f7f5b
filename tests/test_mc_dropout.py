"""Monte-Carlo dropout: predict(mc_samples=...) and forward(training=True) drawing a new mask
per call; the key of every mask is documented and reproducible, the same bits on every thread
count and ISA."""

import numpy as np
import pytest

import nncore as nc
from nncore import _core as core


def _model(rate=0.3, bn=False, loss="mse", out=2, seed=3):
    layers = [nc.Dense(32, "relu")]
    if bn:
        layers.append(nc.BatchNorm())
    layers += [nc.Dropout(rate), nc.Dense(16, "tanh"), nc.Dropout(rate), nc.Dense(out)]
    m = nc.Sequential(layers, input_dim=6, seed=seed)
    m.compile(optimizer="adam", loss=loss)
    return m


def _X(n=300, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 6)).astype(np.float32)


def test_std_is_zero_without_dropout_and_mean_is_predict():
    # BatchNorm must stay in evaluation mode: with batch statistics the mean would differ
    m = _model(rate=0.0, bn=True)
    X, y = _X(), _X()[:, :2]
    m.fit(X, y, epochs=2, batch_size=32, verbose=0)
    mean, std = m.predict(X, mc_samples=7, return_std=True)
    assert mean.dtype == np.float32 and mean.shape == std.shape == (300, 2)
    assert not std.any()
    np.testing.assert_allclose(mean, m.predict(X), rtol=1e-6, atol=1e-6)


def test_std_positive_with_dropout_and_reproducible():
    m = _model(rate=0.3, loss="cross_entropy", out=3)
    X = _X()
    mean, std = m.predict(X, mc_samples=20, seed=11, return_std=True)
    assert (std > 0).mean() > 0.99
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, rtol=1e-5)  # probabilities
    mean2, std2 = m.predict(X, mc_samples=20, seed=11, return_std=True)
    assert np.array_equal(mean.view(np.uint32), mean2.view(np.uint32))
    assert np.array_equal(std.view(np.uint32), std2.view(np.uint32))
    assert np.array_equal(m.predict(X, mc_samples=20, seed=11), mean)
    assert not np.array_equal(m.predict(X, mc_samples=20, seed=12), mean)
    # the default seed is the model's
    assert np.array_equal(m.predict(X, mc_samples=5), m.predict(X, mc_samples=5, seed=3))


def test_mean_and_std_are_those_of_the_samples():
    m = _model(rate=0.5, loss="binary_cross_entropy")
    X = _X(50)
    samples = np.stack(
        [
            1 / (1 + np.exp(-m.engine.core.forward_mc(X, 5, s, 0).astype(np.float64)))
            for s in range(9)
        ]
    )
    mean, std = m.predict(X, mc_samples=9, seed=5, return_std=True)
    np.testing.assert_allclose(mean, samples.mean(0), rtol=1e-6)
    np.testing.assert_allclose(std, samples.std(0), rtol=1e-5, atol=1e-7)


def test_inverted_dropout_mean_converges_to_the_evaluation_output():
    # linear after the dropout: E[mask / (1 - rate)] = 1, so the MC mean is the plain output
    m = nc.Sequential([nc.Dropout(0.5), nc.Dense(1)], input_dim=6, seed=1)
    X = _X(40)
    mean, std = m.predict(X, mc_samples=4000, return_std=True)
    ref = m.predict(X)
    np.testing.assert_allclose(mean, ref, atol=4 * float(std.max()) / np.sqrt(4000))
    w = m.parameters()["1.weight"].astype(np.float64)
    # Var = rate/(1-rate) · sum_j (w_j x_j)^2 for rate 0.5
    want = np.sqrt(((X.astype(np.float64) * w) ** 2).sum(1, keepdims=True))
    np.testing.assert_allclose(std, want, rtol=0.1)


def test_rows_in_different_chunks_get_different_masks():
    m = _model(rate=0.5)
    X = np.repeat(_X(1), 2500, axis=0)  # three chunks of 1024 rows
    out = m.predict(X, mc_samples=1)
    assert not np.array_equal(out[0], out[1])
    assert not np.array_equal(out[0], out[1024])
    assert not np.array_equal(out[5], out[2048 + 5])


@pytest.mark.parametrize("bn", [False, True])
def test_bitwise_over_threads_and_isas(bn, restore_runtime):
    m = _model(rate=0.4, bn=bn)
    X = _X(2100)
    m.fit(X, X[:, :2], epochs=1, batch_size=64, verbose=0)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for threads in (1, 2, 3):
            core.set_num_threads(threads)
            mean, std = m.predict(X, mc_samples=3, seed=9, return_std=True)
            res[(isa, threads)] = np.concatenate([mean, std])
    base = next(iter(res.values()))
    assert base[2100:].any()
    for key, r in res.items():
        assert np.array_equal(r.view(np.uint32), base.view(np.uint32)), key


def test_training_forward_draws_a_new_mask_per_call():
    m = _model(rate=0.5)
    X = _X(64)
    a = m.forward(X, training=True)
    b = m.forward(X, training=True)
    assert not np.array_equal(a, b)
    # an explicit step repeats draw 0 of that step: the first forward after a step
    np.testing.assert_array_equal(m.forward(X, training=True, step=0), a)
    np.testing.assert_array_equal(m.forward(X, training=True, step=0), a)
    assert not np.array_equal(m.forward(X, training=True, step=1), a)
    # train_step uses draw 0 of the current step; after it, the count of draws restarts
    m2 = _model(rate=0.5)
    y = X[:, :2]
    m2.forward(X, training=True)
    m2.forward(X, training=True)
    m2.train_step(X, y)
    m3 = _model(rate=0.5)
    m3.train_step(X, y)
    assert np.array_equal(m2.engine.core.params_array(), m3.engine.core.params_array())
    np.testing.assert_array_equal(m2.forward(X, training=True), m3.forward(X, training=True))


def test_user_loop_with_one_forward_per_step_matches_train_step():
    X, y = _X(64), _X(64, seed=1)[:, :2]
    a, b = _model(rate=0.5), _model(rate=0.5)
    for _ in range(3):
        a.train_step(X, y)
        out = b.forward(X, training=True)
        _, grad = b.loss_fn(out, y)
        b.zero_grad()
        b.backward(grad)
        b.optimizer.step()
    assert np.array_equal(a.engine.core.params_array(), b.engine.core.params_array())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"mc_samples": 0}, "mc_samples"),
        ({"mc_samples": 2.5}, "mc_samples"),
        ({"mc_samples": True}, "mc_samples"),
        ({"mc_samples": 3, "fold_batchnorm": True}, "fold_batchnorm"),
        ({"mc_samples": 3, "seed": -1}, "seed"),
        ({"seed": 1}, "mc_samples"),
        ({"return_std": True}, "mc_samples"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _model().predict(_X(5), **kwargs)


def test_bad_step():
    with pytest.raises(ValueError, match="step"):
        _model().forward(_X(5), training=True, step=-1)
