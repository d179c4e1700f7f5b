"""Multi-label metrics and the task check: exact-match and per-label accuracy, hamming loss,
micro/macro F1 and per-label ROC AUC against scikit-learn; a metric that does not fit the
model's task (from the loss and the outputs) raises instead of computing argmax."""

import numpy as np
import pytest

import nncore as nc
from nncore import metrics


def _ml(n=200, k=4, seed=0):
    rng = np.random.default_rng(seed)
    t = (rng.uniform(size=(n, k)) < 0.35).astype(np.float32)
    p = np.clip(t * 0.6 + rng.uniform(size=(n, k)) * 0.5, 0, 1)
    return t, p


def test_against_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    t, p = _ml()
    q = (p > 0.5).astype(int)
    assert metrics.subset_accuracy(t, p) == pytest.approx(sk.accuracy_score(t, q))
    assert metrics.hamming_loss(t, p) == pytest.approx(sk.hamming_loss(t, q))
    assert metrics.binary_accuracy(t, p) == pytest.approx(1 - sk.hamming_loss(t, q))
    for avg in ("micro", "macro"):
        assert metrics.multilabel_f1(t, p, avg) == pytest.approx(
            sk.f1_score(t, q, average=avg, zero_division=0)
        )
    assert metrics.roc_auc_per_label(t, p) == pytest.approx(sk.roc_auc_score(t, p))
    np.testing.assert_allclose(
        metrics.roc_auc_per_label(t, p, average=None), sk.roc_auc_score(t, p, average=None)
    )


def test_small_known_values():
    t = [[1, 0, 1], [0, 1, 0]]
    p = [[0.9, 0.6, 0.7], [0.1, 0.8, 0.2]]
    assert metrics.subset_accuracy(t, p) == 0.5
    assert metrics.binary_accuracy(t, p) == pytest.approx(5 / 6)
    assert metrics.hamming_loss(t, p) == pytest.approx(1 / 6)
    assert metrics.multilabel_f1(t, p, "micro") == pytest.approx(2 * 3 / (2 * 3 + 1))


def test_argmax_accuracy_on_multilabel_rows_raises():
    t, p = _ml()
    with pytest.raises(ValueError, match="multi-label"):
        metrics.accuracy(t, p)
    with pytest.raises(ValueError, match="multi-label"):
        metrics.f1(t, p)
    # one-hot rows and class probabilities are still argmax-ed
    assert metrics.accuracy(np.eye(3)[[0, 1, 2]], [[0.8, 0.1, 0.1]] * 3) == pytest.approx(1 / 3)
    assert metrics.accuracy([[0.7, 0.3], [0.2, 0.8]], [[0.6, 0.4], [0.3, 0.7]]) == 1.0


def test_model_picks_the_metrics_from_the_task():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)).astype(np.float32)
    y = (X[:, :3] + 0.3 * rng.standard_normal((300, 3)) > 0).astype(np.float32)
    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(3)], input_dim=5, seed=0)
    with pytest.raises(ValueError, match="subset_accuracy"):
        m.compile(loss="binary_cross_entropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="multi-label"):
        m.compile(loss="binary_cross_entropy", metrics=["precision"])
    names = ["subset_accuracy", "binary_accuracy", "hamming_loss", "f1_micro", "f1", "roc_auc"]
    m.compile(optimizer=nc.optim.Adam(lr=0.01), loss="binary_cross_entropy", metrics=names)
    m.fit(X, y, epochs=20, batch_size=32, verbose=0)
    r = m.evaluate(X, y)
    p = m.predict(X)
    assert r["subset_accuracy"] == metrics.subset_accuracy(y, p)
    assert r["f1"] == metrics.multilabel_f1(y, p, "macro")
    assert r["roc_auc"] == metrics.roc_auc_per_label(y, p)
    assert r["binary_accuracy"] > 0.85 and r["hamming_loss"] == pytest.approx(
        1 - r["binary_accuracy"]
    )
    # the per-label accuracy is high while argmax "accuracy" would have been meaningless
    assert r["binary_accuracy"] > r["subset_accuracy"]


@pytest.mark.parametrize(
    "loss,units,metric,match",
    [
        ("mse", 2, "accuracy", "classification metric"),
        ("mse", 2, "roc_auc", "classification metric"),
        ("cross_entropy", 3, "hamming_loss", "multi-label"),
        ("cross_entropy", 3, "subset_accuracy", "multi-label"),
        ("mse", 2, "neg_log_loss", "classification metric"),
        ("binary_focal", 3, "acc", "ambiguous"),
    ],
)
def test_metric_that_does_not_fit_raises(loss, units, metric, match):
    m = nc.Sequential([nc.Dense(units)], input_dim=2)
    with pytest.raises(ValueError, match=match):
        m.compile(loss=loss, metrics=[metric])


def test_binary_task_accepts_both_kinds():
    m = nc.Sequential([nc.Dense(1)], input_dim=2)
    m.compile(loss="binary_cross_entropy", metrics=["accuracy", "binary_accuracy", "f1"])
    X = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32)
    r = m.evaluate(X, y)
    assert r["accuracy"] == r["binary_accuracy"]


def test_roc_auc_single_class_label_raises():
    with pytest.raises(ValueError, match=r"columns \[1\]"):
        metrics.roc_auc_per_label([[1, 0], [0, 0]], [[0.3, 0.2], [0.1, 0.4]])
    with pytest.raises(ValueError, match="indicator"):
        metrics.hamming_loss([[2, 0]], [[0.3, 0.2]])
