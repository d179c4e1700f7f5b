"""One model serving many threads (issue #18): predict, evaluate and forward(training=False) are
re-entrant and give the bits of sequential calls; training calls still refuse to overlap."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import nncore as nc


def _data(n=300, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = X[:, :k].argmax(axis=1).astype(np.int64)
    return X, y


def _trained(seed=0, d=12, k=3):
    m = nc.Sequential(
        [
            nc.Dense(48),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.2),
            nc.Dense(32, "tanh"),
            nc.Dense(k, "softmax"),
        ],
        input_dim=d,
        seed=seed,
    )
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    X, y = _data(d=d, k=k)
    m.fit(X, y, epochs=2, batch_size=32)
    return m


def _run(fns, timeout=120):
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    ts = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    return errors


@pytest.mark.parametrize("fold", [False, True])
def test_16_threads_x_200_predicts_equal_sequential(fold):
    m = _trained()
    X, _ = _data(n=64, seed=1)
    # each thread predicts its own slices (batch 1 .. 64 rows), so the pool serves varied sizes
    slices = [[slice(t % 7, t % 7 + 1 + (t * 13 + i) % 57) for i in range(200)] for t in range(16)]
    ref = {(s.start, s.stop): m.predict(X[s], fold_batchnorm=fold) for sl in slices for s in sl}
    got = [[None] * 200 for _ in range(16)]

    def worker(t):
        for i, s in enumerate(slices[t]):
            got[t][i] = m.predict(X[s], fold_batchnorm=fold)

    assert not _run([lambda t=t: worker(t) for t in range(16)])
    for t in range(16):
        for i, s in enumerate(slices[t]):
            np.testing.assert_array_equal(got[t][i], ref[(s.start, s.stop)])


def test_evaluate_and_eval_forward_from_many_threads_equal_sequential():
    m = _trained(seed=3)
    X, y = _data(n=200, seed=2)
    ref_eval = m.evaluate(X, y)
    ref_fwd = m.forward(X[:50])
    ref_pred = m.predict(X)
    out = []

    def worker(t):
        for _ in range(30):
            if t % 3 == 0:
                out.append(("e", m.evaluate(X, y)))
            elif t % 3 == 1:
                out.append(("f", m.forward(X[:50], training=False)))
            else:
                out.append(("p", m.predict(X)))

    assert not _run([lambda t=t: worker(t) for t in range(9)])
    assert len(out) == 270
    for kind, v in out:
        if kind == "e":
            assert v == ref_eval
        else:
            np.testing.assert_array_equal(v, ref_fwd if kind == "f" else ref_pred)


def test_a_training_call_during_inference_raises():
    m = _trained(seed=4, d=64)
    X, y = _data(n=20000, d=64, seed=5)
    stop = threading.Event()
    started = threading.Event()

    def reader():
        while not stop.is_set():
            started.set()
            try:
                m.predict(X)
            except RuntimeError as e:  # a predict that came during a train_step is refused too
                assert "already running" in str(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        started.wait(30)
        refused = 0
        # Tries for up to 10 s, not a fixed count: on a loaded 2-core runner the reader may not
        # be inside a predict during a few hundred fast train_steps.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                m.train_step(X[:32], y[:32])
            except RuntimeError as e:
                assert "already running a call in another thread" in str(e)
                assert "predict, evaluate and forward(training=False)" in str(e)
                refused += 1
                if refused >= 3:
                    break
        assert refused >= 3, "train_step never overlapped a predict"
        for call in (lambda: m.forward(X[:8], training=True), lambda: m.optimizer.step()):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    call()
                except RuntimeError as e:
                    assert "already running" in str(e)
                    break
            else:
                pytest.fail("a training call never overlapped a predict")
    finally:
        stop.set()
        t.join(60)
    assert not t.is_alive()


def test_predict_stays_exact_after_training_and_param_writes_between_threads():
    """The pooled readers see packed weights rebuilt after every training step and after a
    write through parameters()."""
    m = _trained(seed=6)
    X, y = _data(n=100, seed=7)
    for _ in range(3):
        m.train_step(X[:32], y[:32])
        ref = m.predict(X)
        res = []
        assert not _run([lambda res=res: res.append(m.predict(X)) for _ in range(4)])
        assert len(res) == 4
        for r in res:
            np.testing.assert_array_equal(r, ref)
    p = m.parameters()
    p["0.weight"][:] *= 0.5
    ref = m.predict(X)
    res = []
    assert not _run([lambda: res.append(m.predict(X)) for _ in range(4)])
    for r in res:
        np.testing.assert_array_equal(r, ref)
    fresh = nc.Sequential.from_config(m.get_config())
    fresh.compile(loss="cross_entropy")
    fresh.build()
    fresh.set_weights(m.get_weights())
    np.testing.assert_array_equal(fresh.predict(X), ref)


def test_backward_after_an_evaluation_forward_still_works():
    m = _trained(seed=8)
    X, _ = _data(n=16, seed=9)
    out = m.forward(X, training=False)
    dx = m.backward(np.ones_like(out))
    assert dx.shape == X.shape and np.isfinite(dx).all()


def test_parameter_views_are_watched_while_any_view_lives():
    """predict re-packs weights while a parameters() view (or any array derived from one) may
    still be written, and stops once they are all gone."""
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(3)], input_dim=5, seed=0)
    x = np.ones((2, 5), np.float32)
    p = m.parameters()
    row = p["1.bias"][1:]  # a derived view outlives the dict
    del p
    before = m.predict(x)
    row[:] = 7.0
    after = m.predict(x)
    np.testing.assert_array_equal(after[:, 0], before[:, 0])
    assert not np.array_equal(after[:, 1:], before[:, 1:])
    assert m.engine.params_exposed
    del row
    m.predict(x)
    assert not m.engine.params_exposed  # nothing can write any more: no re-pack per call
