"""Shared fixtures: every ISA path this machine runs, thread counts, a float64 reference; the
fuzzer's per-run seed; the skip guard plugin (skip_guard.py)."""

from __future__ import annotations

import os
import secrets

import numpy as np
import pytest

import nncore
from nncore import _core

pytest_plugins = ["skip_guard"]

ISAS = list(_core.supported_isas())
# One seed per run for the seeded fuzz cases (test_fuzz.py), set before any test module reads it.
os.environ.setdefault("NNCORE_FUZZ_SEED", str(secrets.randbelow(2**32)))


def _fuzz_seed_line():
    seed = os.environ["NNCORE_FUZZ_SEED"]
    return f"nncore fuzz seed: {seed} (replay: NNCORE_FUZZ_SEED={seed} pytest tests/test_fuzz.py)"


def pytest_report_header(config):
    return _fuzz_seed_line()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(_fuzz_seed_line())


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test once per ISA path available here, restoring the original afterwards."""
    before = _core.isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(before)


# 3 threads: the smallest count whose range splits can leave a remainder of 2, which 1 and 2
# never do (it works on a 2-core runner too); 5 and 7 run in the bitwise loops and in
# test_determinism.py's whole-fit tests.
@pytest.fixture(params=[1, 2, 3])
def threads(request):
    before = _core.num_threads()
    nncore.set_num_threads(request.param)
    yield request.param
    nncore.set_num_threads(0)
    assert before >= 1


@pytest.fixture
def restore_runtime():
    """Puts the ISA and the thread count back after a test that switches them."""
    isa = _core.isa()
    yield
    nncore.set_num_threads(0)
    _core.set_isa(isa)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def nncore_home() -> str:
    """The directory holding the nncore package these tests import, for subprocesses' PYTHONPATH:
    python/ in a development tree, site-packages when nncore is installed (a fresh checkout's
    python/ has no built extension, so it must not shadow the installed package)."""
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(nncore.__file__)))
