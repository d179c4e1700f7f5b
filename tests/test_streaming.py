"""Streaming fit: chunked sources, the CSV and Parquet readers, prefetching, bounded memory."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import nncore as nc
from nncore import streaming
from nncore.streaming import CSVReader, ParquetReader, prefetch

from conftest import nncore_home


def make_model(d=5):
    m = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(1)], input_dim=d, seed=2)
    m.compile(optimizer=nc.optim.Adam(lr=1e-2), loss="mse")
    return m


def data(n=203, d=5):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d)).astype(np.float32)
    return X, (X @ np.arange(1, d + 1, dtype=np.float32) / d).astype(np.float32)


def chunks(X, y, sizes):
    out, i = [], 0
    for s in sizes:
        out.append((X[i : i + s], y[i : i + s]))
        i += s
    out.append((X[i:], y[i:]))
    return out


def weights(m):
    return m.engine.arena("params").tobytes()


def test_chunked_source_trains_exactly_like_in_memory_fit():
    X, y = data()
    ref = make_model()
    h_ref = ref.fit(X, y, epochs=3, batch_size=16, shuffle=False)
    source = chunks(X, y, [37, 5, 100, 16])  # leftover rows carry over: same batches
    m = make_model()
    h = m.fit(source, epochs=3, batch_size=16, shuffle=False)
    assert weights(m) == weights(ref)
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-12)


def test_callable_and_one_shot_sources():
    X, y = data()
    ref = make_model()
    ref.fit(X, y, epochs=2, batch_size=16, shuffle=False)
    m = make_model()
    m.fit(lambda: iter(chunks(X, y, [50, 50])), epochs=2, batch_size=16, shuffle=False)
    assert weights(m) == weights(ref)
    # a one-shot iterator: epochs take consecutive chunks, bounded by steps_per_epoch
    it = iter(chunks(X, y, [64, 64, 64, 64])[:4])
    m2 = make_model()
    h = m2.fit(it, epochs=2, batch_size=16, steps_per_epoch=2, shuffle=False)
    assert len(h.history["loss"]) == 2
    with pytest.raises(ValueError, match="several epochs needs steps_per_epoch"):
        make_model().fit(iter(chunks(X, y, [64])), epochs=2)
    # one epoch takes the whole one-shot iterator (a generator, as Keras accepts)
    one = make_model()
    one.fit((c for c in chunks(X, y, [50, 50])), epochs=1, batch_size=16, shuffle=False)
    ref1 = make_model()
    ref1.fit(X, y, epochs=1, batch_size=16, shuffle=False)
    assert weights(one) == weights(ref1)


def test_shuffled_streaming_is_reproducible_and_differs_from_unshuffled():
    X, y = data()
    src = chunks(X, y, [64, 64])
    a, b, c = make_model(), make_model(), make_model()
    a.fit(src, epochs=2, batch_size=16, seed=5)
    b.fit(src, epochs=2, batch_size=16, seed=5)
    c.fit(src, epochs=2, batch_size=16, shuffle=False)
    assert weights(a) == weights(b)
    assert weights(a) != weights(c)


def test_bad_sources_raise_clear_errors():
    X, y = data()
    with pytest.raises(TypeError, match="not an \\(X, y\\) pair"):
        make_model().fit([X[:10]], epochs=1)
    with pytest.raises(ValueError, match="no chunks"):
        make_model().fit([], epochs=1)
    with pytest.raises(ValueError, match="X has 5 features|features"):
        make_model().fit([(X[:, :3], y)], epochs=1)


def test_arrays_without_y_or_with_steps_per_epoch_are_refused():
    X, y = data()
    with pytest.raises(TypeError, match="fit needs y"):
        make_model().fit(X)
    with pytest.raises(ValueError, match="steps_per_epoch applies only"):
        make_model().fit(X, y, steps_per_epoch=3)


def test_prefetch_reads_ahead_and_forwards_errors():
    started = []

    def gen():
        for i in range(3):
            started.append(i)
            yield i
        raise RuntimeError("disk on fire")

    it = prefetch(gen(), depth=2)
    assert next(it) == 0
    time.sleep(0.2)
    assert started == [0, 1, 2]  # read ahead while the consumer held item 0
    assert [next(it), next(it)] == [1, 2]
    with pytest.raises(RuntimeError, match="disk on fire"):
        next(it)


def _fit_watching_the_reader(prefetch_chunks, wait):
    """Fits two chunks; returns the model and, per batch, whether the reader had started on
    chunk 1 by then. With ``wait`` the first batch of chunk 0 blocks until the reader gets there
    (a deadlock guard, not a timing: with prefetching the reader always gets there)."""
    X, y = data(1000, 5)
    reading_chunk_1 = threading.Event()
    seen = []

    def source():
        for k, i in enumerate(range(0, len(X), 500)):
            if k == 1:
                reading_chunk_1.set()
            yield X[i : i + 500], y[i : i + 500]

    def on_batch_end(batch, logs):
        if wait and not seen:
            reading_chunk_1.wait(timeout=30)
        seen.append(reading_chunk_1.is_set())

    watch = nc.callbacks.LambdaCallback(on_batch_end=on_batch_end, wants_batches=True)
    m = make_model()
    fit = functools.partial(streaming.fit_source, prefetch_chunks=prefetch_chunks)
    fit(m, source, epochs=1, batch_size=8, callbacks=[watch])
    return m, seen


def test_prefetch_overlaps_reading_with_training():
    # checked by events, not durations: with prefetching the reader starts on chunk 1 while the
    # first batch of chunk 0 is still in training; without it, only after chunk 0's 62 batches
    m, seen = _fit_watching_the_reader(prefetch_chunks=2, wait=True)
    serial, seen_serial = _fit_watching_the_reader(prefetch_chunks=0, wait=False)
    assert seen[0], "the reader did not start on chunk 1 during chunk 0's training"
    assert seen_serial[:62] == [False] * 62 and all(seen_serial[62:])
    assert len(seen) == len(seen_serial) == 125
    assert weights(m) == weights(serial)


def test_abandoned_prefetch_stops_its_thread():
    it = prefetch(iter(range(10**9)), depth=2)
    next(it)
    it.close()
    time.sleep(0.3)
    assert not any(t.name == "nncore-prefetch" and t.is_alive() for t in threading.enumerate())


def write_csv(path, X, y, header=True):
    with open(path, "w") as f:
        if header:
            f.write(",".join([f"f{i}" for i in range(X.shape[1])] + ["target"]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{float(t)!r}\n")


def test_csv_reader_chunks_and_shuffles(tmp_path):
    X, y = data(103)
    p = tmp_path / "d.csv"
    write_csv(p, X, y)
    r = CSVReader(p, "target", chunk_rows=40)
    got = list(r)
    assert [len(c[0]) for c in got] == [40, 40, 23]
    np.testing.assert_array_equal(np.concatenate([c[0] for c in got]), X)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in got]), y)
    s = CSVReader(p, "target", chunk_rows=40, shuffle_buffer=80, seed=1)
    e1, e2 = list(s), list(s)
    x1 = np.concatenate([c[0] for c in e1])
    assert not np.array_equal(x1, X)  # moved
    assert sorted(map(tuple, x1)) == sorted(map(tuple, X))  # every row once
    assert not np.array_equal(x1, np.concatenate([c[0] for c in e2]))  # a new order per epoch
    m = make_model()
    m.fit(CSVReader(p, "target", chunk_rows=40), epochs=2, batch_size=16, shuffle=False)
    ref = make_model()
    ref.fit(X, y, epochs=2, batch_size=16, shuffle=False)
    assert weights(m) == weights(ref)


def test_csv_reader_bad_input(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b,target\n1,2,3\n4,x,6\n")
    with pytest.raises(ValueError, match="lines 2-3"):
        list(CSVReader(p, "target"))
    with pytest.raises(ValueError, match="target column 'nope'"):
        CSVReader(p, "nope")
    with pytest.raises(FileNotFoundError):
        CSVReader(tmp_path / "missing.csv")


def test_parquet_reader_matches_the_data(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    X, y = data(103)
    cols = {f"f{i}": X[:, i] for i in range(X.shape[1])}
    cols["target"] = y
    pq.write_table(pa.table(cols), tmp_path / "d.parquet", row_group_size=30)
    r = ParquetReader(tmp_path / "d.parquet", "target", chunk_rows=25)
    got = list(r)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in got]), X)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in got]), y)
    assert max(len(c[0]) for c in got) <= 25
    m = make_model()
    m.fit(r, epochs=2, batch_size=16, shuffle=False)
    ref = make_model()
    ref.fit(X, y, epochs=2, batch_size=16, shuffle=False)
    assert weights(m) == weights(ref)
    with pytest.raises(ValueError, match="not in the file"):
        ParquetReader(tmp_path / "d.parquet", "target", features=["f0", "zz"])


RSS_CHILD = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    import pyarrow.parquet  # its import (about 30 MB of code) is not data
    import nncore as nc
    from nncore.streaming import ParquetReader
    nc.set_num_threads(1)
    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(1)], input_dim={d}, seed=0)
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.zeros((64, {d}), np.float32), np.zeros(64, np.float32), epochs=1)  # warm up
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = ParquetReader(sys.argv[1], "target", chunk_rows=8192, shuffle_buffer=16384)
    h = m.fit(r, epochs=1, batch_size=256)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(base, peak, h.history["loss"][-1])
    """
)


def test_parquet_larger_than_the_memory_budget_trains_in_bounded_memory(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    n, d = 600_000, 64  # 149 MB as float32 in memory; the budget below is half of that
    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"f{i}", pa.float32()) for i in range(d)] + [("target", pa.float32())])
    with pq.ParquetWriter(path, schema, use_dictionary=False) as w:
        for _ in range(n // 50_000):
            X = rng.standard_normal((50_000, d)).astype(np.float32)
            cols = [pa.array(X[:, i]) for i in range(d)] + [pa.array(X[:, 0] * 2)]
            table = pa.Table.from_arrays(cols, schema=schema)
            w.write_table(table, row_group_size=10_000)  # memory is about one row group
    in_memory_mb = n * (d + 1) * 4 / 2**20
    env = dict(os.environ, PYTHONPATH=nncore_home())
    r = subprocess.run(
        [sys.executable, "-c", RSS_CHILD.format(d=d), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    base_kb, peak_kb, loss = r.stdout.split()
    grew_mb = (int(peak_kb) - int(base_kb)) / 1024
    assert float(loss) < 1.0  # it learned y = 2·f0
    assert grew_mb < in_memory_mb / 2, (
        f"peak RSS grew {grew_mb:.0f} MB for {in_memory_mb:.0f} MB of data"
    )
