"""The packed copy of a Dense weight: the optimizer step repacks it as it writes the weight (so the
training forward reads it without packing again), and predict reuses it while nothing wrote the
weight. Both must give exactly what packing the current weight would give."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc


def _data(n=300, d=300, k=7):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, :k] @ rng.normal(size=(k, k))).argmax(axis=1).astype(np.int64)
    return X, y


def _trained(max_norm):
    # 300 inputs x 100 units: 3 slivers of 48 (AVX-512) or 7 of 16 (AVX2) output units, and a
    # 16384-float optimizer chunk ends inside a sliver, so slivers are finished by two chunks
    # (and, on 2 threads, by two cores).
    X, y = _data()
    model = nc.Sequential(
        [nc.Dense(100, "relu", max_norm=max_norm), nc.Dense(60, max_norm=max_norm), nc.Dense(7)],
        input_dim=X.shape[1],
        seed=1,
    )
    model.compile(optimizer=nc.optim.Adam(lr=1e-2), loss="cross_entropy")
    model.fit(X, y, epochs=2, batch_size=32, shuffle=True, verbose=0)
    return model


def test_step_packed_weights_train_like_a_fresh_pack(threads, isa):
    # A max-norm far above any row's norm changes no weight but makes every forward pack W itself
    # (the constraint rewrites W after the step): the oracle for the step-packed path.
    fused = _trained(None)
    repacked = _trained(1e30)
    for name, p in fused.parameters().items():
        np.testing.assert_array_equal(p, repacked.parameters()[name], err_msg=name)


def _held_views_model(units=512, inputs=784):
    # 784 x 512 weights: a parameter arena of 1.6 MB, which owns its pages (watched).
    model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(10)], input_dim=inputs, seed=0)
    X = np.random.default_rng(0).normal(size=(32, inputs)).astype(np.float32)
    return model, X


def test_held_views_reuse_the_packed_weights_until_written():
    model, X = _held_views_model()
    before = model.predict(X)
    params = model.parameters()
    model.predict(X)  # the first call after parameters() re-packs: a write may have come
    prepares = model.engine.core.eval_prepares
    for _ in range(3):
        np.testing.assert_array_equal(model.predict(X), before)
    assert model.engine.core.eval_prepares == prepares  # nothing written: nothing re-packed
    params["1.bias"][:] += 1.0
    np.testing.assert_allclose(model.predict(X), before + 1.0, rtol=1e-6)
    assert model.engine.core.eval_prepares == prepares + 1
    model.predict(X)
    assert model.engine.core.eval_prepares == prepares + 1


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p["0.weight"].__setitem__((0, slice(None)), 0.5),
        lambda p: np.multiply(p["0.weight"], 2.0, out=p["0.weight"]),
        lambda p: np.copyto(p["0.weight"].reshape(-1)[:1000], 0.25),
        lambda p: np.asarray(p["0.bias"]).fill(3.0),
    ],
    ids=["setitem", "ufunc-out", "copyto-derived-view", "asarray-fill"],
)
def test_every_kind_of_write_through_held_views_takes_effect(write):
    model, X = _held_views_model()
    params = model.parameters()
    model.predict(X)
    write(params)
    fresh = nc.Sequential([nc.Dense(512, "relu"), nc.Dense(10)], input_dim=784, seed=0)
    fresh.build()
    fresh.set_weights([v.copy() for v in params.values()])
    np.testing.assert_array_equal(model.predict(X), fresh.predict(X))


def test_training_with_held_views_matches_training_without():
    X, y = _data(n=256, d=784)
    models = []
    for hold in (True, False):
        model = nc.Sequential([nc.Dense(512, "relu"), nc.Dense(7)], input_dim=784, seed=2)
        model.compile(optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy")
        held = model.parameters() if hold else None
        model.predict(X)  # arms the watch when views are held
        model.fit(X, y, epochs=1, batch_size=64, verbose=0)  # the optimizer writes the arena
        models.append((model, held))
    (watched, held), (plain, _) = models
    np.testing.assert_array_equal(watched.predict(X), plain.predict(X))
    np.testing.assert_array_equal(held["0.weight"], plain.parameters()["0.weight"])


def test_small_models_with_held_views_stay_correct():
    # An arena under 1 MiB shares its pages: not watched, re-packed on every call instead.
    model, X = _held_views_model(units=16, inputs=20)
    params = model.parameters()
    model.predict(X)
    params["1.bias"][:] = 2.0
    out = model.predict(X)
    params["1.bias"][:] = 0.0
    np.testing.assert_allclose(model.predict(X), out - 2.0, atol=1e-5)
