"""Shared fixtures: every ISA path this machine runs, thread counts, a float64 reference."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import _core

ISAS = list(_core.supported_isas())


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test once per ISA path available here, restoring the original afterwards."""
    before = _core.isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(before)


@pytest.fixture(params=[1, 2])
def threads(request):
    before = _core.num_threads()
    nncore.set_num_threads(request.param)
    yield request.param
    nncore.set_num_threads(0)
    assert before >= 1


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
