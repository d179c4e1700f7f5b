"""fit on arrays against the step-by-step loop it stands for: the same batches in order
(shuffle=False), the last partial one included, give the same bits as calling train_step on
each (the streamed, MPI and Python-loss paths are compared with fit in their own tests)."""

from __future__ import annotations

import numpy as np

import nncore as nc


def _model():
    m = nc.Sequential([nc.Dense(6, "tanh"), nc.BatchNorm(), nc.Dense(2)], input_dim=4, seed=3)
    m.compile(optimizer=nc.optim.SGD(lr=0.05, momentum=0.9), loss="mse")
    return m


def _data(n=29):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, :2] * 0.5).astype(np.float32)


def _weights(m):
    return {k: v.copy() for k, v in m.parameters().items()}


def test_fit_is_train_step_over_its_batches_the_last_partial_one_included():
    X, y = _data(29)  # batches of 8: 8, 8, 8 and a last one of 5 rows
    fitted = _model()
    fitted.fit(X, y, epochs=2, batch_size=8, shuffle=False)
    stepped = _model()
    for _ in range(2):
        for i in range(0, len(X), 8):
            stepped.train_step(X[i : i + 8], y[i : i + 8])
    a, b = _weights(fitted), _weights(stepped)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    without_last = _model()
    for _ in range(2):
        for i in range(0, 24, 8):
            without_last.train_step(X[i : i + 8], y[i : i + 8])
    assert any(not np.array_equal(a[k], v) for k, v in _weights(without_last).items())
