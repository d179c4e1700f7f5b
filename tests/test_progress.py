"""Progress display: plain lines for non-terminal streams, a bar on terminals (built-in and tqdm),
verbose levels."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nncore as nc
from nncore.progress import ProgressLogger


def _fit(verbose, epochs=3, **kw):
    r = np.random.default_rng(0)
    X = r.standard_normal((300, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int32)
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(2)], input_dim=5, seed=0)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="cross_entropy", metrics=["accuracy"])
    return m.fit(X, y, epochs=epochs, verbose=verbose, **kw)


def test_verbose_0_prints_nothing(capsys):
    _fit(0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize("verbose", [1, 2])
def test_plain_lines_when_not_a_terminal(capsys, verbose):
    h = _fit(verbose, validation_split=0.2, diagnostics=True)
    out = capsys.readouterr().out
    assert "\r" not in out and "\033" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Epoch {i + 1}/3 - ")
        assert f"loss: {h.history['loss'][i]:.4f}" in line
        assert f"val_accuracy: {h.history['val_accuracy'][i]:.4f}" in line
        assert "grad_norm" not in line  # diagnostics series are not printed


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def _drive(logger, batches=40, epochs=2):
    logger.on_train_begin({"epochs": epochs, "batches": batches, "samples": batches * 10})
    for e in range(epochs):
        logger.on_epoch_begin(e, {})
        for b in range(0, batches, 7):
            logger._last_draw = -1e9  # draw every call (it is rate-limited in real use)
            logger.on_batch_end(b, {"batch": b, "batches": batches, "loss": 0.5, "accuracy": 0.75})
        logger.on_epoch_end(
            e, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.6, "lr": 0.01, "time": 1.5}
        )
    logger.on_train_end({})


def test_builtin_bar_on_terminal(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    s = FakeTTY()
    _drive(ProgressLogger(1, stream=s, use_tqdm=False))
    out = s.getvalue()
    assert "\r" in out and "ETA" in out and "batch/s" in out and "loss: 0.5000" in out
    assert "Epoch 1/2 36/40 [" in out
    finals = [ln.split("\r")[-1].replace("\033[K", "") for ln in out.split("\n") if ln]
    assert finals == [
        "Epoch 1/2 - 1.5s - loss: 0.5000 - accuracy: 0.7500 - val_loss: 0.6000 - lr: 0.0100",
        "Epoch 2/2 - 1.5s - loss: 0.5000 - accuracy: 0.7500 - val_loss: 0.6000 - lr: 0.0100",
    ]


def test_tqdm_bar_on_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("TERM", raising=False)
    s = FakeTTY()
    _drive(ProgressLogger(1, stream=s, use_tqdm=True))
    out = s.getvalue()
    assert "\r" in out and "Epoch 1/2" in out and "batch" in out
    assert out.count("Epoch 2/2 - 1.5s - loss: 0.5000") == 1


def test_plain_progress_lines_for_long_epochs():
    s = io.StringIO()
    logger = ProgressLogger(1, stream=s, interval=0.0)
    _drive(logger, batches=20, epochs=1)
    lines = s.getvalue().splitlines()
    assert "\r" not in s.getvalue()
    assert lines[0].startswith("Epoch 1/1: batch 1/20 - ") and "ETA" in lines[0]
    assert lines[-1].startswith("Epoch 1/1 - 1.5s - loss")
    s = io.StringIO()
    _drive(ProgressLogger(2, stream=s, interval=0.0), batches=20, epochs=1)
    assert len(s.getvalue().splitlines()) == 1


def test_dumb_terminal_is_plain(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    s = FakeTTY()
    _drive(ProgressLogger(1, stream=s))
    assert "\r" not in s.getvalue()


def test_predict_and_evaluate_take_keras_batch_size_and_verbose(capsys):
    r = np.random.default_rng(1)
    X = r.standard_normal((1000, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int32)
    m = nc.Sequential(
        [nc.Dense(8, "relu"), nc.BatchNorm(), nc.Dropout(0.3), nc.Dense(2)], input_dim=5, seed=0
    )
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    m.fit(X, y, epochs=2)
    capsys.readouterr()
    plain, scores = m.predict(X), m.evaluate(X, y)
    for bs in (1, 7, 33, 1000, 4096):  # the same numbers whatever the batch size
        assert np.array_equal(m.predict(X, batch_size=bs, verbose=0), plain)
        assert m.evaluate(X, y, batch_size=bs) == scores
    assert capsys.readouterr().out == ""
    m.predict(X, verbose=1)
    m.evaluate(X, y, verbose="auto")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("predict: 1000 rows in ")
    assert lines[1].startswith("evaluate: 1000 rows in ")
    assert f"loss: {scores['loss']:.4f} - accuracy: {scores['accuracy']:.4f}" in lines[1]
    for bad in (dict(batch_size=0), dict(batch_size=2.5), dict(verbose=-1), dict(verbose="yes")):
        with pytest.raises(ValueError, match=next(iter(bad))):
            m.predict(X, **bad)
        with pytest.raises(ValueError, match=next(iter(bad))):
            m.evaluate(X, y, **bad)
    with pytest.raises(ValueError, match="verbose"):
        m.fit(X, y, verbose="loud")
