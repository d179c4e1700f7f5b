"""scikit-learn's own test_mlp.py against nncore.sklearn with only the import line changed
(tools/sklearn_mlp_tests.sh; the excluded tests and why are listed there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import nncore_home

pytest.importorskip("sklearn")
pytest.importorskip("sklearn.neural_network.tests.test_mlp")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_scikit_learns_mlp_tests_pass():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([nncore_home(), *sys.path]))
    r = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "sklearn_mlp_tests.sh")],
        capture_output=True,
        text=True,
        env=env,
    )
    tail = r.stdout[-3000:] + r.stderr[-2000:]
    assert r.returncode == 0, tail
    summary = r.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed", summary) and "failed" not in summary, tail
    assert int(re.search(r"(\d+) passed", summary).group(1)) >= 56, tail
