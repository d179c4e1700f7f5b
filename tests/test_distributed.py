"""Data-parallel training over MPI: rank-count independence, bad input, a dying rank.

The multi-rank tests run tests/dist_worker.py under mpirun (oversubscribed: this machine may have
fewer cores than ranks) and skip without mpirun or mpi4py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nncore import _blocktree

from conftest import nncore_home

HERE = Path(__file__).parent
WORKER = HERE / "dist_worker.py"
MPIRUN = shutil.which("mpirun")
try:
    import mpi4py  # noqa: F401

    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False
needs_mpi = pytest.mark.skipif(
    not (MPIRUN and HAVE_MPI4PY), reason="needs mpirun and mpi4py (pip install 'nncore[mpi]')"
)
# Under tools/sanitize.sh every child inherits LD_PRELOAD=libasan, and AddressSanitizer then
# reports Open MPI's own launcher (a use-after-free inside orterun's PMIx logging), not nncore:
# the MPI tests run in the plain test run only.
if os.environ.get("NNCORE_SANITIZED"):
    needs_mpi = pytest.mark.skip(
        reason="not under the sanitizer run (Open MPI's launcher trips it)"
    )


def _env():
    env = dict(os.environ)
    # the nncore this process imported (site-packages when installed, python/ in a dev tree)
    env["PYTHONPATH"] = nncore_home() + os.pathsep + env.get("PYTHONPATH", "")
    env.update(
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_mpi_yield_when_idle="1",
        OMP_NUM_THREADS="1",
        OMP_WAIT_POLICY="passive",
    )
    return env


def mpirun(n, mode, out, *opts, timeout=240, env=None):
    cmd = [
        MPIRUN,
        "-n",
        str(n),
        "--oversubscribe",
        "--bind-to",
        "none",
        sys.executable,
        str(WORKER),
        mode,
        str(out),
        *opts,
    ]
    full_env = {**_env(), **(env or {})}
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)


def run_dp(tmp_path, n, *opts, env=None):
    tag = "-".join((*opts, *(env or {}).values())).replace("/", "_")
    out = tmp_path / f"dp{n}{tag}.npz"
    r = mpirun(n, "dp", out, *opts, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return dict(np.load(out))


def plain(tmp_path, *opts):
    out = tmp_path / "plain.npz"
    r = subprocess.run(
        [sys.executable, str(WORKER), "plain", str(out), *opts],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return dict(np.load(out))


# ------------------------------------------------------------------------- the fixed tree
@pytest.mark.parametrize("nblocks", [1, 2, 3, 5, 8, 13])
def test_tree_sum_does_not_depend_on_the_split(nblocks):
    rng = np.random.default_rng(nblocks)
    leaves = [
        rng.standard_normal(50).astype(np.float32) * 10.0 ** rng.integers(-3, 4)
        for _ in range(nblocks)
    ]
    results = []
    for parts in (1, 2, 3, 4, 7):
        known = {}
        for lo, hi in _blocktree.split_runs(nblocks, parts):
            for h, j in _blocktree.cover(lo, hi):
                known[(h, j)] = _blocktree.node_sum(h, j, lambda i: leaves[i].copy(), nblocks)
        results.append(_blocktree.finish(known, nblocks))
    for r in results[1:]:
        assert r.tobytes() == results[0].tobytes()
    np.testing.assert_allclose(
        results[0], np.sum(leaves, axis=0, dtype=np.float64), rtol=1e-4, atol=1e-3
    )


def test_cover_is_exact_and_aligned():
    for lo in range(0, 20):
        for hi in range(lo, 21):
            nodes = _blocktree.cover(lo, hi)
            got = [i for h, j in nodes for i in range(j << h, (j + 1) << h)]
            assert got == list(range(lo, hi))


# ------------------------------------------------------------------------- MPI
@needs_mpi
def test_rank_count_does_not_change_the_weights(tmp_path):
    r1 = run_dp(tmp_path, 1)
    r2 = run_dp(tmp_path, 2)
    r4 = run_dp(tmp_path, 4)
    for r in (r2, r4):
        assert r["params"].tobytes() == r1["params"].tobytes()
        assert r["buffers"].tobytes() == r1["buffers"].tobytes()
        np.testing.assert_array_equal(r["loss"], r1["loss"])
        assert float(r["eval_acc"]) == float(r1["eval_acc"])
    # repeatable, and replicated data (no row exchange) is the same training
    again = run_dp(tmp_path, 2, "replicated=1")
    assert again["params"].tobytes() == r1["params"].tobytes()
    # and across kernel families and thread counts, as single-process training
    scalar = run_dp(tmp_path, 2, "threads=2", env={"NNCORE_ISA": "scalar"})
    assert scalar["params"].tobytes() == r1["params"].tobytes()


@needs_mpi
def test_one_block_per_batch_is_plain_fit_bitwise(tmp_path):
    # Dropout masks are keyed by block (by design not plain fit's keys), so without dropout one
    # block spanning the batch is exactly plain fit's step.
    ref = plain(tmp_path, "dropout=0")
    r2 = run_dp(tmp_path, 2, "dropout=0", "block_rows=64")
    assert r2["params"].tobytes() == ref["params"].tobytes()
    assert r2["buffers"].tobytes() == ref["buffers"].tobytes()


@needs_mpi
def test_blocks_are_within_1e_5_of_plain_fit_without_batchnorm(tmp_path):
    # Without batchnorm and dropout, 16-row blocks change only the rounding of the batch sum:
    # the README's promise against plain single-process fit. SGD, not Adam: Adam would hide a
    # wrongly scaled gradient.
    opts = ("dropout=0", "bn=0", "opt=sgd")
    ref = plain(tmp_path, *opts)
    r4 = run_dp(tmp_path, 4, *opts, "block_rows=16")
    assert np.abs(r4["params"] - ref["params"]).max() < 1e-5
    assert r4["params"].tobytes() != ref["params"].tobytes()  # it did take the block path


@needs_mpi
def test_sync_batchnorm_is_plain_fit_up_to_rounding(tmp_path):
    # Synchronised BatchNorm (the default): 16-row blocks on 1, 2 or 4 ranks normalise with the
    # statistics of the whole 64-row batch, as plain fit does: the same bits on every rank count,
    # and plain fit's weights and running statistics up to the rounding of the split sums. SGD
    # (Adam would scale up the rounding noise of the Dense bias before BatchNorm).
    opts = ("dropout=0", "opt=sgd", "block_rows=16")
    ref = plain(tmp_path, "dropout=0", "opt=sgd")
    r1 = run_dp(tmp_path, 1, *opts)
    for n in (2, 4):
        r = run_dp(tmp_path, n, *opts)
        assert r["params"].tobytes() == r1["params"].tobytes()
        assert r["buffers"].tobytes() == r1["buffers"].tobytes()
        np.testing.assert_array_equal(r["loss"], r1["loss"])
    assert np.abs(r1["params"] - ref["params"]).max() < 1e-6
    assert np.abs(r1["buffers"] - ref["buffers"]).max() < 1e-6
    # and overlapping the gradient exchange with backward changes nothing
    assert run_dp(tmp_path, 4, *opts, "overlap=0")["params"].tobytes() == r1["params"].tobytes()


@needs_mpi
def test_local_batchnorm_option_normalises_each_block(tmp_path):
    opts = ("dropout=0", "opt=sgd", "block_rows=16", "bn=local")
    ref = plain(tmp_path, "dropout=0", "opt=sgd")
    r1 = run_dp(tmp_path, 1, *opts)
    for n in (2, 4):
        assert run_dp(tmp_path, n, *opts)["params"].tobytes() == r1["params"].tobytes()
    # ghost batch norm is other maths than the 64-row batch's statistics, not rounding
    assert np.abs(r1["params"] - ref["params"]).max() > 1e-3


@needs_mpi
def test_block_pass_equals_one_pass_per_block(tmp_path):
    # Without batchnorm the block pass (layer by layer over all local blocks) computes every
    # block as a pass of that block alone does: the same bits, dropout masks included.
    a = run_dp(tmp_path, 2, "bn=0", "per_block=1")
    b = run_dp(tmp_path, 2, "bn=0")
    assert a["params"].tobytes() == b["params"].tobytes()
    c = run_dp(tmp_path, 2, "bn=0", "per_block=1", "reduction=allreduce")
    d = run_dp(tmp_path, 2, "bn=0", "reduction=allreduce")
    assert c["params"].tobytes() == d["params"].tobytes()


@needs_mpi
def test_weights_class_weight_and_validation_split_are_plain_fit(tmp_path):
    # One block per batch: every step is plain fit's step, so sample weights, balanced class
    # weights (counted over every rank's rows), the validation hold-out (drawn over the
    # concatenated shards) and evaluate (collective, gathered outputs) give plain fit's bits.
    opts = ("dropout=0", "sw=1", "cw=balanced", "vsplit=0.2")
    ref = plain(tmp_path, *opts)
    for n, extra in ((2, ()), (4, ()), (2, ("replicated=1",))):
        r = run_dp(tmp_path, n, *opts, "block_rows=64", *extra)
        assert r["params"].tobytes() == ref["params"].tobytes()
        np.testing.assert_array_equal(r["loss"], ref["loss"])
        np.testing.assert_array_equal(r["val_loss"], ref["val_loss"])
        assert float(r["eval_loss"]) == float(ref["eval_loss"])
        assert float(r["eval_acc"]) == float(ref["eval_acc"])
    # with 16-row blocks: the rounding of the split sums only
    ref = plain(tmp_path, *opts, "opt=sgd")
    r = run_dp(tmp_path, 4, *opts, "opt=sgd", "block_rows=16")
    assert np.abs(r["params"] - ref["params"]).max() < 1e-6
    np.testing.assert_allclose(r["val_loss"], ref["val_loss"], rtol=1e-6)


@needs_mpi
def test_with_block_argument_and_bare_init_train_alike_and_only_the_bare_init_warns(tmp_path):
    """``with dist.init() as ctx:`` and ``fit(..., distributed=ctx)`` are the spellings; a bare
    ``dist.init()`` still makes fit and evaluate collective for one release, and warns."""
    runs = {s: run_dp(tmp_path, 2, f"spelling={s}") for s in ("with", "arg", "bare")}
    for s in ("arg", "bare"):
        for key in ("params", "buffers", "loss", "eval_loss"):
            assert np.array_equal(runs[s][key], runs["with"][key]), (s, key)
    assert runs["with"]["deprecations"].size == 0 and runs["arg"]["deprecations"].size == 0
    bare = [str(m) for m in runs["bare"]["deprecations"]]
    assert len(bare) == 2, bare  # the fit and the evaluate
    assert all("bare nncore.distributed.init()" in m and "with nncore" in m for m in bare)


@needs_mpi
def test_loss_option_class_weight_is_refused(tmp_path):
    out = tmp_path / "err.txt"
    r = mpirun(2, "loss-class-weight", out, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "use fit(class_weight=...)" in out.read_text()


@needs_mpi
def test_sync_batchnorm_inside_a_residual_block_is_refused(tmp_path):
    """The block pass syncs top-level BatchNorms only: one inside a block must not silently run
    as ghost batchnorm."""
    out = tmp_path / "err.txt"
    r = mpirun(2, "bn-in-block", out, timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'init(batchnorm="local")' in out.read_text()


@needs_mpi
def test_rank_0_writes_checkpoints_and_validation_covers_every_rank(tmp_path):
    import nncore as nc
    from dist_worker import data  # pytest puts tests/ on sys.path

    r = run_dp(tmp_path, 2, f"ckpt={tmp_path / 'ck'}")
    written = sorted(p.name for p in tmp_path.glob("ck-*.nnc"))
    assert written == [f"ck-rank0-{e}.nnc" for e in (1, 2, 3)]
    X, y = data()
    last = nc.load(tmp_path / "ck-rank0-3.nnc")
    assert last.engine.arena("params").tobytes() == r["params"].tobytes()
    # val_loss is over both ranks' validation rows, i.e. the whole validation set
    assert r["val_loss"][-1] == pytest.approx(last.evaluate(X[:100], y[:100])["loss"], rel=1e-12)


@needs_mpi
def test_allreduce_mode_is_close_to_the_tree(tmp_path):
    tree = run_dp(tmp_path, 2)
    ar = run_dp(tmp_path, 2, "reduction=allreduce")
    # Not the weights: a Dense bias before BatchNorm has a zero true gradient, so its gradient is
    # rounding noise that Adam scales up to +-lr steps; the losses are the fair comparison.
    np.testing.assert_allclose(ar["loss"], tree["loss"], rtol=1e-4)
    assert abs(float(ar["eval_loss"]) - float(tree["eval_loss"])) < 1e-3


@needs_mpi
@pytest.mark.parametrize(
    "mode,needle",
    [
        ("mismatch-seed", "seed"),
        ("mismatch-shape", "model configuration"),
        ("mismatch-batch", "batch_size"),
    ],
)
def test_ranks_that_disagree_fail_at_fit_start(tmp_path, mode, needle):
    out = tmp_path / "err.txt"
    r = mpirun(2, mode, out, timeout=120)
    assert r.returncode == 0, r.stderr
    msg = out.read_text()
    assert "ranks 0 and 1 were given different" in msg and needle in msg, msg


@needs_mpi
@pytest.mark.parametrize("mode", ["kill", "hang"])
def test_a_rank_that_dies_or_hangs_ends_the_job(tmp_path, mode):
    # no duration compared: mpirun's timeout (90 s) fails a job that hangs, and the watchdog's
    # own message says it was the one that ended it
    r = mpirun(2, mode, tmp_path / "x.npz", "timeout=5", "epochs=50", timeout=90)
    assert r.returncode != 0
    text = r.stdout + r.stderr
    if mode == "hang":
        assert "made no progress for 5 s" in text, text[-2000:]
    else:
        # mpirun's own report (Open MPI ends the job when a rank exits without finalizing);
        # the watchdog covers MPIs that would leave the others waiting
        assert "non-zero" in text or "made no progress" in text, text[-2000:]


def test_missing_mpi4py_says_how_to_install(monkeypatch):
    import builtins

    import nncore.distributed as dist

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("mpi4py"):
            raise ImportError("No module named 'mpi4py'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r'pip install "nncore\[mpi\]".*openmpi'):
        dist.init()


# ------------------------------------------------------------------ the block pass, no MPI
class _OneProcessReducer:
    """All blocks in this process: the block tree over them (what _dist_fit._Reducer computes
    with one rank)."""

    def __init__(self, grads):
        self.grads, self.announced = grads, []

    def sum_blocks(self, partial, out):
        n = partial.shape[0]
        out[...] = _blocktree.node_sum(_blocktree.root_level(n), 0, lambda i: partial[i].copy(), n)

    def grads_ready(self, nodes, offset, size, reduced):
        self.announced.append((offset, size, reduced))
        if not reduced:
            assert nodes.shape == (1, size)  # one rank holding every block: the root node
            self.grads[offset : offset + size] = nodes[0]


def _bn_model():
    import nncore as nc

    m = nc.Sequential(
        [nc.Dense(24), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(3)], input_dim=10, seed=1
    )
    m.compile(optimizer="sgd", loss="cross_entropy")
    return m


@pytest.mark.parametrize("rows", [[64], [16, 16, 16, 16], [20, 7, 30, 7]])
def test_block_pass_batchnorm_uses_the_global_batch(rows):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((64, 10)) * 3 + 1).astype(np.float32)
    y = rng.integers(0, 3, 64)
    ref, m = _bn_model(), _bn_model()
    out_ref = ref.engine.forward(X, True)
    _, d_ref = ref.engine.loss(out_ref, y)
    ref.zero_grad()
    ref.engine.backward(d_ref)
    g_ref, b_ref = ref.engine.arena("grads").copy(), ref.engine.arena("buffers").copy()

    red = _OneProcessReducer(m.engine.arena("grads"))
    keys = list(range(len(rows)))
    out = m.engine.forward_blocks(X, rows, keys, 0, 64, red)
    dout = np.empty_like(out)
    r0 = 0
    for r in rows:  # each block's loss gradient scaled to its share of the batch mean
        _, d = m.engine.loss(out[r0 : r0 + r], y[r0 : r0 + r])
        dout[r0 : r0 + r] = d * np.float32(r / 64)
        r0 += r
    m.engine.backward_blocks(dout, rows, keys, 0, 64, red)
    # every parameter layer announced once, last layer first; batchnorm's own sums are final
    assert [a[2] for a in red.announced] == [False, True, False]
    assert red.announced[0][0] > red.announced[2][0]
    if len(rows) == 1:  # one block: the one-process kernels' bits
        assert out.tobytes() == out_ref.tobytes()
        assert m.engine.arena("grads").tobytes() == g_ref.tobytes()
        assert m.engine.arena("buffers").tobytes() == b_ref.tobytes()
    else:  # the batch's statistics, up to the rounding of the split sums
        np.testing.assert_allclose(out, out_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.engine.arena("grads"), g_ref, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(m.engine.arena("buffers"), b_ref, rtol=1e-6, atol=1e-7)


class _ThreadRank:
    """One rank of a job simulated by threads in this process: the reducer exchanges the tree
    node sums through shared memory instead of MPI (what _dist_fit._Reducer computes)."""

    def __init__(self, world, rank, nb, grads):
        self.world, self.rank, self.nb, self.grads = world, rank, nb, grads
        self.covers = [_blocktree.cover(a, b) for a, b in _blocktree.split_runs(nb, world["size"])]
        self.lo = _blocktree.split_runs(nb, world["size"])[rank][0]

    def _tree(self, mine):
        w = self.world
        w["slots"][self.rank] = mine
        w["barrier"].wait()
        known = {
            node: arr
            for c, theirs in zip(self.covers, list(w["slots"]))
            for node, arr in zip(c, theirs)
        }
        w["barrier"].wait()  # every rank has read the slots before they are reused
        return _blocktree.finish(known, self.nb)

    def sum_blocks(self, partial, out):
        mine = [
            _blocktree.node_sum(h, j, lambda i: partial[i - self.lo].copy(), self.nb)
            for h, j in self.covers[self.rank]
        ]
        out[...] = self._tree(mine)

    def grads_ready(self, nodes, offset, size, reduced):
        if not reduced:
            self.grads[offset : offset + size] = self._tree([v.copy() for v in nodes])


def _thread_job(size, X, y, rows):
    """One optimizer step of _bn_model on blocks ``rows`` over ``size`` thread-ranks; every
    rank's weights afterwards."""
    import threading

    nb, total = len(rows), len(X)
    start = np.concatenate([[0], np.cumsum(rows)])
    world = {"size": size, "barrier": threading.Barrier(size), "slots": [None] * size}
    result, errors = [None] * size, []

    def rank(r):
        try:
            m = _bn_model()
            red = _ThreadRank(world, r, nb, m.engine.arena("grads"))
            lo, hi = _blocktree.split_runs(nb, size)[r]
            sl = slice(start[lo], start[hi])
            mine, keys = list(rows[lo:hi]), list(range(lo, hi))
            out = m.engine.forward_blocks(X[sl], mine, keys, lo, total, red)
            dout = np.empty_like(out)
            r0 = 0
            for b in mine:
                _, d = m.engine.loss(out[r0 : r0 + b], y[sl][r0 : r0 + b])
                dout[r0 : r0 + b] = d * np.float32(b / total)
                r0 += b
            m.engine.backward_blocks(dout, mine, keys, lo, total, red)
            m.engine.add_penalty_grads()
            m.engine.optimizer_step()
            result[r] = (m.engine.arena("params").copy(), m.engine.arena("buffers").copy())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
            world["barrier"].abort()

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return result


def test_sync_batchnorm_step_does_not_depend_on_the_rank_count_without_mpi():
    # Ranks as threads (no MPI needed): 6 uneven blocks on 1, 2, 3, 4 and 8 ranks (some ranks
    # hold no block) give one optimizer step with the same bits on every rank.
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((70, 10)) * 2 + 0.5).astype(np.float32)
    y = rng.integers(0, 3, 70)
    rows = [16, 9, 16, 5, 16, 8]
    ref = _thread_job(1, X, y, rows)[0]
    for size in (2, 3, 4, 8):
        for params, buffers in _thread_job(size, X, y, rows):
            assert params.tobytes() == ref[0].tobytes()
            assert buffers.tobytes() == ref[1].tobytes()
