"""Small-batch training steps prove their gradients finite from bounds on the operands
(cpp/include/nncore/finite_bound.h) instead of reading them before the update: the proof must never
let a non-finite step through, and must not change a bit of what is trained."""

import numpy as np
import pytest

import nncore as nc

core = nc._core


def _wide(optimizer, seed=0):
    # 64 -> 200 -> 64 at batch 8: n·(in + out) is at most a quarter of in·out, so both Dense
    # layers prove their gradients finite, and on one thread the steps whose norm is not reported
    # leave the weight gradients to the update, in pieces of 96 units (three for the 200).
    m = nc.Sequential([nc.Dense(200, activation="relu"), nc.Dense(64)], input_dim=64, seed=seed)
    m.compile(optimizer=optimizer, loss="mse")
    return m


def _data(n=64, seed=1):
    r = np.random.default_rng(seed)
    X = r.standard_normal((n, 64)).astype(np.float32)
    return X, (X[:, :64] * 0.5).astype(np.float32)


def test_an_overflowing_weight_gradient_from_finite_operands_is_still_skipped(isa, threads):
    """dz and x finite, dW = dzᵀ·x beyond float32: the bound refuses, the scan finds inf."""
    X, t = _data()
    X[:, 3] = 1e30  # y ~ 1e29, dY ~ 1e27, dW ~ 1e58
    m = _wide(nc.optim.Adam())
    before = m.get_weights()
    with pytest.warns(RuntimeWarning, match=r"^8 of 8 optimizer steps in this fit were skipped"):
        h = m.fit(X, t, epochs=1, batch_size=8)
    assert h.history["nonfinite_steps"] == [8]
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


def test_a_layer_that_cannot_prove_is_scanned(isa, threads):
    """The first layer proves its gradients finite; the narrow last one does not try (its
    operands are larger than its weights), and its overflowing gradient must be found."""
    X, t = _data()
    m = nc.Sequential([nc.Dense(64, activation="relu"), nc.Dense(4)], input_dim=64, seed=0)
    m.compile(optimizer=nc.optim.Adam(), loss="mse")
    w = m.get_weights()
    w[0][0] = 1e20  # one hidden unit ~1e21: dY ~1e19 stays finite, dW of the last layer ~1e41
    m.set_weights(w)
    with pytest.warns(RuntimeWarning, match=r"^8 of 8 optimizer steps in this fit were skipped"):
        m.fit(X, t[:, :4], epochs=1, batch_size=8)
    assert all(np.array_equal(a, b) for a, b in zip(w, m.get_weights()))


def test_only_the_overflowing_batch_is_skipped(isa, threads):
    X, t = _data()
    X[16:24, 3] = 1e30  # the third batch of eight overflows its weight gradient
    m = _wide(nc.optim.Adam())
    ref = _wide(nc.optim.Adam())
    with pytest.warns(RuntimeWarning, match=r"^1 of 8 optimizer steps"):
        h = m.fit(X, t, epochs=1, batch_size=8, shuffle=False)
    assert h.history["nonfinite_steps"] == [1]
    keep = np.r_[0:16, 24:64]  # the same steps without the skipped batch
    ref.fit(X[keep], t[keep], epochs=1, batch_size=8, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(ref.get_weights(), m.get_weights()))


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_proven_steps_train_the_bits_of_the_checked_ones(name, isa, threads):
    """The same weights with the proof and the update in pieces (skip_nonfinite, default), without
    any check (skip_nonfinite=0: the whole-arena update), and with the full pre-pass (a clipnorm
    too large to clip)."""
    X, t = _data(n=200)
    cls = {"adam": nc.optim.Adam, "sgd": nc.optim.SGD, "rmsprop": nc.optim.RMSprop}[name]
    got, norms = [], []
    for kw in ({}, {"skip_nonfinite": False}, {"clipnorm": 1e30}):
        m = _wide(cls(lr=1e-2, **kw))
        h = m.fit(X, t, epochs=2, batch_size=8, shuffle=False)
        assert "nonfinite_steps" not in h.history  # recorded only when a step was skipped
        got.append(m.get_weights())
        norms.append(h.history["grad_norm"])  # each epoch's last step: summed on every path
    for other in got[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(got[0], other))
    assert norms[0] == norms[1] == norms[2] and min(norms[0]) > 0


def test_the_epochs_last_norm_is_reported_when_its_last_batch_is_dropped():
    """Steps skip summing the gradient norm except the epoch's last, which with batch norm and a
    last batch of one row is the one before it."""
    X, t = _data(n=8 * 9 + 1)
    norms = []
    for opt in (nc.optim.Adam(), nc.optim.Adam(clipnorm=1e30)):  # the latter sums every step's
        m = nc.Sequential(
            [nc.Dense(64), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(64)],
            input_dim=64,
            seed=0,
        )
        m.compile(optimizer=opt, loss="mse")
        norms.append(m.fit(X, t, epochs=2, batch_size=8, shuffle=False).history["grad_norm"])
    assert norms[0] == norms[1] and len(norms[0]) == 2 and min(norms[0]) > 0


def test_a_step_that_falls_back_writes_the_deferred_gradients_first(isa, threads):
    """The first layer proves and defers its weight gradient; the l2-penalised second is most of
    the arena, so the network leaves the check to the optimizer's pre-pass and the whole-arena
    update, which must then see the deferred gradient written."""
    X, t = _data(n=96)
    got = []
    for kw in ({}, {"skip_nonfinite": False}):
        m = nc.Sequential(
            [nc.Dense(64, activation="relu"), nc.Dense(200, l2=1e-3)], input_dim=64, seed=0
        )
        m.compile(optimizer=nc.optim.Adam(lr=1e-2, **kw), loss="mse")
        m.fit(X, np.tile(t, (1, 4))[:, :200], epochs=2, batch_size=8, shuffle=False)
        got.append(m.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*got))


def test_dense_layers_inside_a_residual_block_train_the_checked_bits(isa, threads):
    """A block's children get the backward's context too: they must not prove or defer there
    (the network asks only its own layers for their gradients)."""
    X, t = _data(n=96)
    got = []
    for kw in ({}, {"skip_nonfinite": False}):
        m = nc.Sequential(
            [nc.Dense(200, activation="relu"), nc.Residual([nc.Dense(200, "relu"), nc.Dense(200)])]
            + [nc.Dense(64)],
            input_dim=64,
            seed=0,
        )
        m.compile(optimizer=nc.optim.Adam(lr=1e-2, **kw), loss="mse")
        m.fit(X, t, epochs=2, batch_size=8, shuffle=False)
        got.append(m.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*got))


def test_one_thread_in_pieces_trains_the_bits_of_three_in_the_arena(isa, restore_runtime):
    """One thread defers the weight gradients to the update; more threads do not: same weights."""
    X, t = _data(n=200)
    got = []
    for n_threads in (1, 3):
        nc.set_num_threads(n_threads)
        m = _wide(nc.optim.Adam(lr=1e-2))
        m.fit(X, t, epochs=2, batch_size=8)
        got.append(m.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*got))


# From 64 batch rows a Dense whose bound does not hold (or does not pay: 64·(64 + 200) is more
# than a quarter of 64·200) has its weight-gradient product check dW strip by strip, and scans
# its bias gradient, in place of the optimizer's pass over the gradients
# (bench/results/issue33.md#finite-in-epilogue).


def test_an_overflow_found_by_the_product_skips_the_step(isa, threads):
    """Batch 64: dW = dzᵀ·x beyond float32 from finite operands, in one batch of four."""
    X, t = _data(n=256)
    X[128:192, 3] = 1e30
    m = _wide(nc.optim.Adam())
    ref = _wide(nc.optim.Adam())
    with pytest.warns(RuntimeWarning, match=r"^1 of 4 optimizer steps"):
        h = m.fit(X, t, epochs=1, batch_size=64, shuffle=False)
    assert h.history["nonfinite_steps"] == [1]
    keep = np.r_[0:128, 192:256]
    ref.fit(X[keep], t[keep], epochs=1, batch_size=64, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(ref.get_weights(), m.get_weights()))


def test_a_bias_gradient_overflow_alone_skips_the_step(isa, threads):
    """x = 0 leaves the first layer's dW at zero while its db, a sum of 64 rows of dz ~4e37, is
    beyond float32: the bias scan must find what the product's check cannot."""
    X = np.zeros((64, 64), np.float32)
    t = np.full((64, 64), -1e36, np.float32)
    m = _wide(nc.optim.SGD(lr=1e-30))
    w = m.get_weights()
    w[1][:] = 1.0  # every hidden unit active (relu(0·W + 1) = 1)
    w[2][:] = 1e4
    m.set_weights(w)
    with pytest.warns(RuntimeWarning, match=r"^1 of 1 optimizer steps"):
        m.fit(X, t, epochs=1, batch_size=64, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(w, m.get_weights()))


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_steps_checked_by_the_product_train_the_bits_of_the_others(name, isa, threads):
    X, t = _data(n=320)
    cls = {"adam": nc.optim.Adam, "sgd": nc.optim.SGD}[name]
    got, norms = [], []
    for kw in ({}, {"skip_nonfinite": False}, {"clipnorm": 1e30}):
        m = _wide(cls(lr=1e-2, **kw))
        h = m.fit(X, t, epochs=2, batch_size=64, shuffle=False)
        assert "nonfinite_steps" not in h.history
        got.append(m.get_weights())
        norms.append(h.history["grad_norm"])
    for other in got[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(got[0], other))
    assert norms[0] == norms[1] == norms[2] and min(norms[0]) > 0
