"""A loss written in Python (compile(loss=fn), fn(y_pred, y_true) -> (loss, grad)): the slower
per-batch path gives the same bits as the built-in loss when the function computes the same
numbers, keeps dropout masks, penalties and per-batch schedules, and rejects bad results."""

import numpy as np
import pytest

import nncore as nc
from nncore import _core as core


def mse_like_core(y_pred, y_true):
    """The built-in mse's arithmetic: float64 differences, gradient 2·d·(1/(n·k)) to float32."""
    d = y_pred.astype(np.float64) - y_true.astype(np.float64)
    inv = 1.0 / d.size
    return float((d * d).sum() / d.size), (2.0 * d * inv).astype(np.float32)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((203, 6)).astype(np.float32)
    y = np.tanh(X[:, :2] * 1.5 + 0.1 * rng.standard_normal((203, 2))).astype(np.float32)
    return X, y


def _model(loss, seed=4):
    m = nc.Sequential(
        [nc.Dense(24, "relu", l2=1e-3), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(2)],
        input_dim=6,
        seed=seed,
    )
    m.compile(optimizer=nc.optim.Adam(lr=0.01), loss=loss)
    return m


@pytest.mark.parametrize("per_batch_schedule", [False, True])
def test_same_bits_as_the_builtin_loss(per_batch_schedule):
    X, y = _data()
    runs = []
    for loss in ("mse", mse_like_core):
        m = _model(loss)
        sched = (
            [nc.lr_scheduler.OneCycleLR(m.optimizer, max_lr=0.05, total_steps=3 * 7)]
            if per_batch_schedule
            else None
        )
        h = m.fit(X, y, epochs=3, batch_size=32, schedulers=sched, verbose=0)
        runs.append(
            (m.engine.core.params_array().copy(), m.engine.core.buffers_array().copy(), h.history)
        )
    (p0, b0, h0), (p1, b1, h1) = runs
    assert np.array_equal(p0.view(np.uint32), p1.view(np.uint32))
    assert np.array_equal(b0.view(np.uint32), b1.view(np.uint32))
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-12)
    np.testing.assert_allclose(h1["reg_loss"], h0["reg_loss"], rtol=1e-12)


def test_train_step_evaluate_and_loss_fn():
    X, y = _data(1)
    a, b = _model("mse"), _model(mse_like_core)
    for i in range(4):
        la = a.train_step(X[i * 40 : (i + 1) * 40], y[i * 40 : (i + 1) * 40])
        lb = b.train_step(X[i * 40 : (i + 1) * 40], y[i * 40 : (i + 1) * 40])
        assert lb == pytest.approx(la, rel=1e-12)
    assert np.array_equal(a.engine.core.params_array(), b.engine.core.params_array())
    assert b.evaluate(X, y)["loss"] == pytest.approx(a.evaluate(X, y)["loss"], rel=1e-12)
    out = b.forward(X)
    lv, g = b.loss_fn(out, y)
    assert g.dtype == np.float32 and g.shape == out.shape


def test_a_loss_torch_does_not_have_trains():
    def log_cosh(y_pred, y_true):
        d = y_pred.astype(np.float64) - y_true
        return float(np.mean(np.log(np.cosh(d)))), np.tanh(d) / d.size

    X, y = _data(2)
    m = nc.Sequential([nc.Dense(16, "tanh"), nc.Dense(2)], input_dim=6, seed=0)
    m.compile(optimizer=nc.optim.Adam(lr=0.01), loss=log_cosh, metrics=["mse"])
    h = m.fit(X, y, epochs=15, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    r = m.evaluate(X, y)
    assert r["loss"] == pytest.approx(log_cosh(m.predict(X), y)[0], rel=1e-6)


def test_bitwise_over_threads(restore_threads):
    X, y = _data(3)
    res = []
    for t in (1, 2, 3):
        core.set_num_threads(t)
        m = _model(mse_like_core)
        m.fit(X, y, epochs=2, batch_size=50, verbose=0)
        res.append(m.engine.core.params_array().copy())
    for r in res[1:]:
        assert np.array_equal(r.view(np.uint32), res[0].view(np.uint32))


@pytest.fixture
def restore_threads():
    yield
    core.set_num_threads(0)


@pytest.mark.parametrize(
    "fn,match",
    [
        (lambda p, t: 1.0, r"\(loss, grad\)"),
        (lambda p, t: (1.0, np.zeros((p.shape[0], 3))), "grad has shape"),
        (lambda p, t: ("x", np.zeros_like(p)), "number"),
    ],
)
def test_bad_results(fn, match):
    X, y = _data()
    m = _model(fn)
    with pytest.raises(ValueError, match=match):
        m.fit(X, y, epochs=1, verbose=0)


def test_bad_uses(tmp_path):
    X, y = _data()
    m = _model(mse_like_core)
    with pytest.raises(ValueError, match="sample_weight"):
        m.fit(X, y, sample_weight=np.ones(len(X)), verbose=0)
    with pytest.raises(ValueError, match="loss_options"):
        m.compile(loss=mse_like_core, loss_options={"delta": 1.0})
    with pytest.raises(ValueError, match="string or a callable"):
        m.compile(loss=3)
    m.fit(X, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.nnc")  # the weights; the function is not saved
    back = nc.load(tmp_path / "m.nnc")
    assert back.loss is None
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
