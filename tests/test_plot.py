"""Plots render to PNG with the Agg backend (skipped without matplotlib)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nncore import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _png(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def _trained(diagnostics=True, epochs=4):
    r = np.random.default_rng(0)
    X = r.standard_normal((200, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int32)
    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(16, "tanh"), nc.Dense(2)], input_dim=2)
    m.compile(optimizer=nc.optim.SGD(lr=0.2), loss="cross_entropy", metrics=["accuracy"])
    h = m.fit(X, y, epochs=epochs, validation_split=0.25, diagnostics=diagnostics)
    return m, h, X, y


def test_learning_curves(tmp_path):
    _, h, _, _ = _trained()
    fig = plot.learning_curves(h)
    assert len(fig.axes) == 2  # loss and accuracy
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["train", "validation"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), h.history["val_loss"])
    _png(fig, tmp_path, "curves")
    fig2, ax2 = plt.subplots()
    assert plot.learning_curve(h.history, "accuracy", ax=ax2) is fig2
    with pytest.raises(ValueError, match="available"):
        plot.learning_curve(h, "auc")


def test_gradient_norms(tmp_path):
    _, h, _, _ = _trained()
    fig = plot.gradient_norms(h)
    assert len(fig.axes[0].get_lines()) == 3
    _png(fig, tmp_path, "grads")
    _png(plot.gradient_norms(h, series="dead"), tmp_path, "dead")
    _, h2, _, _ = _trained(diagnostics=False, epochs=1)
    with pytest.raises(ValueError, match="diagnostics=True"):
        plot.gradient_norms(h2)


def test_cv_scores(tmp_path):
    scores = {
        "test_accuracy": [0.9, 0.92, 0.88, 0.91],
        "train_accuracy": [0.97, 0.98, 0.96, 0.97],
        "fit_time": [0.1, 0.1, 0.1, 0.1],
    }
    fig = plot.cv_scores(scores)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "test_accuracy",
        "train_accuracy",
    ]
    _png(fig, tmp_path, "cv_box")
    _png(plot.cv_scores(scores, kind="bar"), tmp_path, "cv_bar")
    _png(plot.cv_scores([0.8, 0.85, 0.83]), tmp_path, "cv_list")
    with pytest.raises(ValueError, match="kind"):
        plot.cv_scores(scores, kind="pie")


def test_decision_boundary(tmp_path):
    m, _, X, y = _trained(diagnostics=False)
    fig = plot.decision_boundary(m, X, y, resolution=50)
    _png(fig, tmp_path, "boundary")
    r = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1, "sigmoid")], input_dim=2)
    r.compile(optimizer="sgd", loss="binary_cross_entropy")
    _png(plot.decision_boundary(r, X, resolution=30), tmp_path, "boundary_binary")
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.decision_boundary(m, np.zeros((5, 3)), resolution=10)


def test_import_error_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install nncore\[plot\]"):
        plot.cv_scores([0.5, 0.6])
