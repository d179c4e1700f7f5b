"""Every metric that ``nncore.metrics.get`` knows against its definition written out in numpy
(counts, pairs, sums), without scikit-learn: labels and probabilities, binary and multi-class,
multi-label indicators, regression. scikit-learn parity stays in test_metrics.py."""

from __future__ import annotations

import numpy as np
import pytest

from nncore import metrics

N, K = 41, 3


def _labels_data(k, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, N)
    t[:k] = np.arange(k)
    P = rng.dirichlet(np.ones(k), N)
    P[t == 0] += 0.15 * np.eye(k)[0]  # a little signal, so no score is degenerate
    P /= P.sum(1, keepdims=True)
    P[5] = P[6]  # a tie for the AUC
    return t, P


def _counts(t, p, c):
    return ((p == c) & (t == c)).sum(), ((p == c) & (t != c)).sum(), ((p != c) & (t == c)).sum()


def _prf(t, p, k):
    rows = []
    for c in range(k):
        tp, fp, fn = _counts(t, p, c)
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        rows.append((pr, rc, 2 * pr * rc / (pr + rc) if pr + rc else 0.0, (t == c).sum()))
    return np.array(rows)


def _auc(pos, s):
    sp, sn = s[pos], s[~pos]
    return np.mean([(a > b) + 0.5 * (a == b) for a in sp for b in sn])


def _expected(name, t, P, k):
    p = P.argmax(1)
    prf = _prf(t, p, k)
    support = prf[:, 3] / prf[:, 3].sum()
    binary = _prf(t, p, 2)[1] if k == 2 else None
    table = {
        "accuracy": np.mean(t == p),
        "balanced_accuracy": np.mean(prf[:, 1]),
        "precision": np.mean(prf[:, 0]),
        "recall": np.mean(prf[:, 1]),
        "f1": np.mean(prf[:, 2]),
        "precision_weighted": (prf[:, 0] * support).sum(),
        "recall_weighted": (prf[:, 1] * support).sum(),
        "f1_weighted": (prf[:, 2] * support).sum(),
        "log_loss": -np.mean(np.log(P[np.arange(len(t)), t])),
        "roc_auc": np.mean([_auc(t == c, P[:, c]) for c in range(k)])
        if k > 2
        else _auc(t == 1, P[:, 1]),
    }
    if binary is not None:
        table.update(precision_binary=binary[0], recall_binary=binary[1], f1_binary=binary[2])
    # scikit-learn's scoring names: micro averages pool every class's counts (single-label:
    # all equal the accuracy), errors are negated
    table.update(
        precision_macro=table["precision"], recall_macro=table["recall"], f1_macro=table["f1"],
        precision_micro=np.mean(t == p), recall_micro=np.mean(t == p), f1_micro=np.mean(t == p),
        neg_log_loss=-table["log_loss"],
    )  # fmt: skip
    return table[name]


LABEL_METRICS = [
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "precision_weighted",
    "recall_weighted", "f1_weighted", "log_loss", "roc_auc", "precision_macro", "recall_macro",
    "f1_macro", "precision_micro", "recall_micro", "f1_micro", "neg_log_loss",
]  # fmt: skip


@pytest.mark.parametrize(
    "name,k",
    [(m, k) for m in LABEL_METRICS for k in (2, K)]
    + [(m, 2) for m in ("precision_binary", "recall_binary", "f1_binary")],
)
def test_label_metrics_match_their_definition(name, k):
    t, P = _labels_data(k)
    assert metrics.get(name)(t, P) == pytest.approx(_expected(name, t, P, k), rel=1e-12)
    task = "multiclass" if k > 2 else "binary"
    if name != "roc_auc" or k > 2:  # a binary task's roc_auc takes the class-1 column
        want = _expected(name, t, P, k)
        assert metrics.for_task(name, task)(t, P) == pytest.approx(want, rel=1e-12)
    assert metrics.greater_is_better(name) == (name != "log_loss")


def test_confusion_matrix_counts_every_pair():
    t, P = _labels_data(K)
    p = P.argmax(1)
    want = np.array([[np.sum((t == i) & (p == j)) for j in range(K)] for i in range(K)])
    np.testing.assert_array_equal(metrics.confusion_matrix(t, P), want)


@pytest.mark.parametrize("labels", [[2, 1, 0], [1, 0], [2, 0, 7], [7], ["c", "a"]])
def test_confusion_matrix_follows_the_given_label_order(labels):
    t, P = _labels_data(K)
    p = P.argmax(1)
    if isinstance(labels[0], str):  # string classes, given unsorted
        t, p = np.array(["a", "b", "c"])[t], np.array(["a", "b", "c"])[p]
    want = np.array([[np.sum((t == i) & (p == j)) for j in labels] for i in labels])
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p, labels=labels), want)


@pytest.mark.parametrize("labels, match", [([], "at least one"), ([1, 1], "repeated")])
def test_confusion_matrix_refuses_empty_or_repeated_labels(labels, match):
    with pytest.raises(ValueError, match=match):
        metrics.confusion_matrix([0, 1], [1, 1], labels=labels)


@pytest.mark.parametrize("name", ["mse", "mae", "r2"])
def test_regression_metrics_pair_rows_or_refuse(name):
    t = np.arange(10.0).reshape(5, 2)
    f = metrics.get(name)
    for bad in (t.T, t.ravel(), t[:, :1]):  # a transposed prediction used to be reshaped
        with pytest.raises(ValueError, match=r"y_true has shape \(5, 2\) but y_pred has shape"):
            f(t, bad)
    col = np.array([1.0, 2.0, 4.0, 7.0])
    assert f(col, col[:, None] + 0.5) == f(col, col + 0.5) == f(col[:, None], col + 0.5)


def test_regression_metrics_match_their_definition():
    rng = np.random.default_rng(3)
    t = rng.normal(size=(N, 2))
    p = t + rng.normal(scale=0.5, size=(N, 2))
    d = p - t
    assert metrics.get("mse")(t, p) == pytest.approx(np.mean(d**2), rel=1e-12)
    assert metrics.get("mae")(t, p) == pytest.approx(np.mean(np.abs(d)), rel=1e-12)
    r2 = np.mean(1 - (d**2).sum(0) / ((t - t.mean(0)) ** 2).sum(0))  # per output, averaged
    assert metrics.get("r2")(t, p) == pytest.approx(r2, rel=1e-12)
    for name, want in [
        ("neg_mean_squared_error", -np.mean(d**2)),
        ("neg_mean_absolute_error", -np.mean(np.abs(d))),
        ("neg_root_mean_squared_error", -np.sqrt(np.mean(d**2))),
    ]:
        assert metrics.get(name)(t, p) == pytest.approx(want, rel=1e-12)
        assert metrics.for_task(name, "regression")(t, p) == pytest.approx(want, rel=1e-12)
        assert metrics.greater_is_better(name)
    t1, p1 = t[:, 0], p[:, 0]
    r2_1 = 1 - ((p1 - t1) ** 2).sum() / ((t1 - t1.mean()) ** 2).sum()
    assert metrics.get("r2_score")(t1, p1) == pytest.approx(r2_1, rel=1e-12)


def test_multilabel_metrics_match_their_definition():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, (N, 4))
    t[0], t[1] = 0, 1  # every column holds both classes
    S = np.clip(t * 0.3 + rng.uniform(0, 0.7, t.shape), 0, 1)
    q = S > 0.5
    tb = t.astype(bool)
    assert metrics.get("subset_accuracy")(t, S) == pytest.approx(np.mean((tb == q).all(1)))
    assert metrics.get("binary_accuracy")(t, S) == pytest.approx(np.mean(tb == q))
    assert metrics.get("hamming_loss")(t, S) == pytest.approx(np.mean(tb != q))
    tp, fp, fn = (tb & q).sum(0), (~tb & q).sum(0), (tb & ~q).sum(0)
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    macro = np.mean(
        [2 * a / (2 * a + b + c) if 2 * a + b + c else 0 for a, b, c in zip(tp, fp, fn)]
    )
    assert metrics.get("f1_micro")(t, S) == pytest.approx(micro, rel=1e-12)
    assert metrics.get("f1_macro")(t, S) == pytest.approx(macro, rel=1e-12)
    auc = np.mean([_auc(tb[:, j], S[:, j]) for j in range(4)])
    assert metrics.get("roc_auc_per_label")(t, S) == pytest.approx(auc, rel=1e-12)


def test_every_named_metric_is_checked_here():
    here = set(LABEL_METRICS) | {"precision_binary", "recall_binary", "f1_binary"}
    here |= {"mse", "mae", "r2", "r2_score", "subset_accuracy", "binary_accuracy"}
    here |= {"hamming_loss", "f1_micro", "f1_macro", "roc_auc_per_label"}
    here |= {"neg_mean_squared_error", "neg_mean_absolute_error", "neg_root_mean_squared_error"}
    aliases = {"acc", "mean_squared_error", "mean_absolute_error"}
    assert set(metrics.names()) - aliases <= here, set(metrics.names()) - aliases - here


def test_one_probability_column_is_thresholded_at_one_half():
    t = np.array([0, 1, 1, 0, 1])
    p = np.array([[0.2], [0.7], [0.4], [0.6], [0.51]])  # labels 0 1 0 1 1
    assert metrics.get("accuracy")(t, p) == pytest.approx(3 / 5)
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), [[1, 1], [1, 2]])
