"""Training on data that does not fit in memory: ``model.fit(source, epochs=..., batch_size=...)``
with ``source`` yielding ``(X_chunk, y_chunk)`` pairs.

A source is any of:

- a re-iterable (each ``iter(source)`` starts a new epoch), e.g. :class:`ParquetReader`,
  :class:`CSVReader`, or a list of ``(X, y)`` pairs;
- a callable returning a fresh iterator per epoch;
- a one-shot iterator (a generator): one epoch takes all of it; over several epochs it needs
  ``steps_per_epoch``, and the epochs take consecutive chunks;
- a dask array ``X`` with ``y`` (dask or numpy): chunks along the rows are computed one at a time,
  never the whole array.

Chunks may have any number of rows; fit cuts them into batches of ``batch_size`` (rows left over
at the end of a chunk join the next one, so batches are the same whatever the chunking), trains
each run of full batches in one C++ call (GIL released), and trains the remainder as the last
batch of the epoch. ``shuffle`` permutes the rows inside each chunk (seeded by seed, epoch and
chunk); the readers shuffle across a larger buffer. ``prefetch`` chunks are read by a background
thread while the core trains on the current one, so reading and training overlap.
``steps_per_epoch`` counts chunks.
"""

from __future__ import annotations

import csv
import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ._validation import check_bool, check_positive_int, check_seed
from .training import Driver, callback_list, inputs, steps

__all__ = ["CSVReader", "ParquetReader", "prefetch", "is_source", "fit_source"]


def _is_dask(a) -> bool:
    return type(a).__module__.split(".")[0] == "dask"


def is_source(X, y) -> bool:
    """Whether ``fit`` should stream ``X`` (see the module docstring) instead of reading arrays.

    Parameters
    ----------
    X : object
        What was passed to ``fit`` as X.
    y : object or None
        What was passed as y.

    Returns
    -------
    bool
        True for a dask array, or for a re-iterable, callable or iterator without ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.streaming import is_source
    >>> X, y = np.zeros((4, 2)), np.zeros(4)
    >>> is_source(X, y), is_source([(X, y), (X, y)], None)
    (False, True)
    """
    if _is_dask(X):
        return True
    if y is not None or isinstance(X, (np.ndarray, str, bytes)) or hasattr(X, "__array__"):
        return False
    return callable(X) or isinstance(X, Iterable)


# ------------------------------------------------------------------------------ prefetching
_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(iterable: Iterable, depth: int = 2) -> Iterator:
    """Iterate ``iterable`` in a background thread, at most ``depth`` items ahead.

    Exceptions in the reader surface in the consumer; abandoning the iterator stops the reader.

    Parameters
    ----------
    iterable : iterable
        What to read ahead.
    depth : int, default 2
        The most items read ahead.

    Yields
    ------
    object
        The items of ``iterable``, in order.

    Examples
    --------
    >>> from nncore.streaming import prefetch
    >>> list(prefetch(range(5), depth=2))
    [0, 1, 2, 3, 4]
    """
    depth = check_positive_int(depth, "prefetch")
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in iterable:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(_Failure(e))

    t = threading.Thread(target=work, name="nncore-prefetch", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()


# ------------------------------------------------------------------------------ readers
class _Shuffler:
    """Concatenates chunks into a buffer of ``buffer_rows``, permutes it and emits chunks of
    ``chunk_rows``: rows move across chunk boundaries, memory stays about one buffer."""

    def __init__(self, chunk_rows: int, buffer_rows: int, rng):
        self.chunk_rows, self.buffer_rows, self.rng = chunk_rows, buffer_rows, rng

    def __call__(self, chunks: Iterable) -> Iterator:
        if self.buffer_rows <= 0:
            yield from chunks
            return
        xs, ys, held = [], [], 0
        for x, y in chunks:
            xs.append(x)
            ys.append(y)
            held += len(x)
            if held >= self.buffer_rows:
                yield from self._drain(xs, ys)
                xs, ys, held = [], [], 0
        if held:
            yield from self._drain(xs, ys)

    def _drain(self, xs, ys):
        X, y = np.concatenate(xs), np.concatenate(ys)
        p = self.rng.permutation(len(X))
        for i in range(0, len(X), self.chunk_rows):
            j = p[i : i + self.chunk_rows]
            yield X[j], y[j]


class _Reader:
    """Common part of the file readers: epochs, seeds, shuffling."""

    def __init__(self, path, target, chunk_rows, shuffle_buffer, seed):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no such file: {self.path}")
        self.target = target
        self.chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
        self.shuffle_buffer = check_positive_int(shuffle_buffer, "shuffle_buffer", minimum=0)
        self.seed = check_seed(seed, "seed")
        self._epoch = 0

    def __iter__(self) -> Iterator:
        rng = np.random.default_rng([self.seed, self._epoch])
        self._epoch += 1
        return _Shuffler(self.chunk_rows, self.shuffle_buffer, rng)(self._chunks())

    def _chunks(self) -> Iterator:
        raise NotImplementedError


def _split_target(cols: list[str], target) -> tuple[list[int], int]:
    if isinstance(target, str):
        if target not in cols:
            raise ValueError(f"target column {target!r} is not in the file (columns: {cols})")
        t = cols.index(target)
    else:
        t = int(target)
        if not -len(cols) <= t < len(cols):
            raise ValueError(f"target column {target} is out of range for {len(cols)} columns")
        t %= len(cols)
    return [i for i in range(len(cols)) if i != t], t


class CSVReader(_Reader):
    """Chunks of a numeric CSV file, as ``(X float32, y)`` pairs, for ``model.fit``.

    Parameters
    ----------
    path : str or path-like
        The file.
    target : str or int, default -1
        The target column: a name, or an index (the only way without a header).
    chunk_rows : int, default 65536
        Rows per chunk.
    shuffle_buffer : int, default 0
        Rows collected and permuted before they are emitted (0: file order); each pass over
        the file (epoch) uses its own permutation, seeded by ``seed`` and the epoch.
    seed : int, default 0
        The shuffle's seed.
    header : bool, default True
        Whether the first line holds the column names.
    delimiter : str, default ","
        The field separator.
    labels : bool, default False
        y as int64 class labels (else float32 values).

    Raises
    ------
    ValueError
        When the file is empty or ``target`` names no column; while reading, on a row that is
        not numeric (with its line number).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore.streaming import CSVReader
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "data.csv")
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> table = np.column_stack([X, X.sum(axis=1)])
    >>> np.savetxt(path, table, delimiter=",", header="a,b,c,y", comments="")
    >>> reader = CSVReader(path, target="y", chunk_rows=40)
    >>> [X_chunk.shape for X_chunk, y_chunk in reader]
    [(40, 3), (40, 3), (20, 3)]
    >>> model = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=3, seed=0)
    >>> model = model.compile(loss="mse")
    >>> len(model.fit(reader, epochs=2, batch_size=16).history["loss"])
    2
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        path,
        target=-1,
        *,
        chunk_rows: int = 65536,
        shuffle_buffer: int = 0,
        seed: int = 0,
        header: bool = True,
        delimiter: str = ",",
        labels: bool = False,
    ):
        super().__init__(path, target, chunk_rows, shuffle_buffer, seed)
        self.header = check_bool(header, "CSVReader: header")
        self.delimiter, self.labels = delimiter, check_bool(labels, "CSVReader: labels")
        with open(self.path, newline="") as f:
            first = next(csv.reader(f, delimiter=delimiter), None)
        if first is None:
            raise ValueError(f"{self.path} is empty")
        cols = first if header else [str(i) for i in range(len(first))]
        self._features, self._t = _split_target(cols, target)

    def _chunks(self) -> Iterator:
        with open(self.path) as f:
            if self.header:
                next(f)
            line_no = 1 + self.header
            while True:
                lines = list(itertools.islice(f, self.chunk_rows))
                if not lines:
                    return
                try:
                    a = np.loadtxt(lines, delimiter=self.delimiter, dtype=np.float64, ndmin=2)
                except ValueError as e:
                    raise ValueError(
                        f"{self.path}: bad numeric data in lines {line_no}-"
                        f"{line_no + len(lines) - 1}: {e}"
                    ) from e
                line_no += len(lines)
                y = a[:, self._t]
                yield (
                    np.ascontiguousarray(a[:, self._features], np.float32),
                    y.astype(np.int64) if self.labels else y.astype(np.float32),
                )


class ParquetReader(_Reader):
    """Chunks of a Parquet file, as ``(X float32, y)`` pairs, for ``model.fit``.

    The file is read record batch by record batch with pyarrow (extra ``parquet``): memory
    stays about ``chunk_rows`` rows (plus ``shuffle_buffer`` rows).

    Parameters
    ----------
    path : str or path-like
        The file.
    target : str or int
        The target column, by name or index.
    features : list of str or None, default None
        The input columns (None: all but ``target``).
    chunk_rows : int, default 65536
        Rows per chunk.
    shuffle_buffer : int, default 0
        Rows collected and permuted before they are emitted (0: file order); each pass over
        the file (epoch) uses its own permutation, seeded by ``seed`` and the epoch.
    seed : int, default 0
        The shuffle's seed.
    labels : bool, default False
        y as int64 class labels (else float32 values).

    Raises
    ------
    ImportError
        Without pyarrow.
    ValueError
        When ``target`` or a feature names no column of the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from nncore.streaming import ParquetReader
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "data.parquet")
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "y": X.sum(axis=1)}), path)
    >>> reader = ParquetReader(path, target="y", chunk_rows=64)
    >>> reader.features, [X_chunk.shape for X_chunk, y_chunk in reader]
    (['a', 'b'], [(64, 2), (36, 2)])
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        path,
        target,
        *,
        features=None,
        chunk_rows: int = 65536,
        shuffle_buffer: int = 0,
        seed: int = 0,
        labels: bool = False,
    ):
        try:
            import pyarrow.parquet as pq
        except ImportError as e:
            raise ImportError('ParquetReader needs pyarrow: pip install "nncore[parquet]"') from e
        super().__init__(path, target, chunk_rows, shuffle_buffer, seed)
        self._pq = pq
        cols = list(pq.ParquetFile(self.path).schema_arrow.names)
        idx, t = _split_target(cols, target)
        self.target_name = cols[t]
        if features is None:
            self.features = [cols[i] for i in idx]
        else:
            self.features = list(features)
            missing = [c for c in self.features if c not in cols]
            if missing:
                raise ValueError(f"feature columns {missing} are not in the file")
        self.labels = check_bool(labels, "ParquetReader: labels")

    def _chunks(self) -> Iterator:
        # With pyarrow's default pre_buffer=True, iterating a 150 MB file grew RSS by up to 200 MB
        # in some runs (buffered row groups kept alive); without it, about one row group.
        f = self._pq.ParquetFile(self.path, pre_buffer=False)
        for batch in f.iter_batches(
            batch_size=self.chunk_rows,
            columns=[*self.features, self.target_name],
            use_threads=False,  # decoding threads held 56 MB instead of 38 MB (150 MB file)
        ):
            X = np.empty((batch.num_rows, len(self.features)), np.float32)
            for j, name in enumerate(self.features):
                X[:, j] = batch.column(name).to_numpy(zero_copy_only=False)
            y = batch.column(self.target_name).to_numpy(zero_copy_only=False)
            yield X, (y.astype(np.int64) if self.labels else y.astype(np.float32))


# ------------------------------------------------------------------------------ sources
def _dask_chunks(X, y) -> Callable[[], Iterator]:
    """Per epoch, the row chunks of dask array X (and y) computed one at a time."""
    if X.ndim != 2:
        raise ValueError(f"a dask array X must be 2-D, got {X.ndim}-D")
    X = X.rechunk({1: -1})
    bounds = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)
    if y is None:
        raise ValueError("fit on a dask array X needs y (a dask or numpy array)")
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)}")

    def epoch():
        for i in range(len(bounds) - 1):
            a, b = bounds[i], bounds[i + 1]
            xi = X.blocks[i].compute()
            yi = y[a:b]
            yield xi, (yi.compute() if _is_dask(yi) else np.asarray(yi))

    return epoch


def _epoch_iterators(source, y, steps_per_epoch, epochs):
    """A function epoch -> iterator of chunks."""
    if _is_dask(source):
        make = _dask_chunks(source, y)
        return lambda _e: make()
    if callable(source):
        return lambda _e: iter(source())
    if isinstance(source, Iterator):  # one shot: epochs take consecutive chunks
        # One epoch takes the whole iterator, as Keras does; several would have to split it.
        if steps_per_epoch is None and epochs > 1:
            raise ValueError(
                "a one-shot iterator over several epochs needs steps_per_epoch (or pass a "
                "re-iterable or a callable returning an iterator per epoch)"
            )
        return lambda _e: source
    if isinstance(source, Iterable):
        return lambda _e: iter(source)
    raise TypeError(f"cannot stream from {type(source).__name__}")


def _chunk_pair(item, i):
    if not (isinstance(item, tuple) and len(item) == 2):
        raise TypeError(f"chunk {i} of the source is not an (X, y) pair: {type(item).__name__}")
    return item


class StreamSource:
    """The driver's batch source over streamed chunks: chunks checked as they come, shuffled
    within (seeded by seed, epoch and chunk), cut into runs of whole batches, the rows left
    over carried into the next chunk and trained as the epoch's last batch."""

    def __init__(self, model, chunks_of, batch_size, shuffle, seed, steps_per_epoch, depth):
        self.model, self.chunks_of, self.batch_size = model, chunks_of, batch_size
        self.shuffle, self.seed, self.steps, self.depth = shuffle, seed, steps_per_epoch, depth
        self.info = {"epochs": None, "batches": None, "samples": None}

    def runs(self, epoch: int):
        it = self.chunks_of(epoch)
        if self.steps is not None:
            it = itertools.islice(it, self.steps)
        carry = None
        for i, item in enumerate(prefetch(it, self.depth) if self.depth else it):
            Xc, yc = _chunk_pair(item, i)
            X, yc, _ = inputs.fit_inputs(self.model, Xc, yc, None, None)
            if carry is not None:
                X, yc = np.concatenate([carry[0], X]), np.concatenate([carry[1], yc])
            if self.shuffle:
                p = np.random.default_rng([int(self.seed), epoch, i]).permutation(len(X))
                X, yc = X[p], yc[p]
            full = len(X) // self.batch_size * self.batch_size
            carry = (X[full:], yc[full:]) if full < len(X) else None
            yield (X[:full], yc[:full], None, None)
            if self.model.stop_training:
                return
        if carry is not None and len(carry[0]):
            yield (carry[0], carry[1], None, None)


def fit_source(
    model,
    source,
    y=None,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    shuffle: bool = True,
    seed=None,
    steps_per_epoch=None,
    validation_data=None,
    callbacks=None,
    schedulers=None,
    verbose: int = 0,
    prefetch_chunks: int = 2,
):
    """``model.fit`` over a streamed source (see the module docstring).

    ``model.fit(source, ...)`` calls it; the arguments are ``fit``'s.

    Parameters
    ----------
    model : Sequential
        A compiled model (built by the first chunk when it has no ``input_dim``).
    source : iterable, callable, iterator or dask array
        Chunks ``(X, y)``, as the module docstring lists.
    y : dask or numpy array, optional
        The targets of a dask array ``source``; None otherwise.
    epochs : int, default 1
        Passes over the source.
    batch_size : int, default 32
        Rows per batch; batches do not depend on how the rows are chunked.
    shuffle : bool, default True
        Permute the rows inside each chunk (seeded by ``seed``, the epoch and the chunk).
    seed : int or None, default None
        The shuffles' seed (None: the model's).
    steps_per_epoch : int or None, default None
        Chunks per epoch (required for a one-shot iterator over several epochs).
    validation_data : tuple, optional
        ``(X_val, y_val)`` in memory, evaluated after each epoch.
    callbacks : list of Callback, optional
        As for ``fit``.
    schedulers : list of LRScheduler, optional
        As for ``fit``.
    verbose : int, default 0
        As for ``fit``.
    prefetch_chunks : int, default 2
        Chunks read ahead by a background thread while the core trains.

    Returns
    -------
    History
        The per-epoch logs.

    Raises
    ------
    ValueError
        When ``y`` is given with a source of ``(X, y)`` chunks, or an argument is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    >>> chunks = [(X[:50], X[:50].sum(axis=1)), (X[50:], X[50:].sum(axis=1))]
    >>> model = nc.Sequential([nc.Dense(1)], input_dim=3, seed=0).compile(loss="mse")
    >>> history = model.fit(chunks, epochs=3, batch_size=25)  # calls fit_source
    >>> len(history.history["loss"])
    3
    """
    inputs.require_compiled(model)
    epochs = check_positive_int(epochs, "epochs", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_seed(model.seed if seed is None else seed, "seed")
    if steps_per_epoch is not None:
        steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch")
    if y is not None and not _is_dask(source):
        raise ValueError("y must be None when X is a source of (X, y) chunks")
    chunks_of = _epoch_iterators(source, y, steps_per_epoch, epochs)
    runs = StreamSource(
        model, chunks_of, batch_size, shuffle, seed, steps_per_epoch, prefetch_chunks
    )

    def start(run):  # the first chunk has built the model
        val = None
        if validation_data is not None:
            X, y = run[0], run[1]
            val = inputs.validation_rows(model, X, y, None, seed, 0.0, validation_data)[1]
        return (*callback_list(model, callbacks, epochs, verbose), val)

    step = steps.step_for(model, batch_size)
    return Driver(model, runs, step, schedulers=schedulers, start=start).fit(epochs)
