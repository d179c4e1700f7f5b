"""nncore.metrics against scikit-learn on random data, edge cases included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncore import metrics


@pytest.fixture
def skm():
    """scikit-learn's metrics, the reference; the tests that need none run without it."""
    return pytest.importorskip("sklearn.metrics")


def _probs(rng, n, k):
    p = rng.dirichlet(np.ones(k), size=n)
    return p


CASES = [
    # (n, k, seed): small and imbalanced sets, two and many classes
    (50, 2, 0),
    (200, 3, 1),
    (37, 7, 2),
    (8, 4, 3),
]


@pytest.mark.parametrize("n,k,seed", CASES)
def test_label_metrics_match_sklearn(n, k, seed, skm):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = rng.integers(0, k, n)
    assert metrics.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true"
        warnings.simplefilter("ignore", UserWarning)
        expected = skm.balanced_accuracy_score(t, p)
    assert metrics.balanced_accuracy(t, p) == pytest.approx(expected)
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    for avg in ["macro", "weighted", "micro", None]:
        for ours, theirs in [
            (metrics.precision, skm.precision_score),
            (metrics.recall, skm.recall_score),
            (metrics.f1, skm.f1_score),
        ]:
            np.testing.assert_allclose(
                ours(t, p, average=avg), theirs(t, p, average=avg, zero_division=0), rtol=1e-12
            )
    if k == 2:
        for ours, theirs in [
            (metrics.precision, skm.precision_score),
            (metrics.recall, skm.recall_score),
            (metrics.f1, skm.f1_score),
        ]:
            assert ours(t, p, average="binary") == pytest.approx(
                theirs(t, p, average="binary", zero_division=0)
            )


@pytest.mark.parametrize("n,k,seed", CASES)
def test_probability_inputs(n, k, seed, skm):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    t[:k] = np.arange(k)  # every class present (roc_auc one-vs-rest needs them)
    P = _probs(rng, n, k)
    labels = P.argmax(1)
    assert metrics.accuracy(t, P) == pytest.approx(skm.accuracy_score(t, labels))
    assert metrics.f1(t, P) == pytest.approx(
        skm.f1_score(t, labels, average="macro", zero_division=0)
    )
    assert metrics.log_loss(t, P) == pytest.approx(
        skm.log_loss(t, P, labels=list(range(k))), rel=1e-9
    )
    if k == 2:
        assert metrics.roc_auc(t, P[:, 1]) == pytest.approx(skm.roc_auc_score(t, P[:, 1]))
        assert metrics.roc_auc(t, P) == pytest.approx(skm.roc_auc_score(t, P[:, 1]))
        assert metrics.log_loss(t, P[:, 1:]) == pytest.approx(skm.log_loss(t, P[:, 1]), rel=1e-9)
    else:
        assert metrics.roc_auc(t, P) == pytest.approx(
            skm.roc_auc_score(t, P, multi_class="ovr", average="macro")
        )


def test_edge_cases(skm):
    # Ties in scores, a perfect and an inverted ranking.
    t = np.array([0, 0, 1, 1, 1, 0])
    s = np.array([0.5, 0.5, 0.5, 0.9, 0.1, 0.2])
    assert metrics.roc_auc(t, s) == pytest.approx(skm.roc_auc_score(t, s))
    assert metrics.roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert metrics.roc_auc([0, 1], [0.9, 0.1]) == 0.0
    with pytest.raises(ValueError, match="one class"):
        metrics.roc_auc([1, 1, 1], [0.2, 0.3, 0.4])
    # A class never predicted: precision 0 for it, like zero_division=0.
    t, p = np.array([0, 1, 2, 2]), np.array([0, 0, 0, 0])
    for avg in ["macro", "weighted"]:
        assert metrics.precision(t, p, avg) == pytest.approx(
            skm.precision_score(t, p, average=avg, zero_division=0)
        )
        assert metrics.f1(t, p, avg) == pytest.approx(
            skm.f1_score(t, p, average=avg, zero_division=0)
        )
    # Non-contiguous and string labels for label metrics.
    t, p = np.array([3, 7, 7, 10]), np.array([3, 7, 10, 10])
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    assert metrics.balanced_accuracy(t, p) == pytest.approx(skm.balanced_accuracy_score(t, p))
    ts, ps = np.array(["a", "b", "b"]), np.array(["a", "a", "b"])
    assert metrics.f1(ts, ps) == pytest.approx(skm.f1_score(ts, ps, average="macro"))
    # Probabilities at 0 and 1 are clipped, not infinite.
    assert np.isfinite(metrics.log_loss([0, 1], [[1.0, 0.0], [1.0, 0.0]]))
    # Scores that are not probabilities are refused, not clipped into a meaningless number.
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*logits"):
        metrics.log_loss([0, 1], [[2.0, -1.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="row 1 sums to 2"):
        metrics.log_loss([0, 1], [[0.5, 0.5], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        metrics.log_loss([0, 1], [0.5, np.nan])
    # float32 softmax rows (sums 1 within ~1e-7) are fine
    P32 = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], np.float32) * np.float32(1.0000001)
    assert metrics.log_loss([2, 0], P32) == pytest.approx(-(np.log(0.7) + np.log(0.3)) / 2, 1e-6)
    with pytest.raises(ValueError, match="binary"):
        metrics.f1([0, 1, 2], [0, 1, 2], average="binary")
    with pytest.raises(ValueError, match="average"):
        metrics.f1([0, 1], [0, 1], average="bogus")
    with pytest.raises(ValueError, match="rows"):
        metrics.accuracy([0, 1], [0])


def test_regression_metrics(skm):
    rng = np.random.default_rng(5)
    for shape in [(40,), (30, 3), (1,)]:
        t = rng.normal(size=shape)
        p = t + rng.normal(size=shape) * 0.3
        assert metrics.mean_squared_error(t, p) == pytest.approx(skm.mean_squared_error(t, p))
        assert metrics.mean_absolute_error(t, p) == pytest.approx(skm.mean_absolute_error(t, p))
        if shape != (1,):
            assert metrics.r2_score(t, p) == pytest.approx(skm.r2_score(t, p))
        else:  # scikit-learn: NaN and a warning, not a number that means nothing
            with pytest.warns(RuntimeWarning, match="two samples"):
                assert np.isnan(metrics.r2_score(t, p))
            with pytest.warns(UserWarning):  # its UndefinedMetricWarning
                assert np.isnan(skm.r2_score(t, p))
    # (n, 1) predictions against (n,) targets.
    t = rng.normal(size=20)
    assert metrics.mse(t, t.reshape(-1, 1)) == 0.0
    # Constant targets: 1.0 when exact, 0.0 otherwise (force_finite).
    c = np.full(5, 2.0)
    assert metrics.r2_score(c, c) == skm.r2_score(c, c) == 1.0
    assert metrics.r2_score(c, c + 1) == skm.r2_score(c, c + 1) == 0.0


def test_get_names():
    for name in [
        "accuracy",
        "acc",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "f1_weighted",
        "log_loss",
        "roc_auc",
        "mse",
        "mae",
        "mean_squared_error",
        "mean_absolute_error",
        "r2",
        "r2_score",
    ]:
        assert callable(metrics.get(name))
    assert metrics.get(len) is len
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        metrics.get("nope")
    assert not metrics.greater_is_better("mse")
    assert not metrics.greater_is_better("log_loss")
    assert metrics.greater_is_better("accuracy")
    t = np.array([0, 1, 1, 0])
    assert metrics.get("f1_weighted")(t, t) == 1.0
