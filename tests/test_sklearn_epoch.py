"""nncore.sklearn's stochastic solvers run a whole epoch in one C++ call (Network.train_epoch with
scikit-learn's alpha as the network's batch_l2 and Adam's raw_eps). These tests pin that path to
the batch-by-batch path it replaced (bitwise) and to scikit-learn's own update (one epoch from
the same initial weights, to float32 rounding), where alpha/n_batch, the uneven last batch and
Adam's eps form are each large enough to be seen."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn.neural_network as skn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import nncore as nc  # noqa: E402
import nncore.sklearn as ncs  # noqa: E402
from nncore.sklearn import MLPClassifier, MLPRegressor, _engine, _stochastic  # noqa: E402

rng = np.random.RandomState(0)
X = rng.rand(61, 7)
Y_MULTI = np.arange(61) % 3
Y_BIN = (X[:, 0] > 0.5).astype(int)
Y_LABELS = (rng.rand(61, 3) > 0.5).astype(int)
Y_REG = X @ rng.randn(7, 2)
Y_POIS = rng.poisson(2.0, (61, 2)).astype(float)

CASES = [
    ("MLPClassifier", Y_MULTI, dict(solver="adam", alpha=0.3)),
    ("MLPClassifier", Y_BIN, dict(solver="sgd", learning_rate="invscaling", alpha=0.1)),
    ("MLPClassifier", Y_LABELS, dict(solver="sgd", momentum=0.5, nesterovs_momentum=False)),
    ("MLPClassifier", Y_MULTI, dict(solver="adam", early_stopping=True, n_iter_no_change=2)),
    (
        "MLPClassifier",
        Y_MULTI,
        dict(solver="sgd", learning_rate="adaptive", tol=0.5, n_iter_no_change=1, shuffle=False),
    ),
    ("MLPRegressor", Y_REG, dict(solver="adam", alpha=1.0, batch_size=16)),
    ("MLPRegressor", Y_POIS, dict(solver="sgd", loss="poisson", learning_rate_init=0.01)),
    ("MLPRegressor", Y_REG[:, 0], dict(solver="adamw", l2=1e-2, batch_size=9)),
]


def _fit(cls_name, y, kw):
    est = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}[cls_name](
        hidden_layer_sizes=(9, 5),
        max_iter=6,
        random_state=1,
        batch_size=kw.pop("batch_size", 10),
        **kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("cls_name, y, kw", CASES)
def test_one_call_per_epoch_equals_the_batch_by_batch_path(cls_name, y, kw, monkeypatch):
    """Same weights bit for bit, same loss curve, stopping and validation scores: the C++ epoch
    takes the batches, their order and scikit-learn's scaling exactly as the Python loop did."""
    calls = []
    real = _stochastic._core_epoch
    monkeypatch.setattr(_stochastic, "_core_epoch", lambda *a: calls.append(1) or real(*a))
    fast = _fit(cls_name, y, dict(kw))
    assert calls, "the dense, unweighted fit did not take the one-call-per-epoch path"
    monkeypatch.setattr(_engine.Engine, "can_train_epoch", staticmethod(lambda X, sw: False))
    slow = _fit(cls_name, y, dict(kw))
    assert len(calls) == fast.n_iter_, "the per-batch fit took the one-call-per-epoch path"
    assert fast.n_iter_ == slow.n_iter_ and fast.t_ == slow.t_
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_array_equal(a, b)
    # the epoch's loss is summed in another order (float64): equal to rounding
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-13)
    assert fast.validation_scores_ == slow.validation_scores_
    assert fast._optimizer.learning_rate == slow._optimizer.learning_rate


@pytest.mark.parametrize(
    "kw",
    [
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.05),
        dict(solver="sgd", momentum=0.0, learning_rate_init=0.2),
        # eps of 0.05 against sqrt(v) ~ 0.01 and sqrt(1 - beta2^t) ~ 0.05 in the first steps:
        # torch's eps form would move the weights by a different amount.
        dict(solver="adam", learning_rate_init=0.01, epsilon=0.05),
    ],
)
@pytest.mark.parametrize("cls_name", ["MLPClassifier", "MLPRegressor"])
def test_one_epoch_equals_scikit_learns_update(cls_name, kw):
    """One epoch of 5 batches (the last of 2 rows) from scikit-learn's own initial weights, with
    alpha large enough that alpha·W/n_batch dominates the step: the weights agree with
    scikit-learn's float64 update to float32 rounding."""
    y = Y_MULTI if cls_name == "MLPClassifier" else Y_REG
    args = dict(
        hidden_layer_sizes=(6,),
        alpha=3.0,
        batch_size=12,
        max_iter=1,
        shuffle=True,
        random_state=4,
        **kw,
    )
    Xs = X[:50]  # 4 batches of 12 and a last one of 2
    ys = y[:50]
    out = []
    for mod in (skn, ncs):
        est = getattr(mod, cls_name)(**args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(Xs, ys)
        out.append(est)
    sk, ours = out
    assert ours.t_ == sk.t_ == 50
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)
    assert ours.loss_ == pytest.approx(sk.loss_, rel=1e-5)


def test_adam_raw_eps_is_scikit_learns_update():
    """nc.optim.Adam(raw_eps=True) against a float64 transcription of scikit-learn's Adam
    (eps added to sqrt(v), step lr·sqrt(1-b2^t)/(1-b1^t)), three steps; raw_eps=False keeps
    torch's form, which differs here."""
    r = np.random.RandomState(3)
    w0 = r.randn(4, 3).astype(np.float32)
    grads = [r.randn(4, 3).astype(np.float32) for _ in range(3)]
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 0.05

    def run(raw):
        model = nc.Sequential([nc.Dense(4, use_bias=False)], input_dim=3, seed=0)
        model.compile(optimizer=nc.optim.Adam(lr=lr, eps=eps, raw_eps=raw), loss="mse")
        p = model.engine.arena("params")
        p[:] = w0.ravel()
        model.engine.params_changed()
        for g in grads:
            model.engine.arena("grads")[:] = g.ravel()
            model.engine.optimizer_step()
        return model.engine.arena("params").copy()

    w, m, v = w0.astype(np.float64).ravel(), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64).ravel()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(run(True), w, rtol=1e-6, atol=1e-7)
    assert np.abs(run(False) - w).max() > 1e-3
