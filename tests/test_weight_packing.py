"""The packed copy of a Dense weight: the optimizer step repacks it as it writes the weight (so the
training forward reads it without packing again), and predict reuses it while nothing wrote the
weight. Both must give exactly what packing the current weight would give."""

from __future__ import annotations

import numpy as np

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
