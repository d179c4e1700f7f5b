"""Model files (issue: Hardening): atomic save, and load refusing truncated, corrupted,
wrong-version, foreign and crafted files with a clear ModelFileError — never a crash, never
pickle, never unbounded memory."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import tempfile
import zlib

import numpy as np
import pytest

import nncore as nc
from nncore import io as nio


def _model(seed=0):
    m = nc.Sequential([nc.Dense(6, "relu"), nc.Dense(3)], input_dim=4, seed=seed)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="cross_entropy", metrics=["accuracy"])
    X = np.random.default_rng(seed).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    m.fit(X, y, epochs=2, batch_size=8)
    return m, X


@pytest.fixture
def saved(tmp_path):
    m, X = _model()
    p = tmp_path / "m.nnc"
    m.save(p)
    return m, X, p


def _parts(data: bytes):
    """(version, header dict, data section) of a valid file."""
    version, hlen = struct.unpack_from("<IQ", data, 8)
    start = 8 + 12
    header = json.loads(data[start : start + hlen])
    return version, header, data[start + hlen : -32]


def _craft(version: int, header, section: bytes, *, raw_header: bytes | None = None) -> bytes:
    """A file with a valid checksum around whatever header/section we want."""
    hbytes = raw_header if raw_header is not None else json.dumps(header).encode()
    body = nio.MAGIC + struct.pack("<IQ", version, len(hbytes)) + hbytes + section
    return body + hashlib.sha256(body).digest()


def test_round_trip_is_exact(saved):
    m, X, p = saved
    m2 = nc.load(p)
    np.testing.assert_array_equal(m.predict(X), m2.predict(X))
    assert m2.epochs_done == m.epochs_done and m2.engine.core.step == m.engine.core.step


@pytest.mark.parametrize("keep", [0, 1, 7, 8, 19, 20, 100, -33, -32, -1])
def test_truncated_file(saved, keep):
    _, _, p = saved
    data = p.read_bytes()
    p.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(nio.ModelFileError):
        nc.load(p)


def test_bit_flip_anywhere_is_detected(saved):
    _, _, p = saved
    data = p.read_bytes()
    rng = np.random.default_rng(0)
    # Every byte of the fixed head, then a sample of positions across the whole file.
    positions = sorted(
        set(range(0, 40))
        | set(rng.integers(0, len(data), 300).tolist())
        | {len(data) - 1, len(data) - 32}
    )
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        p.write_bytes(bytes(bad))
        with pytest.raises(nio.ModelFileError):
            nc.load(p)


def test_wrong_version(saved):
    _, _, p = saved
    version, header, section = _parts(p.read_bytes())
    p.write_bytes(_craft(version + 2, header, section))
    with pytest.raises(nio.ModelFileError, match="version 3 is not supported"):
        nc.load(p)


def _png() -> bytes:
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("kind", ["empty", "png", "npy", "npz", "pickle", "text", "zeros"])
def test_foreign_files(tmp_path, kind, monkeypatch):
    p = tmp_path / f"foreign.{kind}"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "png":
        p.write_bytes(_png())
    elif kind == "npy":
        np.save(p, np.arange(100, dtype=np.float32))
    elif kind == "npz":
        np.savez(p, a=np.arange(10))
    elif kind == "pickle":
        p.write_bytes(pickle.dumps(_Boom()))
    elif kind == "text":
        p.write_text('{"config": {}}\n' * 10)
    else:
        p.write_bytes(b"\x00" * 4096)

    def no_pickle(*a, **k):
        raise AssertionError("load must never unpickle")

    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "load", no_pickle)
    with pytest.raises(nio.ModelFileError):
        nc.load(p)


def test_directory_and_missing_paths(tmp_path):
    with pytest.raises(nio.ModelFileError, match="directory"):
        nc.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        nc.load(tmp_path / "missing.nnc")
    assert issubclass(nio.ModelFileError, ValueError)


def _mutations(header):
    """Crafted headers with a valid checksum: absurd shapes, offsets, types, configs."""
    a0 = header["arrays"][0]

    def arr(**kw):
        h = json.loads(json.dumps(header))
        h["arrays"][0].update(kw)
        return h

    def cfg(fn):
        h = json.loads(json.dumps(header))
        fn(h)
        return h

    yield "huge shape", arr(shape=[2**40, 2**40])
    yield "overflowing shape", arr(shape=[2**32, 2**32, 2**32], nbytes=0)  # int64 prod would wrap
    yield "negative dim", arr(shape=[-1, a0["shape"][0]])
    yield "many dims", arr(shape=[1] * 1000)
    yield "float dim", arr(shape=[1.5])
    yield "bool dim", arr(shape=[True])
    yield "huge offset", arr(offset=2**62)
    yield "negative offset", arr(offset=-64)
    yield "huge nbytes", arr(nbytes=2**63)
    yield "string offset", arr(offset="0")
    yield "object dtype", arr(dtype="|O")
    yield "pickle dtype", arr(dtype="O")
    yield "big-endian dtype", arr(dtype=">f4")
    yield "name not str", arr(name=["params"])
    yield "arrays not list", cfg(lambda h: h.update(arrays={"a": 1}))
    yield "entry not dict", cfg(lambda h: h.update(arrays=[1, 2]))
    yield "no params", cfg(lambda h: h.update(arrays=h["arrays"][1:]))
    yield "config list", cfg(lambda h: h.update(config=[1, 2]))
    yield "no layers", cfg(lambda h: h["config"].update(layers=[]))
    yield "layers not list", cfg(lambda h: h["config"].update(layers="dense"))
    yield "unknown layer", cfg(lambda h: h["config"]["layers"].__setitem__(0, {"type": "conv"}))
    yield "bad units", cfg(lambda h: h["config"]["layers"][0].update(units=-3))
    yield "huge units", cfg(lambda h: h["config"]["layers"][0].update(units=2**29))
    yield "huge input_dim", cfg(lambda h: h["config"].update(input_dim=2**31 - 1))
    yield "giant input_dim", cfg(lambda h: h["config"].update(input_dim=10**30))
    yield "layer not dict", cfg(lambda h: h["config"]["layers"].__setitem__(0, 5))
    yield "unknown kwarg", cfg(lambda h: h["config"]["layers"][0].update(evil="x"))
    yield "bad loss", cfg(lambda h: h["config"]["compile"].update(loss="__import__('os')"))
    yield "bad optimizer", cfg(lambda h: h.update(optimizer={"name": "os.system"}))
    yield "optimizer not dict", cfg(lambda h: h.update(optimizer=[1]))
    yield "bad step", cfg(lambda h: h.update(step=-1))
    yield "string step", cfg(lambda h: h.update(step="many"))
    yield "huge step", cfg(lambda h: h.update(step=2**70))
    yield "header list", [1, 2, 3]
    yield "header null", None


def test_crafted_headers_with_valid_checksum(saved):
    _, _, p = saved
    version, header, section = _parts(p.read_bytes())
    for what, h in _mutations(header):
        p.write_bytes(_craft(version, h, section))
        with pytest.raises((nio.ModelFileError, MemoryError)) as info:
            nc.load(p)
        assert str(p) in str(info.value) or isinstance(info.value, MemoryError), what


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 200_000 + b"]" * 200_000,  # nesting deeper than the recursion limit
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\xff\xfe not utf-8",
        b'{"arrays": [], "config": ',
        b"NaN",
    ],
)
def test_malicious_json(saved, raw):
    _, _, p = saved
    version, _, section = _parts(p.read_bytes())
    p.write_bytes(_craft(version, None, section, raw_header=raw))
    with pytest.raises(nio.ModelFileError):
        nc.load(p)


def test_header_length_beyond_file(saved):
    _, _, p = saved
    data = bytearray(p.read_bytes())
    body = bytes(data[:-32])
    body = body[:8] + struct.pack("<IQ", 1, 2**63) + body[20:]
    p.write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(nio.ModelFileError, match="header length"):
        nc.load(p)


def test_crafted_finite_weights_with_valid_checksum_load(saved):
    m, X, p = saved
    version, header, section = _parts(p.read_bytes())
    # The params array is first, at offset 0: flip its first value to a different finite value.
    sec = bytearray(section)
    sec[0:4] = struct.pack("<f", 123.5)
    p.write_bytes(_craft(version, header, bytes(sec)))
    assert nc.load(p).parameters()["0.weight"][0, 0] == 123.5


def test_crash_mid_save_keeps_previous_file(saved, monkeypatch):
    m, X, p = saved
    before = p.read_bytes()
    m.fit(X, np.arange(30) % 3, epochs=1)  # the model now differs from the file

    def crash(*a, **k):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        m.save(p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert sorted(os.listdir(p.parent)) == ["m.nnc"]  # no temporary file left behind
    nc.load(p)


def test_crash_while_writing_keeps_previous_file(saved, monkeypatch):
    m, X, p = saved
    before = p.read_bytes()

    def crash(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        m.save(p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert sorted(os.listdir(p.parent)) == ["m.nnc"]


def test_save_to_a_directory_fails_before_writing(tmp_path, monkeypatch):
    m, _ = _model()
    target = tmp_path / "models"
    target.mkdir()
    wrote = []
    real_mkstemp = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda **k: (wrote.append(k), real_mkstemp(**k))[1])
    with pytest.raises(IsADirectoryError, match="give a file name") as e:
        m.save(target)
    assert e.value.filename == str(target)
    assert wrote == []  # refused before any temporary file was written
    assert sorted(os.listdir(tmp_path)) == ["models"] and os.listdir(target) == []


def test_save_into_a_missing_directory_names_it(tmp_path):
    m, _ = _model()
    target = tmp_path / "no_such_dir" / "m.nnc"
    with pytest.raises(FileNotFoundError, match="no directory .*no_such_dir") as e:
        m.save(target)
    assert e.value.filename == str(target)  # the path asked for, not a temporary file's
    assert os.listdir(tmp_path) == []


def test_save_is_atomic_rename_with_fsync(tmp_path, monkeypatch):
    m, _ = _model()
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1]
    )
    m.save(tmp_path / "x.nnc")
    assert calls == ["fsync", "replace"]


def test_load_never_executes_code(tmp_path):
    # A valid file whose strings look like code: they are only ever compared, never evaluated.
    m, _ = _model()
    p = tmp_path / "m.nnc"
    m.save(p)
    version, header, section = _parts(p.read_bytes())
    marker = tmp_path / "executed"
    header["config"]["layers"][0]["activation"] = f"__import__('os').mkdir({str(marker)!r})"
    p.write_bytes(_craft(version, header, section))
    with pytest.raises(nio.ModelFileError):
        nc.load(p)
    assert not marker.exists()


def test_dumps_loads_and_state_round_trip(saved, monkeypatch):
    """dumps gives the file's bytes; loads and from_state(state()) rebuild a model that predicts
    and keeps training bitwise like the original; none of it touches the disk."""
    m, X, p = saved
    data = nio.dumps(m)
    assert data == p.read_bytes()
    import tempfile

    def no_disk(*a, **k):
        raise AssertionError("serializing to bytes must not write a temporary file")

    monkeypatch.setattr(tempfile, "mkstemp", no_disk)
    from nncore._serialize import from_bytes, to_bytes

    assert to_bytes(m) == data
    y = np.arange(30) % 3
    for m2 in (nio.loads(data), from_bytes(data), nc.Sequential.from_state(m.state())):
        np.testing.assert_array_equal(m.predict(X), m2.predict(X))
        m2.fit(X, y, epochs=1, batch_size=8)
        assert m2.epochs_done == m.epochs_done + 1
    m.fit(X, y, epochs=1, batch_size=8)
    np.testing.assert_array_equal(m.get_weights()[0], m2.get_weights()[0])
    with pytest.raises(nio.ModelFileError, match="<bytes>: checksum mismatch"):
        nio.loads(data[:-1] + bytes([data[-1] ^ 1]))


def test_file_objects_save_and_load(saved, tmp_path):
    """save writes to a binary file object and load reads one (as torch.save / torch.load do),
    with the same bytes and the same checks as a path; a file's bytes passed to load and text
    mode are refused with the way out."""
    import io

    m, X, p = saved
    buf = io.BytesIO()
    m.save(buf)
    assert buf.getvalue() == p.read_bytes()
    buf.seek(0)
    np.testing.assert_array_equal(nc.load(buf).predict(X), m.predict(X))
    with open(p, "rb") as f:
        f.read(0)
        assert nc.load(f).epochs_done == m.epochs_done
    q = m.quantize(X)
    qbuf = io.BytesIO()
    q.save(qbuf)
    qbuf.seek(0)
    np.testing.assert_array_equal(nc.load(qbuf).predict(X), q.predict(X))
    data = p.read_bytes()
    with pytest.raises(nio.ModelFileError, match="<file object>: checksum mismatch"):
        nc.load(io.BytesIO(data[:-1]))
    with pytest.raises(nio.ModelFileError, match="limit of 100 bytes"):
        nc.load(io.BytesIO(data), max_bytes=100)
    with pytest.raises(TypeError, match=r"nncore\.io\.loads"):
        nc.load(data)
    with pytest.raises(TypeError, match="'wb'"):
        m.save(io.StringIO())
    with open(p, encoding="latin-1") as f, pytest.raises(TypeError, match="'rb'"):
        nc.load(f)


def test_state_is_a_copy_and_checked(saved):
    m, X, _ = saved
    st = m.state()
    st["arrays"]["params"][:] = 0  # the state holds copies: the model is unchanged
    assert np.abs(m.parameters()["0.weight"]).sum() > 0
    st = m.state()
    st["arrays"]["params"] = st["arrays"]["params"][:-1]
    with pytest.raises(ValueError, match="'params' does not match the architecture"):
        nc.Sequential.from_state(st)


def test_save_refuses_nonfinite_batchnorm_statistics(tmp_path):
    """Found by the fuzzer: training on inputs ~1e30 overflows BatchNorm's running variance to
    inf; save then wrote a file that load refuses. save must say so and write nothing."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(32, 4)) * 1e30).astype(np.float32)
    y = rng.integers(0, 2, 32)
    m = nc.Sequential([nc.Dense(8), nc.BatchNorm(), nc.Dense(2)], input_dim=4)
    m.compile(optimizer="sgd", loss="cross_entropy")
    m.fit(X, y, epochs=1, batch_size=16)
    assert not all(np.isfinite(b).all() for b in m.buffers().values())
    with pytest.raises(ValueError, match="non-finite"):
        m.save(tmp_path / "m.nnc")
    assert not (tmp_path / "m.nnc").exists()


# ------------------------------------------------------------------- Keras's weights-only files
def _bn_model(seed):
    m = nc.Sequential(
        [nc.Dense(6, "relu"), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(3)], input_dim=4, seed=seed
    )
    return m.compile(optimizer="adam", loss="cross_entropy")


def test_weights_round_trip_into_another_model(tmp_path):
    trained = _bn_model(0)
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    trained.fit(X, np.arange(40) % 3, epochs=3, batch_size=8)
    path = tmp_path / "best.weights.nnc"
    trained.save_weights(path)
    header, arrays = nio.read(path)
    assert sorted(arrays) == ["buffers", "params"]  # no optimizer state
    assert header["optimizer"]["name"] == "adam" and header["optimizer"]["steps"] == 0
    fresh_adam = nc.load(path)  # the same kind of optimizer, starting afresh
    assert fresh_adam.optimizer.name == "adam" and fresh_adam.optimizer.steps == 0
    assert np.array_equal(fresh_adam.predict(X), trained.predict(X))
    other = _bn_model(1)
    other.fit(X[:8], np.arange(8) % 3, epochs=1, batch_size=8)
    moments = {k: v.copy() for k, v in other.optimizer.state_dict()["state"].items()}
    other.load_weights(path)
    for a, b in zip(other.get_weights(), trained.get_weights()):  # batchnorm's statistics too
        assert np.array_equal(a, b)
    assert np.array_equal(other.predict(X), trained.predict(X))
    # the optimizer's state and the counts stay this model's
    after = other.optimizer.state_dict()
    assert after["steps"] == 1 and other.engine.step == 1 and other.epochs_done == 1
    assert all(np.array_equal(after["state"][k], v) for k, v in moments.items())
    # an unbuilt model of the same layers is built for the file's inputs
    fresh = nc.Sequential([nc.Dense(6, "relu"), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(3)])
    fresh.load_weights(path)
    fresh.compile(loss="cross_entropy")
    assert fresh.input_dim == 4 and np.array_equal(fresh.predict(X), trained.predict(X))
    # a full save and a file object serve as well
    trained.save(tmp_path / "full.nnc")
    with open(tmp_path / "full.nnc", "rb") as f:
        _bn_model(2).load_weights(f)


@pytest.mark.parametrize(
    "layers, input_dim, match",
    [
        ([nc.Dense(6, "relu"), nc.Dense(3)], 4, "layers"),
        ([nc.Dense(6, "relu"), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(3)], 5, "inputs"),
        ([nc.Dense(7, "relu"), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(3)], 4, "shape"),
    ],
)
def test_load_weights_refuses_another_model_and_writes_nothing(tmp_path, layers, input_dim, match):
    _bn_model(0).save_weights(tmp_path / "w.nnc")
    other = nc.Sequential(layers, input_dim=input_dim, seed=3)
    kept = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match=match) as err:
        other.load_weights(tmp_path / "w.nnc")
    assert "w.nnc" in str(err.value)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), kept))


def test_load_weights_validates_the_file(saved, tmp_path):
    m, _X, p = saved
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x40
    bad = tmp_path / "flipped.nnc"
    bad.write_bytes(bytes(data))
    kept = [w.copy() for w in m.get_weights()]
    with pytest.raises(nc.ModelFileError, match="flipped.nnc"):
        m.load_weights(bad)
    with pytest.raises(nc.ModelFileError, match="limit"):
        m.load_weights(p, max_bytes=100)
    with pytest.raises(nc.ModelFileError, match="directory"):
        m.load_weights(tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), kept))


# --------------------------------------------------------- PyTorch's state_dict / load_state_dict
def test_state_dict_round_trip_and_copies():
    a, b = _bn_model(0), _bn_model(1)
    X = np.random.default_rng(2).normal(size=(40, 4)).astype(np.float32)
    a.fit(X, np.arange(40) % 3, epochs=2, batch_size=8)
    sd = a.state_dict()
    assert list(sd) == [*a.parameters(), *a.buffers()]
    assert b.load_state_dict(sd) == ([], [])
    assert np.array_equal(a.predict(X), b.predict(X))
    a.fit(X, np.arange(40) % 3, epochs=1, batch_size=8)  # the kept state_dict does not move
    assert np.array_equal(b.state_dict()["0.weight"], sd["0.weight"])
    assert not np.array_equal(a.state_dict()["0.weight"], sd["0.weight"])


def test_load_state_dict_strict_and_all_or_nothing():
    m = _bn_model(0)
    kept = m.state_dict()
    other = dict(_bn_model(1).state_dict())
    partial = {k: v for k, v in other.items() if k != "3.bias"}
    with pytest.raises(ValueError, match=r"missing keys '3\.bias'"):
        m.load_state_dict(partial)
    with pytest.raises(ValueError, match=r"unexpected keys 'extra'"):
        m.load_state_dict({**other, "extra": np.zeros(2)})
    for k, v in m.state_dict().items():  # nothing written by the refusals
        assert np.array_equal(v, kept[k])
    missing, unexpected = m.load_state_dict({**partial, "extra": np.zeros(2)}, strict=False)
    assert missing == ["3.bias"] and unexpected == ["extra"]
    now = m.state_dict()
    assert np.array_equal(now["3.bias"], kept["3.bias"])
    assert np.array_equal(now["0.weight"], other["0.weight"])
    bad = dict(other, **{"0.weight": np.zeros((6, 5), np.float32)})
    bad["3.bias"] = np.full(3, np.nan, np.float32)
    for wrong in (bad, {**other, "0.weight": np.zeros((5, 6))}):
        before = m.state_dict()
        with pytest.raises(ValueError, match="0.weight|3.bias"):
            m.load_state_dict(wrong, strict=False)
        assert all(np.array_equal(v, before[k]) for k, v in m.state_dict().items())
    with pytest.raises(TypeError, match="mapping"):
        m.load_state_dict([v for v in other.values()])
    with pytest.raises(TypeError, match="strict"):
        m.load_state_dict(other, strict="no")


def test_load_state_dict_from_pytorch():
    torch = pytest.importorskip("torch")

    def separate(seed):  # the activation as its own layer: the indexes line up with PyTorch's
        layers = [nc.Dense(6), nc.Activation("relu"), nc.BatchNorm(), nc.Dropout(0.2), nc.Dense(3)]
        return nc.Sequential(layers, input_dim=4, seed=seed).compile(loss="cross_entropy")

    X = np.random.default_rng(3).normal(size=(16, 4)).astype(np.float32)
    seq = separate(0).to_torch()
    with torch.no_grad():
        for p in seq.parameters():
            p.add_(0.5)
        seq[2].running_mean.fill_(0.25)
    target = separate(1)
    # the BatchNorm's num_batches_tracked is not nncore's: left out, even when strict
    assert target.load_state_dict(seq.state_dict()) == ([], [])
    seq.eval()
    with torch.no_grad():
        expected = torch.softmax(seq(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(target.predict(X), expected, rtol=1e-5, atol=1e-6)
