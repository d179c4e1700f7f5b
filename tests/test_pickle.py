"""Pickle, deepcopy, joblib and cloudpickle of a Sequential (issue #18): the copy predicts the same
bits and goes on training bitwise like the original, optimizer state included."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest

import nncore as nc


def _data(n=240, d=10, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, X[:, :k].argmax(axis=1).astype(np.int64)


def _model(opt):
    m = nc.Sequential(
        [nc.Dense(24), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.3), nc.Dense(3)],
        input_dim=10,
        seed=11,
    )
    m.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
    return m


def _pickle(m):
    return pickle.loads(pickle.dumps(m))


def _joblib(m):
    joblib = pytest.importorskip("joblib")
    buf = io.BytesIO()
    joblib.dump(m, buf)
    buf.seek(0)
    return joblib.load(buf)


def _cloudpickle(m):
    cloudpickle = pytest.importorskip("cloudpickle")
    return pickle.loads(cloudpickle.dumps(m))


@pytest.mark.parametrize("how", [_pickle, copy.deepcopy, _joblib, _cloudpickle])
@pytest.mark.parametrize(
    "opt", [lambda: nc.optim.Adam(lr=3e-3), lambda: nc.optim.SGD(lr=0.05, momentum=0.9)]
)
def test_copy_continues_training_bitwise(how, opt):
    X, y = _data()
    a = _model(opt())
    a.fit(X, y, epochs=2, batch_size=32)
    b = how(a)
    assert b is not a and b.optimizer is not a.optimizer
    np.testing.assert_array_equal(b.predict(X), a.predict(X))
    for m in (a, b):
        m.fit(X, y, epochs=2, batch_size=32)
        m.train_step(X[:40], y[:40])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    for k in sa["state"]:
        np.testing.assert_array_equal(sa["state"][k], sb["state"][k])
    assert a.epochs_done == b.epochs_done == 4
    assert b.evaluate(X, y) == a.evaluate(X, y)


def test_copy_is_independent_of_the_original():
    X, y = _data()
    a = _model("adam")
    a.fit(X, y, epochs=1)
    b = copy.deepcopy(a)
    before = b.get_weights()
    a.fit(X, y, epochs=1)
    for w0, w1 in zip(before, b.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    b.optimizer.step()  # b's optimizer steps b's network
    assert b.optimizer._model is b


def test_unbuilt_and_uncompiled_models_pickle():
    m = nc.Sequential([nc.Dense(4, "relu"), nc.Dense(2)])
    c = _pickle(m)
    assert not c.built and repr(c) == repr(m)
    X, y = _data(d=5, k=2)
    c.compile(loss="cross_entropy")
    c.fit(X, y)
    u = nc.Sequential([nc.Dense(3)], input_dim=5, seed=2)
    np.testing.assert_array_equal(_pickle(u).predict(X), u.predict(X))


def _top1(y_true, y_pred):
    return float(np.mean(np.argmax(y_pred, axis=1) == y_true))


def test_callable_metrics_survive_pickle():
    X, y = _data()
    m = _model("adam")
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy", _top1])
    m.fit(X, y, epochs=1)
    c = _pickle(m)
    assert c.evaluate(X, y) == m.evaluate(X, y)


def test_corrupted_pickle_payload_is_a_clear_error():
    m = _model("adam")
    state = m.__getstate__()
    bad = bytearray(state["nnc"])
    bad[len(bad) // 2] ^= 0xFF
    c = nc.Sequential.__new__(nc.Sequential)
    with pytest.raises(ValueError, match="checksum"):
        c.__setstate__({"nnc": bytes(bad), "metrics": []})
