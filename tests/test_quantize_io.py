"""int8 models on disk: save / load round trip (Python and the C++ nncore::Model, same bits),
format version 2 for int8 models while other models stay version 1, a file written by the
version-1 nncore still loading, and hostile edits of the quantization fields raising the one
documented error in both loaders."""

from __future__ import annotations

import os
import pathlib
import random
import sys

import numpy as np
import pytest

import nncore as nc
from nncore import _core
from nncore.quantize import QuantizedModel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools"))
import hostile_corpus  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 20)).astype(np.float32)
    y = rng.integers(0, 3, 400)
    m = nc.Sequential(
        [nc.Dense(32), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.1), nc.Dense(3)],
        input_dim=20,
        seed=0,
    ).compile(optimizer="adam", loss="cross_entropy")
    m.fit(X, y, epochs=2, batch_size=32, verbose=0)
    return m, X


@pytest.mark.parametrize(
    "activations,keep", [("static", True), ("static", False), ("dynamic", True)]
)
def test_round_trip_python_and_cpp_same_bits(trained, tmp_path, activations, keep):
    m, X = trained
    q = m.quantize(X[:200], activations=activations, keep_last_fp32=keep)
    path = tmp_path / "q.nnc"
    q.save(path)
    assert path.read_bytes()[8:12] == (2).to_bytes(4, "little")  # format version 2
    q2 = nc.load(path)
    assert isinstance(q2, QuantizedModel)
    assert (q2.activations, q2.keep_last_fp32) == (activations, keep)
    want = q.predict(X)
    np.testing.assert_array_equal(q2.predict(X), want)
    cpp = _core.CppModel.load(str(path))
    assert cpp.quantized
    np.testing.assert_array_equal(cpp.predict(X), want)
    np.testing.assert_array_equal(nc.io.loads(nc.io.dumps(q)).predict(X), want)


def test_fp32_models_stay_version_1(trained, tmp_path):
    m, X = trained
    m.save(tmp_path / "m.nnc")
    assert (tmp_path / "m.nnc").read_bytes()[8:12] == (1).to_bytes(4, "little")
    assert not _core.CppModel.load(str(tmp_path / "m.nnc")).quantized


def test_a_file_from_the_version_1_writer_loads():
    # written by nncore before int8 models existed (format version 1), with its predictions
    path = DATA / "model_format_v1.nnc"
    assert path.read_bytes()[8:12] == (1).to_bytes(4, "little")
    m = nc.load(path)
    X = np.random.default_rng(7).normal(size=(64, 6)).astype(np.float32)
    want = np.load(DATA / "model_format_v1_predict.npy")
    np.testing.assert_array_equal(m.predict(X[:5]), want)
    np.testing.assert_array_equal(_core.CppModel.load(str(path)).predict(X[:5]), want)
    assert m.quantize(X).predict(X[:5]).argmax(1).tolist() == want.argmax(1).tolist()


def _both_refuse(data: bytes, match: str | None = None):
    with pytest.raises(nc.ModelFileError, match=match):
        nc.io.loads(data)
    with pytest.raises(_core.CppModelError, match=match):
        _core.CppModel.from_bytes(data)


def _edited(q, edit, version=2):
    header, section = hostile_corpus.split(nc.io.dumps(q))
    arrays = {a["name"]: a for a in header["arrays"]}
    edit(header, arrays, section)
    return hostile_corpus.reseal(header, section, version)


def test_hostile_quantization_fields_are_refused(trained):
    m, X = trained
    q = m.quantize(X[:100])
    header, section = hostile_corpus.split(nc.io.dumps(q))
    scale = header["arrays"][
        [a["name"] for a in header["arrays"]].index("quantization.input_scale")
    ]

    def put_scale(value):
        s = bytearray(section)
        s[scale["offset"] : scale["offset"] + 4] = np.float32(value).tobytes()
        return hostile_corpus.reseal(header, bytes(s), 2)

    for bad in (np.nan, np.inf, 0.0, -1.0):
        _both_refuse(put_scale(bad), "scale")
    _both_refuse(hostile_corpus.reseal(header, section, 1), "version 2")
    _both_refuse(hostile_corpus.reseal(header, section, 3), "version 3")
    for key, value, why in [
        ("scheme", "int4", "scheme"),
        ("activations", "sometimes", "activations"),
        ("keep_last_fp32", 1, "keep_last_fp32"),
        ("keep_last_fp32", False, "quantization arrays"),  # one more int8 layer than scales
    ]:
        h = dict(header, quantization=dict(header["quantization"], **{key: value}))
        _both_refuse(hostile_corpus.reseal(h, section, 2), why)
    h = dict(header, quantization=[1, 2])
    _both_refuse(hostile_corpus.reseal(h, section, 2), "object")
    h = dict(header, arrays=[a for a in header["arrays"] if not a["name"].startswith("quant")])
    _both_refuse(hostile_corpus.reseal(h, section, 2), "quantization arrays")


def test_random_mutations_of_an_int8_file_load_or_raise_the_documented_error(trained):
    m, X = trained
    base = nc.io.dumps(m.quantize(X[:100]))
    header, section = hostile_corpus.split(base)
    rng = random.Random(36)
    loaded = 0
    for _ in range(150):
        data = hostile_corpus.reseal(hostile_corpus.mutate_header(rng, header), section, 2)
        try:  # the C++ loader reads less (no optimizer state): it may accept more
            _core.CppModel.from_bytes(data)
        except _core.CppModelError:
            pass
        try:
            model = nc.io.loads(data)
        except nc.ModelFileError:
            continue
        loaded += 1
        cpp = _core.CppModel.from_bytes(data)  # what Python loads, C++ loads: same outputs
        np.testing.assert_array_equal(cpp.predict(X[:8]), model.predict(X[:8]))
    assert loaded < 150


def test_training_the_original_later_changes_nothing(trained, tmp_path):
    m, X = trained
    m2 = nc.io.loads(nc.io.dumps(m))  # a private copy to train on
    q = m2.quantize(X[:100])
    before = q.predict(X)
    m2.fit(X, np.zeros(len(X), np.int64), epochs=1, verbose=0)
    np.testing.assert_array_equal(q.predict(X), before)
    q.save(tmp_path / "q.nnc")
    np.testing.assert_array_equal(nc.load(tmp_path / "q.nnc").predict(X), before)
