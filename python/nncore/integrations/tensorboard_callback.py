"""``nc.callbacks.TensorBoard``: fit's logs as TensorBoard event files, written with the
``tensorboard`` package's own protobufs and record writer (TensorFlow is not needed; the package is
imported when the callback is made, not with nncore). Not written: graphs, images, embeddings,
profiles."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from nncore._validation import check_bool
from nncore.callbacks import Callback
from nncore.integrations._params import model_params, plain_params

_UPDATE_FREQS = ("epoch", "batch")


def _require_tensorboard():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError(
            "nc.callbacks.TensorBoard needs the tensorboard package: "
            "pip install 'nncore[tensorboard]' (or pip install tensorboard)"
        ) from None
    return event_pb2, summary_pb2, EventFileWriter


def _is_writer_rank() -> bool:
    """True outside MPI and on rank 0 of an ``nncore.distributed`` job (every rank sees the same
    epoch logs, so one writer is enough)."""
    from nncore import distributed

    ctx = distributed.get_context()
    return ctx is None or ctx.rank == 0


class _Run:
    """One TensorBoard run (a folder of event files) and the summaries written to it."""

    def __init__(self, path: str):
        self.event_pb2, self.summary_pb2, writer = _require_tensorboard()
        os.makedirs(path, exist_ok=True)
        self.writer = writer(path)

    def _write(self, step: int, values: list) -> None:
        summary = self.summary_pb2.Summary(value=values)
        self.writer.add_event(
            self.event_pb2.Event(wall_time=time.time(), step=step, summary=summary)
        )

    def scalars(self, step: int, items: dict) -> None:
        values = [
            self.summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
            for tag, v in items.items()
        ]
        if values:
            self._write(step, values)

    def histogram(self, step: int, tag: str, data: np.ndarray, bins: int = 30) -> None:
        a = np.asarray(data, dtype=np.float64).ravel()
        a = a[np.isfinite(a)]
        if a.size == 0:
            return
        counts, edges = np.histogram(a, bins=bins)
        # TensorBoard's histogram: the right edge of each bucket and its count
        hist = self.summary_pb2.HistogramProto(
            min=float(a.min()),
            max=float(a.max()),
            num=float(a.size),
            sum=float(a.sum()),
            sum_squares=float(np.dot(a, a)),
            bucket_limit=[float(e) for e in edges[1:]],
            bucket=[float(c) for c in counts],
        )
        self._write(step, [self.summary_pb2.Summary.Value(tag=tag, histo=hist)])

    def text(self, step: int, tag: str, text: str) -> None:
        from tensorboard.plugins.text import metadata
        from tensorboard.util import tensor_util

        meta = metadata.create_summary_metadata(display_name=tag, description="")
        tensor = tensor_util.make_tensor_proto(np.array([text.encode("utf-8")], dtype=object))
        self._write(step, [self.summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor)])

    def plugin(self, tag: str, meta) -> None:
        """A metadata-only summary (the HParams plugin's records)."""
        from tensorboard.plugins.hparams import metadata

        value = self.summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=metadata.NULL_TENSOR)
        self._write(0, [value])

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def _hparams_records(run: _Run, hparams: dict, metrics: list, status: str, start: float) -> None:
    """The HParams plugin's experiment, session-start and session-end records, in ``run``."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    infos = []
    for name, v in hparams.items():
        if isinstance(v, bool):
            kind = api_pb2.DATA_TYPE_BOOL
        elif isinstance(v, (int, float)):
            kind = api_pb2.DATA_TYPE_FLOAT64
        else:
            kind = api_pb2.DATA_TYPE_STRING
        infos.append(api_pb2.HParamInfo(name=name, type=kind))
    metric_infos = [
        api_pb2.MetricInfo(name=api_pb2.MetricName(group=group, tag=tag)) for group, tag in metrics
    ]
    experiment = api_pb2.Experiment(
        hparam_infos=infos, metric_infos=metric_infos, time_created_secs=start
    )
    session = plugin_data_pb2.SessionStartInfo(start_time_secs=start)
    for name, v in hparams.items():
        if isinstance(v, bool):
            session.hparams[name].bool_value = v
        elif isinstance(v, (int, float)):
            session.hparams[name].number_value = float(v)
        else:
            session.hparams[name].string_value = str(v)
    end = plugin_data_pb2.SessionEndInfo(
        status=getattr(api_pb2, f"STATUS_{status}"), end_time_secs=time.time()
    )
    for tag, data in (
        (metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment)),
        (
            metadata.SESSION_START_INFO_TAG,
            plugin_data_pb2.HParamsPluginData(session_start_info=session),
        ),
        (metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=end)),
    ):
        run.plugin(tag, metadata.create_summary_metadata(data))


def epoch_tag(key: str) -> tuple[str, str]:
    """(run, tag) of an epoch-log key, as Keras's TensorBoard names them: ``loss`` ->
    ("train", "epoch_loss"), ``val_loss`` -> ("validation", "epoch_loss"), ``lr`` -> ("train",
    "epoch_learning_rate"); a diagnostics series keeps its name (``grad_norm/0``), which
    TensorBoard groups by the part before the slash.

    Parameters
    ----------
    key : str
        An epoch-log key.

    Returns
    -------
    run : str
        ``"train"`` or ``"validation"``.
    tag : str
        The scalar's name within the run.
    """
    if key.startswith("val_"):
        return "validation", "epoch_" + key[4:]
    if key == "lr":
        return "train", "epoch_learning_rate"
    if "/" in key:
        return "train", key
    return "train", "epoch_" + key


class TensorBoard(Callback):
    """Write fit's logs as TensorBoard event files (needs ``pip install tensorboard``).

    Under ``log_dir``, as Keras lays them out: ``train/`` holds ``epoch_loss``, the metrics,
    ``epoch_learning_rate``, the regularization term, the epoch time, the gradient norm and, with
    ``fit(diagnostics=True)``, the per-layer diagnostics series (``grad_norm/0``,
    ``weight_norm/0``, ``update_ratio/0``, ``dead/0``, ...), plus the model summary as text and
    the histograms; ``validation/`` holds the validation loss and metrics under the same tags, so
    TensorBoard draws them on one chart; ``log_dir`` itself holds the HParams plugin's record of
    the hyper-parameters. Under MPI (``nncore.distributed``) only rank 0 writes. Works with
    streamed ``fit`` (batches are counted as they come).

    Parameters
    ----------
    log_dir : str or path-like
        The folder of the runs (created when missing).
    histogram_freq : int, default 0
        Every this many epochs, a histogram of each parameter's values (``weights/0.weight``)
        and of its gradient at the epoch's last step (``gradients/0.weight``); 0: none.
    update_freq : "epoch", "batch" or int, default "epoch"
        ``"batch"`` or N also writes ``batch_loss`` (the epoch's running mean loss) after every
        batch or every N batches, at the global batch count. Per-batch logging makes fit return to
        Python after each batch, which is slower.
    hparams : dict, optional
        Hyper-parameters to record besides the model's own (optimizer and its settings, loss,
        layers, depth, hidden units, dropout, parameter count), e.g. ``{"batch_size": 64}``.
    write_summary : bool, default True
        Write ``model.summary()`` as the text ``model_summary``.

    Raises
    ------
    ValueError
        When ``histogram_freq`` is not an integer >= 0 or ``update_freq`` is not "epoch",
        "batch" or an integer >= 1.
    ImportError
        Without the tensorboard package.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(optimizer="sgd", loss="mse")
    >>> logs = tempfile.TemporaryDirectory()
    >>> board = nc.callbacks.TensorBoard(logs.name, histogram_freq=1)
    >>> history = model.fit(X, X.sum(axis=1), epochs=2, callbacks=[board])
    >>> sorted(board.runs)
    ['.', 'train']
    >>> logs.cleanup()
    """

    def __init__(
        self,
        log_dir,
        histogram_freq: int = 0,
        update_freq: Any = "epoch",
        *,
        hparams: dict | None = None,
        write_summary: bool = True,
    ):
        if (
            isinstance(histogram_freq, bool)
            or not isinstance(histogram_freq, (int, np.integer))
            or histogram_freq < 0
        ):
            raise ValueError(
                f"TensorBoard: histogram_freq must be an integer >= 0, got {histogram_freq!r}"
            )
        ok_int = (
            isinstance(update_freq, (int, np.integer))
            and not isinstance(update_freq, bool)
            and update_freq >= 1
        )
        if not (update_freq in _UPDATE_FREQS or ok_int):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or an integer >= 1, "
                f"got {update_freq!r}"
            )
        _require_tensorboard()  # fail here rather than when training starts
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.update_freq = update_freq if isinstance(update_freq, str) else int(update_freq)
        self.wants_batches = self.update_freq != "epoch"
        self.hparams = dict(hparams or {})
        self.write_summary = check_bool(write_summary, "TensorBoard: write_summary")
        self.runs: dict[str, _Run] = {}
        self._batch_step = 0
        self._metrics: set = set()

    def _run(self, name: str) -> _Run:
        if name not in self.runs:
            self.runs[name] = _Run(os.path.join(self.log_dir, name))
        return self.runs[name]

    def on_train_begin(self, logs=None):
        self._active = _is_writer_rank()
        if not self._active:
            return
        self.runs = {}
        self._start = time.time()
        self._status = "SUCCESS"
        self._metrics = set()
        self._hp = plain_params({**model_params(self.model), **self.hparams})
        if self.write_summary and self.model.built:
            text = self.model.summary(print_fn=None)
            # four spaces: markdown shows the table in a fixed-width font
            md = "\n".join("    " + line for line in text.splitlines())
            self._run("train").text(self.model.epochs_done, "model_summary", md)

    def on_batch_end(self, batch, logs=None):
        if not self._active or self.update_freq == "epoch":  # called between chunks then
            return
        self._batch_step += 1
        every = 1 if self.update_freq == "batch" else self.update_freq
        if logs and "loss" in logs and self._batch_step % every == 0:
            self._run("train").scalars(self._batch_step, {"batch_loss": logs["loss"]})

    def on_epoch_end(self, epoch, logs=None):
        if not self._active:
            return
        by_run: dict[str, dict] = {}
        for key, v in (logs or {}).items():
            if np.ndim(v) != 0 or isinstance(v, (str, bytes)):
                continue
            run, tag = epoch_tag(key)
            by_run.setdefault(run, {})[tag] = v
            if tag.startswith("epoch_"):
                self._metrics.add((run, tag))
        for run, items in by_run.items():
            self._run(run).scalars(epoch, items)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            train = self._run("train")
            for name, w in self.model.parameters().items():
                train.histogram(epoch, f"weights/{name}", w)
            for name, g in self.model.gradients().items():
                train.histogram(epoch, f"gradients/{name}", g)
        for run in self.runs.values():
            run.writer.flush()

    def on_train_end(self, logs=None):
        if not getattr(self, "_active", False):
            return
        _hparams_records(self._run("."), self._hp, sorted(self._metrics), self._status, self._start)
        for run in self.runs.values():
            run.close()  # the names stay in self.runs; a next fit opens new event files


__all__ = ["TensorBoard", "epoch_tag"]
