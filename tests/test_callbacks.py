"""Callbacks: EarlyStopping (restore_best), ReduceLROnPlateau, ModelCheckpoint, TerminateOnNaN,
LearningRateScheduler, CSVLogger; clear errors for missing monitors."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import nncore as nc
from nncore import callbacks as cb


def _data(seed=0, n=200, d=6, k=3):
    r = np.random.default_rng(seed)
    X = r.standard_normal((n, d)).astype(np.float32)
    y = (np.abs(X[:, :k]).argmax(axis=1)).astype(np.int32)
    return X, y


def _model(seed=0, lr=0.1, d=6):
    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(3)], input_dim=d, seed=seed)
    m.compile(optimizer=nc.optim.SGD(lr=lr), loss="cross_entropy", metrics=["accuracy"])
    return m


class Recorder(cb.Callback):
    def on_train_begin(self, logs=None):
        self.weights, self.logs, self.lrs = [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.lrs.append(float(self.model.optimizer.lr))

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.logs.append(dict(logs))


def test_early_stopping_restores_best_epoch():
    X, y = _data()
    Xv, yv = _data(seed=1, n=80)
    m = _model(lr=0.5)  # a large rate makes the validation loss bounce around
    rec = Recorder()
    es = cb.EarlyStopping(monitor="val_loss", patience=3, restore_best=True)
    h = m.fit(X, y, epochs=40, validation_data=(Xv, yv), callbacks=[rec, es])
    val = h.history["val_loss"]
    best = int(np.argmin(val))
    assert es.best_epoch == best and es.best == pytest.approx(val[best])
    assert es.stopped_epoch in (-1, best + 3)
    final = m.get_weights()
    for a, b in zip(final, rec.weights[best]):
        np.testing.assert_array_equal(a, b)
    if best != len(val) - 1:  # the weights differ from the last epoch's
        assert any(not np.array_equal(a, b) for a, b in zip(final, rec.weights[-1]))
    assert m.evaluate(Xv, yv)["loss"] == pytest.approx(val[best], rel=1e-6)


def test_one_callback_on_its_own_and_a_non_callback():
    X, y = _data()
    rec = Recorder()
    _model().fit(X, y, epochs=2, callbacks=rec)  # not in a list, as Keras accepts
    assert len(rec.logs) == 2
    with pytest.raises(TypeError, match="Callback instances"):
        _model().fit(X, y, epochs=1, callbacks=[rec, print])


def test_early_stopping_patience_and_modes():
    X, y = _data()

    class Fake(cb.Callback):  # overwrites the monitored value with a scripted sequence
        seq = [5.0, 4.0, 4.5, 4.2, 4.1, 3.0]

        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = self.seq[epoch]

    es = cb.EarlyStopping(monitor="score", mode="min", patience=2)
    h = _model().fit(X, y, epochs=6, callbacks=[Fake(), es])
    assert len(h.epoch) == 4 and es.stopped_epoch == 3 and es.best == 4.0
    es = cb.EarlyStopping(monitor="score", mode="max", patience=0)
    h = _model().fit(X, y, epochs=6, callbacks=[Fake(), es])
    assert len(h.epoch) == 2  # 4.0 < 5.0: no improvement in max mode
    es = cb.EarlyStopping(monitor="score", mode="min", patience=1, min_delta=0.5)
    h = _model().fit(X, y, epochs=6, callbacks=[Fake(), es])
    assert len(h.epoch) == 3  # 4.0 is only 1.0 better, 4.5 is not: stops at the second flat
    es = cb.EarlyStopping(monitor="score", mode="min", patience=1, baseline=3.5)
    h = _model().fit(X, y, epochs=6, callbacks=[Fake(), es])
    assert len(h.epoch) == 1 and es.best == 3.5
    assert cb.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert cb.EarlyStopping(monitor="val_loss").mode == "min"
    assert cb.EarlyStopping(restore_best_weights=True).restore_best


def test_missing_monitor_raises_with_available_keys():
    X, y = _data()
    for c in (
        cb.EarlyStopping(),
        cb.ReduceLROnPlateau(),
        cb.ModelCheckpoint("unused.nnc", save_best_only=True),
    ):
        with pytest.raises(ValueError, match=r"val_loss.*available: loss.*validation"):
            _model().fit(X, y, epochs=2, callbacks=[c])
    with pytest.raises(ValueError, match="patience"):
        cb.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=2.0)
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="up")


def test_reduce_lr_on_plateau():
    X, y = _data()

    class Flat(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["m"] = 1.0 if epoch == 0 else 2.0  # never improves after epoch 0

    rec = Recorder()
    r = cb.ReduceLROnPlateau(monitor="m", factor=0.5, patience=2, min_lr=0.02)
    _model(lr=0.1).fit(X, y, epochs=8, callbacks=[Flat(), r, rec])
    # lr at each epoch's start: reductions after epochs 2, 4, 6 (2 flat epochs each), floored.
    assert rec.lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    rec2 = Recorder()
    r = cb.ReduceLROnPlateau(monitor="m", factor=0.5, patience=1, cooldown=2)
    _model(lr=0.1).fit(X, y, epochs=7, callbacks=[Flat(), r, rec2])
    # Keras semantics: the cooldown counts down from the epoch after a reduction.
    assert rec2.lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])


def test_model_checkpoint_round_trip(tmp_path):
    X, y = _data()
    Xv, yv = _data(seed=1, n=80)
    m = _model()
    ck = cb.ModelCheckpoint(tmp_path / "ck" / "m-{epoch:02d}.nnc")
    m.fit(X, y, epochs=3, callbacks=[ck])
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == ["m-01.nnc", "m-02.nnc", "m-03.nnc"]
    back = nc.load(ck.last_path)
    np.testing.assert_array_equal(back.predict(X), m.predict(X))

    m = _model(lr=0.5)
    best = cb.ModelCheckpoint(tmp_path / "best.nnc", monitor="val_loss", save_best_only=True)
    rec = Recorder()
    h = m.fit(X, y, epochs=12, validation_data=(Xv, yv), callbacks=[rec, best])
    i = int(np.argmin(h.history["val_loss"]))
    saved = nc.load(tmp_path / "best.nnc")
    m.set_weights(rec.weights[i])
    np.testing.assert_array_equal(saved.predict(Xv), m.predict(Xv))
    assert best.best == pytest.approx(h.history["val_loss"][i])
    with pytest.raises(ValueError, match="field"):
        _model().fit(X, y, epochs=1, callbacks=[cb.ModelCheckpoint(tmp_path / "{nope}.nnc")])


def test_model_checkpoint_keras_spellings(tmp_path):
    X, y = _data()
    Xv, yv = _data(seed=1, n=80)
    m = _model(lr=0.5)
    best = cb.ModelCheckpoint(
        filepath=tmp_path / "best.weights.nnc", save_best_only=True, save_weights_only=True
    )
    rec = Recorder()
    h = m.fit(X, y, epochs=8, validation_data=(Xv, yv), callbacks=[rec, best])
    header, arrays = nc.io.read(best.last_path)
    assert header["optimizer"]["steps"] == 0 and not any(k.startswith("optimizer.") for k in arrays)
    restored = _model(seed=5)
    restored.load_weights(best.last_path)
    i = int(np.argmin(h.history["val_loss"]))
    for a, b in zip(restored.get_weights(), rec.weights[i]):
        np.testing.assert_array_equal(a, b)
    full = cb.ModelCheckpoint(tmp_path / "full.nnc")
    m.fit(X, y, epochs=1, callbacks=[full])
    assert nc.io.read(full.last_path)[0]["optimizer"]["name"] == "sgd"
    with pytest.raises(TypeError, match="filepath"):
        cb.ModelCheckpoint(tmp_path / "a.nnc", filepath=tmp_path / "b.nnc")
    with pytest.raises(TypeError, match="filepath"):
        cb.ModelCheckpoint()
    with pytest.raises(TypeError, match="save_weights_only"):
        cb.ModelCheckpoint(tmp_path / "a.nnc", save_weights_only="yes")
    log = cb.CSVLogger(filename=tmp_path / "log.csv")
    _model().fit(X, y, epochs=2, callbacks=[log])
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 3
    with pytest.raises(TypeError, match="filename"):
        cb.CSVLogger(tmp_path / "a.csv", filename=tmp_path / "b.csv")


@pytest.mark.filterwarnings("ignore:.*optimizer steps in this fit were skipped:RuntimeWarning")
def test_terminate_on_nan():
    X, y = _data(n=2000)
    X = X * 1e3
    m = _model(lr=1e6)
    t = cb.TerminateOnNaN()
    h = m.fit(X, y, epochs=20, batch_size=8, callbacks=[t])
    assert t.terminated_epoch == 0 and len(h.epoch) == 1
    bad = h.history["loss"][-1]
    assert not math.isfinite(bad) or h.history.get("nonfinite_steps", [0])[-1] > 0
    t = cb.TerminateOnNaN(every_batch=True)
    m = _model(lr=1e6)
    h = m.fit(X, y, epochs=20, batch_size=8, callbacks=[t])
    assert t.terminated_epoch == 0 and t.terminated_batch >= 0
    # A healthy run is not stopped.
    t = cb.TerminateOnNaN()
    h = _model().fit(*_data(), epochs=3, callbacks=[t])
    assert t.terminated_epoch == -1 and len(h.epoch) == 3


def test_learning_rate_scheduler():
    X, y = _data()
    rec = Recorder()
    s = cb.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    h = _model(lr=1.0).fit(X, y, epochs=4, callbacks=[s, rec])
    assert rec.lrs == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    with pytest.raises(ValueError, match="finite"):
        _model().fit(X, y, epochs=1, callbacks=[cb.LearningRateScheduler(lambda e, lr: -1.0)])
    with pytest.raises(TypeError):
        cb.LearningRateScheduler(0.1)


def test_csv_logger(tmp_path):
    X, y = _data()
    Xv, yv = _data(seed=1, n=80)
    path = tmp_path / "log.csv"
    h = _model().fit(X, y, epochs=3, validation_data=(Xv, yv), callbacks=[cb.CSVLogger(path)])
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["loss"]) for r in rows] == pytest.approx(h.history["loss"])
    assert [float(r["val_accuracy"]) for r in rows] == pytest.approx(h.history["val_accuracy"])
    # append keeps the header and adds rows; no append starts over
    m = _model()
    m.fit(X, y, epochs=2, callbacks=[cb.CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 5 and lines[0].startswith("epoch,")
    assert lines[4].split(",")[lines[0].split(",").index("val_loss")] == "NA"
    m.fit(X, y, epochs=2, callbacks=[cb.CSVLogger(path)])
    assert len(path.read_text().splitlines()) == 3


def test_stop_training_and_lambda():
    X, y = _data()
    stop = cb.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(stop.model, "stop_training", epoch == 1)
    )
    h = _model().fit(X, y, epochs=10, callbacks=[stop])
    assert len(h.epoch) == 2
    seen = []
    every = cb.LambdaCallback(on_batch_end=lambda b, logs: seen.append(b), wants_batches=True)
    _model().fit(X, y, epochs=1, batch_size=50, callbacks=[every])
    assert seen == [0, 1, 2, 3]
    assert "loss" in h.history and list(h.history.keys())[0] == "loss"


def test_terminate_on_nonfinite_steps_in_logs():
    class FakeModel:
        stop_training = False

    t = cb.TerminateOnNaN()
    t.set_model(FakeModel())
    t.on_train_begin({})
    t.on_epoch_begin(2, {})
    t.on_batch_end(5, {"loss": 0.3})
    assert not t.model.stop_training
    t.on_batch_end(9, {"loss": 0.3, "nonfinite_steps": 1})
    assert t.model.stop_training and (t.terminated_epoch, t.terminated_batch) == (2, 9)
