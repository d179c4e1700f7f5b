"""Bugs 3 and 5 of issue #32: a Python loss drops a final one-row batch under BatchNorm as the
built-in losses do; BatchNorm's repr names its constructor's argument; ``from_config`` returns a
compiled model when the config holds compile settings, as its docstring says."""

from __future__ import annotations

import numpy as np

import nncore as nc


def mse(y_pred, y_true):
    """The built-in mse's arithmetic as a Python loss."""
    d = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return float((d * d).sum() / d.size), (2.0 * d / d.size).astype(np.float32)


def test_python_loss_drops_a_final_one_row_batch_with_batchnorm():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((33, 4)).astype(np.float32)  # batches of 32 and 1
    y = rng.standard_normal((33, 1)).astype(np.float32)
    runs = []
    for loss in ("mse", mse):
        m = nc.Sequential(
            [nc.Dense(8), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(1)], input_dim=4, seed=0
        )
        m.compile(optimizer=nc.optim.SGD(lr=0.1), loss=loss)
        m.fit(X, y, epochs=2, batch_size=32, shuffle=False)
        runs.append(np.concatenate([v.ravel() for v in m.parameters().values()]))
    assert np.array_equal(runs[0], runs[1])


def test_batchnorm_repr_names_its_arguments():
    bn = nc.BatchNorm(batch1_fallback=True)
    assert repr(bn) == "BatchNorm(momentum=0.1, eps=1e-05, affine=True, batch1_fallback=True)"
    assert repr(eval(repr(bn), {"BatchNorm": nc.BatchNorm})) == repr(bn)


def test_from_config_is_compiled_when_the_config_says_so():
    m = nc.Sequential([nc.Dense(3)], input_dim=2, seed=0)
    m.compile(loss="cross_entropy", metrics=["accuracy"])
    fresh = nc.Sequential.from_config(m.get_config())
    assert fresh.loss == "cross_entropy" and fresh.metrics == ["accuracy"]
    assert fresh.optimizer is not None
    X = np.zeros((4, 2), np.float32)
    fresh.fit(X, np.array([0, 1, 2, 0]), epochs=1)  # no "not compiled" error
    bare = nc.Sequential.from_config(nc.Sequential([nc.Dense(3)], input_dim=2).get_config())
    assert bare.loss is None
