"""The committed hostile corpus (tools/hostile_corpus.py: structured header mutations and byte
flips of five saved models, resealed with a correct SHA-256, plus the files of issue #34) through
both loaders: each file loads or raises the one documented error, and the C++ loader accepts
every file Python loads. Resource bounds are measured by tools/hostile_check.py."""

import os
import sys

import pytest

import nncore as nc
from nncore import _core

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools"))
import hostile_corpus  # noqa: E402

_CORPUS = hostile_corpus.unpack()


def test_corpus_is_large_and_resealed():
    assert len(_CORPUS) >= 3000
    import hashlib

    assert all(hashlib.sha256(d[:-32]).digest() == d[-32:] for _, d in _CORPUS)


def test_every_file_loads_or_raises_the_documented_error():
    loaded = {"python": set(), "cpp": set()}
    for name, data in _CORPUS:
        try:
            nc.io.loads(data)
            loaded["python"].add(name)
        except nc.ModelFileError as e:
            assert str(e).startswith("<bytes>: ") and "\n" not in str(e), (name, str(e))
        try:
            _core.CppModel.from_bytes(data, name)
            loaded["cpp"].add(name)
        except _core.CppModelError as e:
            assert str(e).startswith(name + ": ") and "\n" not in str(e), (name, str(e))
    # Python builds only what the C++ check accepted
    assert loaded["python"] <= loaded["cpp"]
    assert (
        len(loaded["python"]) > 300 and len(loaded["cpp"]) > 300
    )  # the mutations reach past the header
    for name in ("valid_residual_depth_40.nnc", "valid_residual_depth_250.nnc"):
        assert name in loaded["python"] and name in loaded["cpp"]
    for name, _ in _CORPUS:
        if name.startswith("target_"):
            assert name not in loaded["python"], name
            # an extra array the C++ loader does not read is consistent (0 bytes for 0 values)
            assert name not in loaded["cpp"] or name.startswith("target_shape"), name


def test_corpus_is_what_the_script_writes(tmp_path):
    """The committed file is the generator's output (regenerate it after a format change)."""
    if os.environ.get("NNCORE_SANITIZED"):
        pytest.skip("slow under the sanitizer")
    assert hostile_corpus.generate()[0][0] == _CORPUS[0][0]
    assert [n for n, _ in hostile_corpus.generate()] == [n for n, _ in _CORPUS]


def test_load_weights_takes_the_corpus_as_load_does():
    """load_weights reads through the same checks: every corpus file is loaded into a model of
    its own layers, or refused with ModelFileError (a bad file) or ValueError (another model),
    and a refused file leaves the target's weights as they were."""
    import io

    import numpy as np

    target = nc.Sequential([nc.Dense(4, "relu"), nc.Dense(3)], input_dim=5, seed=0)
    kept = target.get_weights()
    refused = loaded = 0
    for _name, data in _CORPUS[::7]:
        try:
            target.load_weights(io.BytesIO(data))
            loaded += 1
            target.set_weights(kept)
        except nc.ModelFileError:
            refused += 1
        except ValueError as e:
            assert "is not this model" in str(e) or "do not fit this model" in str(e), str(e)
            refused += 1
        assert all(np.array_equal(a, b) for a, b in zip(target.get_weights(), kept))
    assert refused > 300
