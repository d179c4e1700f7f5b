"""The C++ inference API (nncore::Model, issue #18) through a thin binding: it reads .nnc files
exactly as Python writes them (same predictions, bit for bit) and turns every hostile file of the
Python loader's tests into a clean CppModelError instead of a crash."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import nncore as nc
from nncore import _core
from test_io import _craft, _mutations, _parts, _png

CppModel = _core.CppModel


def _fit(layers, loss, d=6, k=3, seed=0):
    m = nc.Sequential(layers, input_dim=d, seed=seed)
    m.compile(optimizer="adam", loss=loss)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, d)).astype(np.float32)
    y = X[:, :k].argmax(axis=1)
    t = {"cross_entropy": y, "binary_cross_entropy": (y == 0).astype(np.float32)[:, None]}
    m.fit(X, t.get(loss, X[:, :k] * 0.3), epochs=3, batch_size=16)
    return m, X


MODELS = {
    "bn_dropout_softmax": lambda: _fit(
        [
            nc.Dense(16),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.3),
            nc.Dense(3, "softmax"),
        ],
        "cross_entropy",
    ),
    "logits_ce": lambda: _fit([nc.Dense(8, "gelu"), nc.Dense(3)], "cross_entropy"),
    "sigmoid_bce": lambda: _fit(
        [nc.Dense(8, "tanh"), nc.Dense(1, "sigmoid")], "binary_cross_entropy"
    ),
    "regression": lambda: _fit(
        [nc.Dense(8, "selu", use_bias=False), nc.BatchNorm(affine=False), nc.Dense(3, "elu")], "mse"
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cpp_predictions_equal_python_bitwise(name, tmp_path):
    m, X = MODELS[name]()
    p = tmp_path / "m.nnc"
    m.save(p)
    c = CppModel.load(str(p))
    assert (c.input_dim, c.output_dim, c.loss) == (m.input_dim, m.engine.core.output_dim, m.loss)
    np.testing.assert_array_equal(c.predict(X), m.predict(X))
    np.testing.assert_array_equal(c.predict(X[:1]), m.predict(X[:1]))
    from_bytes = CppModel.from_bytes(p.read_bytes())
    np.testing.assert_array_equal(from_bytes.predict(X), m.predict(X))


def test_cpp_predict_is_reentrant(tmp_path):
    m, X = MODELS["bn_dropout_softmax"]()
    m.save(tmp_path / "m.nnc")
    c = CppModel.load(str(tmp_path / "m.nnc"))
    ref = m.predict(X)
    bad = []

    def work():
        for _ in range(50):
            if not np.array_equal(c.predict(X), ref):
                bad.append(1)

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not bad


@pytest.fixture
def saved(tmp_path):
    m, X = MODELS["bn_dropout_softmax"]()
    p = tmp_path / "m.nnc"
    m.save(p)
    return p


def _rejects(data: bytes, match=None):
    with pytest.raises(_core.CppModelError, match=match):
        CppModel.from_bytes(data)


def test_truncated_files(saved):
    data = saved.read_bytes()
    for keep in (0, 1, 7, 8, 19, 20, 51, 100, len(data) // 2, len(data) - 33, len(data) - 1):
        _rejects(data[:keep])


def test_every_flipped_byte_of_the_head_and_a_sample_of_the_rest(saved):
    data = saved.read_bytes()
    rng = np.random.default_rng(1)
    positions = set(range(40)) | set(rng.integers(0, len(data), 300).tolist()) | {len(data) - 1}
    for pos in sorted(positions):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        _rejects(bytes(bad))


def test_foreign_and_wrong_version(saved, tmp_path):
    version, header, section = _parts(saved.read_bytes())
    _rejects(_craft(version + 2, header, section), "version 3 is not supported")
    for foreign in (
        b"",
        _png(),
        b"\x00" * 4096,
        b'{"config": {}}\n' * 10,
        b"NNCORE\x00\x02" + b"x" * 60,
    ):
        _rejects(foreign)
    with pytest.raises(_core.CppModelError, match="cannot open"):
        CppModel.load(str(tmp_path / "missing.nnc"))
    with pytest.raises(_core.CppModelError):
        CppModel.load(str(tmp_path))  # a directory
    assert issubclass(_core.CppModelError, ValueError)


def test_bad_json_headers(saved):
    version, header, section = _parts(saved.read_bytes())
    good = json.dumps(header).encode()
    for raw in (
        b"",
        b"{",
        good[:-1],
        good + b"x",
        b"[" * 100000,
        b'{"arrays": [}',
        b'{"a": "\\x"}',
        b'{"a": "\x01"}',
        b"\xff\xfe",
        b"1e999999",
        b'{"arrays": [], "config": {"layers": [{"type": "dense", "units": 1e400}]}}',
    ):
        _rejects(_craft(version, None, section, raw_header=raw))


# The C++ loader reads what inference needs; these only concern training state.
_TRAINING_ONLY = {"bad optimizer", "optimizer not dict", "bad step", "string step", "huge step"}


def test_crafted_headers_replayed_through_the_cpp_loader(saved):
    version, header, section = _parts(saved.read_bytes())
    accepted = []
    for what, h in _mutations(header):
        data = _craft(version, h, section)
        try:
            CppModel.from_bytes(data)
        except _core.CppModelError:
            continue
        accepted.append(what)
    assert set(accepted) <= _TRAINING_ONLY, accepted
