"""A model file from a stranger (issue #34, items 1-7; issue #32, item 4): both loaders check every
declared size against the arrays present before allocating, raise one error type, read only
regular files, share one JSON depth limit, and the C++ loader reads every loss Python saves.
Resource-hungry files run in a subprocess under a 1 GiB address-space limit and a timeout, so a
regression fails the test instead of the machine."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nncore as nc
from nncore import _core

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools"))
import hostile_corpus as hc  # noqa: E402

SANITIZED = bool(os.environ.get("NNCORE_SANITIZED"))  # ASan reserves terabytes of address space


def _mlp(loss="cross_entropy", k=3):
    m = nc.Sequential([nc.Dense(4, "relu"), nc.Dense(k)], input_dim=3, seed=0)
    return m.compile(optimizer="adam", loss=loss)


def _tabular():
    layer = nc.TabularInput(numeric=[0, 1], categorical={2: 3, 3: 5}, embed_dim=2)
    m = nc.Sequential([layer, nc.Dense(2)], input_dim=4, seed=0)
    return m.compile(optimizer="sgd", loss="mse")


def _with(data, **changes):
    """The file with header fields changed (paths as config__layers__0__units), resealed."""
    h, s = hc.split(data)
    h = copy.deepcopy(h)
    for path, value in changes.items():
        keys = [int(p) if p.isdigit() else p for p in path.split("__")]
        node = h
        for k in keys[:-1]:
            node = node[k]
        if value is _DROP:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return hc.reseal(h, s)


_DROP = object()


def _unpickle(nnc: bytes):
    """What pickle.loads does with a pickled Sequential whose file bytes are ``nnc``."""
    state = _mlp().__getstate__()
    m = nc.Sequential.__new__(nc.Sequential)
    m.__setstate__(dict(state, nnc=nnc))
    return m


_LIMITED = textwrap.dedent(
    """
    import resource, sys
    if not {sanitized}:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    import nncore as nc
    from nncore import _core
    for path in sys.argv[1:]:
        for loader, ok_error in ((nc.load, nc.ModelFileError), (_core.CppModel.load, _core.CppModelError)):
            try:
                loader(path)
                print("loaded", path, flush=True)
            except ok_error as e:
                print("refused", path, str(e).replace(chr(10), " "), flush=True)
            except BaseException as e:
                print("wrong", path, type(e).__name__, flush=True)
    """
)


def _load_limited(tmp_path, files: dict[str, bytes], timeout=60) -> list[str]:
    """Both loaders on each file, in a subprocess limited to 1 GiB of address space; one output
    line per (file, loader); a hang fails the test at the timeout."""
    paths = []
    for name, data in files.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths.append(str(p))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", _LIMITED.format(sanitized=SANITIZED), *paths],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.splitlines()


def _all_refused(lines, n_files, *why):
    assert len(lines) == 2 * n_files, lines
    for line in lines:
        assert line.startswith("refused"), line
        assert any(w in line for w in why), line


# -- item 1: an embedding's columns listed before any size was checked ------------------------
def test_tiny_embedding_file_declaring_2e31_columns_is_refused_at_once(tmp_path):
    data = nc.io.dumps(_tabular())
    files = {
        "wide.nnc": _with(data, config__input_dim=2**31 - 1),
        "wide_no_numeric.nnc": _with(
            data, config__input_dim=2**31 - 1, config__layers__0__numeric=_DROP
        ),
    }
    assert max(len(d) for d in files.values()) < 2000
    _all_refused(_load_limited(tmp_path, files), 2, "wider than the")


# -- item 2: Python built (and randomly initialised) the declared network before comparing -------
def test_python_builds_nothing_from_a_header_its_arrays_do_not_match(monkeypatch):
    data = _with(nc.io.dumps(_mlp()), config__input_dim=10000, config__layers__0__units=10000)

    def built(*a, **k):
        raise AssertionError("a network was built from an unchecked header")

    monkeypatch.setattr(nc.Sequential, "from_config", built)
    monkeypatch.setattr(nc.Sequential, "from_state", built)
    with pytest.raises(nc.ModelFileError, match="'params' does not match the architecture"):
        nc.io.loads(data)
    with pytest.raises(nc.ModelFileError, match="'params' does not match"):
        _unpickle(data)


def test_huge_declared_dense_or_input_is_refused_within_memory(tmp_path):
    data = nc.io.dumps(_mlp())
    files = {
        "dense.nnc": _with(data, config__input_dim=10000, config__layers__0__units=10000),
        "input.nnc": _with(data, config__input_dim=2**24),
    }
    _all_refused(_load_limited(tmp_path, files), 2, "does not match the architecture", "wider than")


# -- item 3: other exception types escaped -------------------------------------------------------
@pytest.mark.parametrize("dtype", [["<f4"], {"a": 1}, None, 4])
def test_unhashable_or_odd_dtype_is_a_model_file_error(dtype):
    data = _with(nc.io.dumps(_mlp()), arrays__0__dtype=dtype)
    with pytest.raises(nc.ModelFileError, match="malformed array entry"):
        nc.io.loads(data)
    with pytest.raises(_core.CppModelError, match="malformed array entry"):
        _core.CppModel.from_bytes(data)
    with pytest.raises(nc.ModelFileError, match="malformed array entry"):
        _unpickle(data)


def test_shape_numpy_cannot_index_is_a_model_file_error():
    h, s = hc.split(nc.io.dumps(_mlp()))
    h["arrays"].append(
        {"name": "x", "dtype": "<f4", "shape": [2**32, 2**32, 0], "offset": 0, "nbytes": 0}
    )
    with pytest.raises(nc.ModelFileError, match="'x'"):
        nc.io.loads(hc.reseal(h, s))


# -- item 4: a header of empty lists cost gigabytes ----------------------------------------------
def test_header_of_empty_lists_is_bounded_in_both_readers(tmp_path):
    text = json.dumps(hc.split(nc.io.dumps(_mlp()))[0]).encode()
    _, section = hc.split(nc.io.dumps(_mlp()))
    over_nodes = hc.reseal(text[:-1] + b', "pad": [' + b"[]," * (5 << 20) + b"[]]}", section)
    over_size = hc.reseal(text[:-1] + b', "pad": [' + b"[]," * (21 << 20) + b"[]]}", section)
    lines = _load_limited(tmp_path, {"nodes.nnc": over_nodes, "size.nnc": over_size})
    _all_refused(lines[:2], 1, "more than 131072 values")
    _all_refused(lines[2:], 1, "exceeds the file size or the limit")


def test_both_readers_count_values_the_same_way():
    limit = nc.io._format.LIMITS["max_json_nodes"]
    text = json.dumps(hc.split(nc.io.dumps(_mlp()))[0]).encode()
    _, section = hc.split(nc.io.dumps(_mlp()))
    base_nodes = nc.io._format.json_size(text)[0]
    for pad, ok in ((limit - base_nodes - 1, True), (limit - base_nodes, False)):
        # pad empty lists: each is one value, plus the list holding them
        data = hc.reseal(text[:-1] + b', "pad": [' + b",".join([b"[]"] * pad) + b"]}", section)
        for load, err in (
            (nc.io.loads, nc.ModelFileError),
            (_core.CppModel.from_bytes, _core.CppModelError),
        ):
            if ok:
                load(data)
            else:
                with pytest.raises(err, match=f"more than {limit} values"):
                    load(data)


# -- item 5: only regular files ------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_device_symlink_and_fifo_are_refused_without_reading(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.nnc")
    os.mkfifo(tmp_path / "fifo.nnc")
    script = _LIMITED.format(sanitized=SANITIZED)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "zero.nnc"), str(tmp_path / "fifo.nnc")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    _all_refused(out.stdout.splitlines(), 2, "is not a regular file")


def test_size_limit_is_an_option(tmp_path):
    p = tmp_path / "m.nnc"
    _mlp().save(p)
    size = p.stat().st_size
    with pytest.raises(nc.ModelFileError, match="raise it with max_bytes"):
        nc.load(p, max_bytes=size - 1)
    with pytest.raises(_core.CppModelError, match="raise it with max_bytes"):
        _core.CppModel.load(str(p), max_bytes=size - 1)
    nc.load(p, max_bytes=size)
    _core.CppModel.load(str(p), max_bytes=size)


# -- item 6: one depth limit, deep enough for anything save writes -------------------------------
@pytest.mark.parametrize("depth", [40, 250])
def test_nested_residual_blocks_load_in_both_loaders(depth):
    layer = nc.Dense(2)
    for _ in range(depth):
        layer = nc.Residual([layer])
    m = nc.Sequential([layer], input_dim=2, seed=0).compile(loss="mse")
    data = nc.io.dumps(m)
    x = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(_core.CppModel.from_bytes(data).predict(x), m.predict(x))
    np.testing.assert_array_equal(nc.io.loads(data).predict(x), m.predict(x))


def test_save_refuses_what_load_would_refuse():
    layer = nc.Dense(2)
    for _ in range(300):  # 2 levels of JSON each: past the shared limit of 512
        layer = nc.Residual([layer])
    m = nc.Sequential([layer], input_dim=2, seed=0).compile(loss="mse")
    with pytest.raises(ValueError, match="cannot save: .*nesting deeper than 512"):
        nc.io.dumps(m)


def test_depth_limit_is_the_same_in_both_readers():
    depth = nc.io._format.LIMITS["max_json_depth"]
    text = json.dumps(hc.split(nc.io.dumps(_mlp()))[0]).encode()
    _, section = hc.split(nc.io.dumps(_mlp()))
    for extra, ok in ((depth - 1, True), (depth, False)):  # the header itself is one level
        data = hc.reseal(text[:-1] + b', "pad": ' + b"[" * extra + b"]" * extra + b"}", section)
        for load, err in (
            (nc.io.loads, nc.ModelFileError),
            (_core.CppModel.from_bytes, _core.CppModelError),
        ):
            if ok:
                load(data)
            else:
                with pytest.raises(err, match=f"nesting deeper than {depth}"):
                    load(data)


# -- item 7: the files that hung (> 30 s), under a 60 s budget for all of them together -----------
def test_targeted_hostile_files_finish_with_the_documented_error(tmp_path):
    files = {n: d for n, d in hc.targeted(dict(hc.base_models())) if len(d) < 1 << 20}
    lines = _load_limited(tmp_path, files, timeout=60)
    assert len(lines) == 2 * len(files)
    for line in lines:
        name = os.path.basename(line.split()[1])
        assert line.startswith("refused") or (
            line.startswith("loaded") and name.startswith("shape_")
        ), line


# -- issue #32, item 4: every loss Python saves, the C++ loader reads ---------------------------
LOSSES = {
    "mse": {},
    "mae": {},
    "huber": {},
    "cross_entropy": {},
    "binary_cross_entropy": {},
    "poisson": {},
    "focal": {},
    "binary_focal": {},
    "quantile": {"quantiles": [0.1, 0.5, 0.9]},
}


def test_every_loss_is_covered():
    assert set(LOSSES) == set(nc._losses.OUTPUT_TRANSFORM) | {
        "mse",
        "mae",
        "huber",
        "poisson",
        "quantile",
    }


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_cpp_loader_reads_every_loss_python_saves(loss):
    k = 3
    m = nc.Sequential([nc.Dense(5, "tanh"), nc.Dense(k)], input_dim=4, seed=0)
    m.compile(optimizer="adam", loss=loss, loss_options=LOSSES[loss] or None)
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    c = _core.CppModel.from_bytes(nc.io.dumps(m))
    assert c.loss == loss
    np.testing.assert_array_equal(c.predict(x), m.predict(x))


def test_load_builds_one_network_and_initialises_nothing_randomly(monkeypatch):
    made = []
    real = _core.Network

    def spy(*args, **kwargs):
        made.append(kwargs.get("init", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(_core, "Network", spy)
    m = _mlp()
    data = nc.io.dumps(m)
    made.clear()
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(nc.io.loads(data).predict(x), m.predict(x))
    assert made == [False]
