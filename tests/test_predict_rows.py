"""predict's folded path over a batch (cpp/src/inference_rows.cpp, gemm/gemv_packed.cpp): row
blocks run through all layers, one team per call with whole blocks per thread, and a batch-1 GEMV
that alternates its direction. Checks: a float64 numpy reference on odd sizes, the same bits
whatever the batch split, the thread count or the GEMV's direction, and no allocation or re-plan
once a batch size has been seen."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

SIZES = [1, 7, 33, 1000]


def _odd_model(width: int, seed: int = 0):
    m = nc.Sequential(
        [nc.Dense(33, "tanh"), nc.Dense(7, "relu"), nc.Dense(1000, "relu"), nc.Dense(3)],
        input_dim=width,
        seed=seed,
    )
    m.compile(loss="mse")
    m.build()
    return m


def _reference(model, X):
    """The plain float64 forward of a Dense stack (no BatchNorm, so nothing is folded)."""
    h = X.astype(np.float64)
    params = model.parameters()
    acts = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}
    for i, layer in enumerate(model.layers):
        W = params[f"{i}.weight"].astype(np.float64)
        b = params[f"{i}.bias"].astype(np.float64)
        h = acts[layer.activation or "linear"](h @ W.T + b)
    return h


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize("width", SIZES)
def test_predict_matches_float64_reference_on_odd_sizes(isa, threads, rows, width):
    model = _odd_model(width)
    X = np.random.default_rng(rows + width).standard_normal((rows, width)).astype(np.float32)
    out = model.predict(X)
    ref = _reference(model, X)
    np.testing.assert_allclose(out, ref, rtol=2e-4, atol=2e-5 * max(1.0, np.abs(ref).max()))


def test_same_bits_for_any_split_thread_count_and_direction(isa):
    model = _odd_model(33, seed=3)
    X = np.random.default_rng(7).standard_normal((1000, 33)).astype(np.float32)
    nc.set_num_threads(1)
    whole = model.predict(X)
    try:
        for t in (1, 2, 3):
            nc.set_num_threads(t)
            np.testing.assert_array_equal(model.predict(X), whole)
            for i0, n in ((0, 1), (999, 1), (5, 7), (100, 33), (0, 513), (487, 513)):
                np.testing.assert_array_equal(model.predict(X[i0 : i0 + n]), whole[i0 : i0 + n])
            # batch 1 alternates its GEMV's direction call by call: both give the same bits
            for _ in range(3):
                np.testing.assert_array_equal(model.predict(X[17:18]), whole[17:18])
    finally:
        nc.set_num_threads(0)


def test_folded_bench_model_same_bits_over_threads(isa):
    m = nc.Sequential(
        [nc.Dense(64), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.2), nc.Dense(10)],
        input_dim=50,
        seed=1,
    )
    m.compile(loss="cross_entropy")
    rng = np.random.default_rng(2)
    X = rng.standard_normal((700, 50)).astype(np.float32)
    m.fit(X, rng.integers(0, 10, 700), epochs=1, batch_size=100, verbose=0)
    assert m.engine.core.can_fold
    try:
        nc.set_num_threads(1)
        ref = m.predict(X)
        for t in (2, 3):
            nc.set_num_threads(t)
            np.testing.assert_array_equal(m.predict(X), ref)
    finally:
        nc.set_num_threads(0)


def test_repeated_predicts_allocate_and_plan_nothing(threads):
    model = _odd_model(33, seed=5)
    X = np.random.default_rng(9).standard_normal((1000, 33)).astype(np.float32)
    core = model.engine.core
    for n in SIZES:  # warm-up: every batch size once
        model.predict(X[:n])
    allocations, prepares = core.eval_allocations, core.eval_prepares
    assert allocations > 0  # the warm-up sized the workspace: the counter counts
    for n in [1000, 1, 33, 7, 1, 1000, 33] * 2:
        model.predict(X[:n])
    assert core.eval_allocations == allocations
    assert core.eval_prepares == prepares
