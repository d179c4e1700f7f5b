"""Learning-rate schedules over several epochs match a PyTorch loop on every training path (issue
#32, bug 1): fit on arrays, streaming fit, MPI fit at 1 and 2 ranks, and a Python loss. The MPI
ranks run this file as a script under mpirun (``python test_schedules.py OUT SCHEDULE``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import nncore as nc

EPOCHS, BATCH, N, D = 3, 16, 70, 5  # 5 batches per epoch, the last one short


def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, D)).astype(np.float32)
    y = (X @ rng.standard_normal((D, 1)) + 0.1).astype(np.float32)
    return X, y


def mse(y_pred, y_true):
    """The built-in mse as a Python loss."""
    d = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return float((d * d).mean()), (2.0 * d / d.size).astype(np.float32)


def model(loss="mse"):
    m = nc.Sequential([nc.Dense(1)], input_dim=D, seed=1)
    m.compile(optimizer=nc.optim.SGD(lr=0.02, momentum=0.9), loss=loss)
    return m


def scheduler(kind, opt):
    nb = -(-N // BATCH)
    if kind == "onecycle":  # per batch, cycling the momentum too
        return nc.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=EPOCHS * nb)
    return nc.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # per epoch


def weights(m):
    p = m.parameters()
    return np.concatenate([p["0.weight"].ravel(), p["0.bias"].ravel()]).astype(np.float64)


def torch_weights(kind, w0):
    torch = pytest.importorskip("torch")
    X, y = data()
    lin = torch.nn.Linear(D, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w0[:D].astype(np.float32).reshape(1, D)))
        lin.bias.copy_(torch.from_numpy(w0[D:].astype(np.float32)))
    opt = torch.optim.SGD(lin.parameters(), lr=0.02, momentum=0.9)
    nb = -(-N // BATCH)
    if kind == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=EPOCHS * nb)
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(EPOCHS):
        for b in range(nb):
            sl = slice(b * BATCH, (b + 1) * BATCH)
            opt.zero_grad()
            torch.nn.functional.mse_loss(lin(Xt[sl]), yt[sl]).backward()
            opt.step()
            if kind == "onecycle":
                sched.step()
        if kind != "onecycle":
            sched.step()
    return np.concatenate([lin.weight.detach().numpy().ravel(), lin.bias.detach().numpy()])


def fit(path, kind):
    X, y = data()
    m = model(mse if path == "python_loss" else "mse")
    w0 = weights(m)
    s = [scheduler(kind, m.optimizer)]
    kw = dict(epochs=EPOCHS, batch_size=BATCH, shuffle=False, schedulers=s)
    if path == "streaming":  # chunks that do not line up with the batches
        m.fit([(X[i : i + 23], y[i : i + 23]) for i in range(0, N, 23)], **kw)
    else:
        m.fit(X, y, **kw)
    return w0, weights(m)


KINDS = ["onecycle", "steplr"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", ["arrays", "streaming", "python_loss"])
def test_schedule_matches_torch(path, kind):
    w0, w = fit(path, kind)
    np.testing.assert_allclose(w, torch_weights(kind, w0), rtol=0, atol=1e-6)


MPIRUN = shutil.which("mpirun")


@pytest.mark.skipif(MPIRUN is None, reason="needs mpirun and mpi4py")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ranks", [1, 2])
def test_mpi_schedule_matches_torch(tmp_path, ranks, kind):
    pytest.importorskip("mpi4py")
    from conftest import nncore_home

    out = tmp_path / "w.npy"
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1")
    env.update(OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_mpi_yield_when_idle="1")
    env["PYTHONPATH"] = nncore_home() + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [MPIRUN, "-n", str(ranks), "--oversubscribe", "--bind-to", "none", sys.executable]
    r = subprocess.run(
        [*cmd, __file__, str(out), kind], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    w0, w = np.load(out)
    np.testing.assert_allclose(w, torch_weights(kind, w0), rtol=0, atol=1e-6)


def _mpi_rank_main(out, kind):
    import nncore.distributed as dist

    X, y = data()
    m = model()
    w0 = weights(m)
    with dist.init(block_rows=4) as ctx:
        mine = dist.shard(np.arange(N), ctx=ctx)
        m.fit(
            X[mine],
            y[mine],
            epochs=EPOCHS,
            batch_size=BATCH,
            shuffle=False,
            schedulers=[scheduler(kind, m.optimizer)],
        )
    if ctx.rank == 0:
        np.save(out, np.stack([w0, weights(m)]))
    dist.shutdown()


if __name__ == "__main__":
    _mpi_rank_main(sys.argv[1], sys.argv[2])
