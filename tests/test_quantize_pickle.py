"""Pickle and copy.deepcopy of an int8 QuantizedModel (issue #36): the copy predicts the same
bits (static and dynamic activations, with and without an fp32 last layer), loads in a fresh
process, and a corrupted or malformed payload is a clear ModelFileError."""

from __future__ import annotations

import copy
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

import nncore as nc
from nncore._format import ModelFileError
from nncore.quantize import QuantizedModel


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 12)).astype(np.float32)
    y = (X[:, :3].argmax(axis=1)).astype(np.int64)
    m = nc.Sequential(
        [nc.Dense(40), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(24, "gelu"), nc.Dense(3)],
        input_dim=12,
        seed=4,
    ).compile(optimizer="adam", loss="cross_entropy")
    m.fit(X, y, epochs=2, batch_size=32, verbose=0)
    return m, X


def _pickle(q):
    return pickle.loads(pickle.dumps(q))


MODES = [("static", True), ("static", False), ("dynamic", True), ("dynamic", False)]


@pytest.mark.parametrize("how", [_pickle, copy.deepcopy], ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("activations,keep", MODES)
def test_copy_predicts_the_same_bits(trained, how, activations, keep):
    m, X = trained
    q = m.quantize(X[:150], activations=activations, keep_last_fp32=keep)
    c = how(q)
    assert isinstance(c, QuantizedModel) and c is not q and c.model is not q.model
    assert (c.activations, c.keep_last_fp32) == (activations, keep)
    assert (c.input_scales, c.input_zero_points) == (q.input_scales, q.input_zero_points)
    np.testing.assert_array_equal(c.predict(X), q.predict(X))
    assert repr(c) == repr(q)


def test_copy_is_independent_of_the_original(trained):
    m, X = trained
    q = m.quantize(X[:150])
    c = copy.deepcopy(q)
    want = c.predict(X)
    q.model.fit(X, X[:, :3].argmax(axis=1), epochs=1, verbose=0)
    np.testing.assert_array_equal(c.predict(X), want)


def test_a_pickle_loads_in_a_fresh_process(trained, tmp_path):
    m, X = trained
    q = m.quantize(X[:150], activations="static", keep_last_fp32=False)
    (tmp_path / "q.pkl").write_bytes(pickle.dumps(q))
    np.save(tmp_path / "x.npy", X)
    script = (
        "import pickle, sys, numpy as np\n"
        "d = sys.argv[1]\n"
        "q = pickle.load(open(d + '/q.pkl', 'rb'))\n"
        "np.save(d + '/out.npy', q.predict(np.load(d + '/x.npy')))\n"
    )
    # the nncore under test (the source tree locally, the installed package in CI)
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(nc.__file__).resolve().parents[1]))
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), q.predict(X))


def test_a_corrupted_fp32_payload_is_a_checksum_error(trained):
    m, X = trained
    state = m.quantize(X[:150]).__getstate__()
    inner = state["model"].__getstate__()
    bad = bytearray(inner["nnc"])
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(ModelFileError, match="checksum"):
        nc.Sequential.__new__(nc.Sequential).__setstate__({"nnc": bytes(bad), "metrics": []})
    data = pickle.dumps(m.quantize(X[:150]))
    at = data.index(inner["nnc"][:64]) + len(inner["nnc"]) // 2
    with pytest.raises(ModelFileError, match="checksum"):
        pickle.loads(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])


def test_a_truncated_pickle_raises(trained):
    m, X = trained
    data = pickle.dumps(m.quantize(X[:150]))
    for cut in (len(data) // 3, len(data) - 5):
        with pytest.raises((pickle.UnpicklingError, EOFError, ValueError)):
            pickle.loads(data[:cut])


def _edits():
    yield "scheme", lambda s: s["quantization"].update(scheme="int4")
    yield "mode", lambda s: s["quantization"].update(activations="sometimes")
    yield "keep", lambda s: s["quantization"].update(keep_last_fp32=1)
    yield "scale dtype", lambda s: s.update(input_scale=s["input_scale"].astype(np.float64))
    yield "scale list", lambda s: s.update(input_scale=[0.1])
    yield "scale count", lambda s: s.update(input_scale=np.zeros(7, np.float32))
    yield "scale zero", lambda s: s.update(input_scale=np.zeros_like(s["input_scale"]))
    yield "scale nan", lambda s: s.update(input_scale=np.full_like(s["input_scale"], np.nan))
    yield "zero point", lambda s: s.update(input_zero_point=np.full(2, 300, np.int64))
    yield "no model", lambda s: s.pop("model")
    yield "model", lambda s: s.update(model="not a model")
    yield "quantization", lambda s: s.update(quantization=None)


@pytest.mark.parametrize("name,edit", list(_edits()), ids=[n for n, _ in _edits()])
def test_malformed_payloads_are_a_model_file_error(trained, name, edit):
    m, X = trained
    state = m.quantize(X[:150], keep_last_fp32=False).__getstate__()
    edit(state)
    with pytest.raises(ModelFileError, match="<pickle>"):
        QuantizedModel.__new__(QuantizedModel).__setstate__(state)
