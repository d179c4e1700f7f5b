"""nc.callbacks.TensorBoard: the event files, read back with tensorboard's own EventAccumulator,
hold the History's values (scalars), the parameters (histograms), the model summary (text) and
the hyper-parameters (HParams plugin); per-batch logging; streamed fit."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

ALL = {"scalars": 0, "histograms": 0, "tensors": 0}


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def _model():
    model = nc.Sequential([nc.Dense(12, "relu"), nc.Dropout(0.1), nc.Dense(2)], input_dim=6, seed=0)
    return model.compile(
        optimizer=nc.optim.Adam(lr=0.01), loss="cross_entropy", metrics=["accuracy"]
    )


def _read(path):
    acc = EventAccumulator(str(path), size_guidance=ALL)
    acc.Reload()
    return acc


def test_scalars_histograms_text_hparams_match_history(tmp_path):
    X, y = _data()
    model = _model()
    board = nc.callbacks.TensorBoard(tmp_path, histogram_freq=1, hparams={"batch_size": 32})
    history = model.fit(
        X, y, epochs=3, batch_size=32, validation_split=0.25, diagnostics=True, callbacks=[board]
    )
    train, val, root = _read(tmp_path / "train"), _read(tmp_path / "validation"), _read(tmp_path)
    # every scalar of the History, under Keras's names, at its epoch (float32 in the file)
    for key, values in history.history.items():
        run, tag = nc.integrations.tensorboard_callback.epoch_tag(key)
        events = {"train": train, "validation": val}[run].Scalars(tag)
        assert [e.step for e in events] == history.epoch, key
        np.testing.assert_array_equal(
            [e.value for e in events], np.asarray(values, np.float32), err_msg=key
        )
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "grad_norm/0"} <= set(
        train.Tags()["scalars"]
    )
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    # histograms of the final weights at the last epoch
    for name, w in model.parameters().items():
        h = train.Histograms(f"weights/{name}")[-1]
        assert h.step == 2
        hv = h.histogram_value
        assert hv.num == w.size and sum(hv.bucket) == w.size
        assert hv.min == pytest.approx(float(w.min())) and hv.max == pytest.approx(float(w.max()))
        assert hv.sum == pytest.approx(float(w.astype(np.float64).sum()), abs=1e-9)
    assert len(train.Histograms("gradients/0.weight")) == 3
    # the model summary as text
    (text,) = train.Tensors("model_summary")
    summary = tensor_util.make_ndarray(text.tensor_proto).ravel()[0].decode()
    assert "total parameters: 110" in summary and summary.startswith("    Sequential(")
    # hyper-parameters
    content = root.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.01)
    assert start.hparams["batch_size"].number_value == 32
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["hidden_units"].string_value == "12"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]
    ).experiment
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert ("validation", "epoch_accuracy") in metrics and ("train", "epoch_loss") in metrics


@pytest.mark.parametrize("update_freq, expected", [("batch", list(range(1, 16))), (4, [4, 8, 12])])
def test_batch_loss_every_n_batches(tmp_path, update_freq, expected):
    X, y = _data()  # 160 rows, batch 32: 5 batches per epoch, 15 in 3 epochs
    board = nc.callbacks.TensorBoard(tmp_path, update_freq=update_freq)
    _model().fit(X, y, epochs=3, batch_size=32, callbacks=[board])
    events = _read(tmp_path / "train").Scalars("batch_loss")
    assert [e.step for e in events] == expected
    assert all(np.isfinite(e.value) for e in events)


def test_streaming_fit(tmp_path):
    X, y = _data(200)
    chunks = [(X[i : i + 48], y[i : i + 48]) for i in range(0, 200, 48)]
    board = nc.callbacks.TensorBoard(tmp_path, update_freq="batch")
    history = _model().fit(chunks, epochs=2, batch_size=16, callbacks=[board])
    train = _read(tmp_path / "train")
    np.testing.assert_array_equal(
        [e.value for e in train.Scalars("epoch_loss")], np.float32(history.history["loss"])
    )
    # 200 rows in batches of 16: 13 batches per epoch, counted across the chunks
    assert [e.step for e in train.Scalars("batch_loss")] == list(range(1, 27))


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    from nncore import distributed

    class Rank1:
        rank = 1

    monkeypatch.setattr(distributed, "get_context", lambda: Rank1())
    X, y = _data()
    _model().fit(X, y, epochs=1, callbacks=[nc.callbacks.TensorBoard(tmp_path)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"histogram_freq": -1}, {"histogram_freq": 1.5}, {"update_freq": "step"}, {"update_freq": 0}],
)
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError, match="TensorBoard"):
        nc.callbacks.TensorBoard(tmp_path, **kwargs)
