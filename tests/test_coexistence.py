"""Coexistence (issue: Hardening): torch and nncore in one process (either import order), and
threadpoolctl seeing and limiting nncore's OpenMP pool so numpy/OpenBLAS and nncore threads do
not oversubscribe the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nncore as nc
from nncore import _core

TRAIN_BOTH = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(256, 8)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)

m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(2)], input_dim=8, seed=0)
m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="cross_entropy", metrics=["accuracy"])
h = m.fit(X, y, epochs=20, batch_size=32)
assert h.history["loss"][-1] < h.history["loss"][0], h.history["loss"]
assert m.evaluate(X, y)["accuracy"] > 0.8

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
xt, yt = torch.from_numpy(X), torch.from_numpy(y)
first = None
for _ in range(100):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(xt), yt)
    loss.backward()
    opt.step()
    first = first if first is not None else loss.item()
assert loss.item() < first
# torch's and nncore's thread pools both still work after each other's use
m.fit(X, y, epochs=1)
assert np.isfinite(m.predict(X)).all()
print("BOTH_OK", nc.get_num_threads(), torch.get_num_threads())
"""


def _run(code: str):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
@pytest.mark.parametrize("order", ["torch_first", "nncore_first"])
def test_torch_and_nncore_in_one_process(order):
    pytest.importorskip("torch")
    imports = "import torch\nimport nncore as nc\n"
    if order == "nncore_first":
        imports = "import nncore as nc\nimport torch\n"
    r = _run(imports + textwrap.dedent(TRAIN_BOTH))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "BOTH_OK" in r.stdout


def test_threadpoolctl_sees_and_limits_nncore_openmp():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _core.have_openmp():
        pytest.skip("built without OpenMP")
    info = threadpoolctl.threadpool_info()
    assert any(i["internal_api"] == "openmp" for i in info), info
    nc.set_num_threads(0)  # not pinned: follows the OpenMP runtime
    with threadpoolctl.threadpool_limits(1):
        assert nc.get_num_threads() == 1
        X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
        m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=4)
        m.compile(optimizer=nc.optim.SGD(lr=0.01), loss="mse")
        m.fit(X, X[:, 0], epochs=1)
    assert nc.get_num_threads() == _core.num_cores() or "OMP_NUM_THREADS" in os.environ


def test_set_num_threads_pins_against_threadpoolctl():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    try:
        nc.set_num_threads(2)
        with threadpoolctl.threadpool_limits(1):
            # documented: an explicit nncore.set_num_threads(n) wins over threadpoolctl
            assert nc.get_num_threads() == 2
    finally:
        nc.set_num_threads(0)


def test_threadpoolctl_limits_in_a_fresh_process():
    """The usual anti-oversubscription recipe, in a clean process."""
    pytest.importorskip("threadpoolctl")
    r = _run(
        textwrap.dedent("""
        import numpy as np, nncore as nc
        from threadpoolctl import threadpool_info, threadpool_limits
        libs = {i["internal_api"] for i in threadpool_info()}
        assert "openmp" in libs, libs
        with threadpool_limits(limits=1):
            assert nc.get_num_threads() == 1
            np.ones((200, 200)) @ np.ones((200, 200))
        print("LIMITS_OK")
    """)
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "LIMITS_OK" in r.stdout
