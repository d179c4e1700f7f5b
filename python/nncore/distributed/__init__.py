"""Synchronous data-parallel training over MPI (extra ``mpi``: ``pip install "nncore[mpi]"`` and
an MPI library).

Run one process per rank (``mpirun -n 4 python train.py``); in each::

    import nncore as nc
    import nncore.distributed as dist

    model = nc.Sequential([...], input_dim=..., seed=0)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    with dist.init() as ctx:                # rank, size; OpenMP threads = cores / local ranks
        X_local, y_local = dist.shard(X, y)     # or load this rank's rows yourself
        model.fit(X_local, y_local, epochs=10, batch_size=256)   # one model, all ranks
        model.evaluate(X_local_test, y_local_test)   # collective: metrics over all ranks' rows
        dist.save(model, "model.nnc")                              # rank 0 writes

Inside the ``with`` block every ``fit``/``evaluate`` is collective; outside it they are local
again. ``model.fit(..., distributed=ctx)`` says the same for one call. (A bare ``dist.init()``
without ``with`` makes every later call collective, as before: deprecated, it warns.)

What holds. The rows of rank 0, 1, ... concatenated form the global dataset; each epoch
shuffles it with the permutation plain ``fit`` uses (seed, epoch), so the global batches are the
same rows as in one process. Each global batch is cut into row blocks of ``block_rows`` rows,
spread over the ranks; the blocks' gradients are summed in one fixed order and every rank applies
the same update. The result is **bitwise independent of the number of ranks** for a given
``block_rows``, and bitwise repeatable. It equals plain single-process ``fit`` bitwise when one
block spans the batch (``block_rows >= batch_size``); with smaller blocks it differs from plain
``fit`` by float32 rounding of the split sums (below 1e-6 on the weights after 3 epochs in the
tests). ``reduction="allreduce"`` sums each rank's share locally and then across ranks: fewer
bytes on the wire for many ranks (2·P instead of about ranks·P per rank), with a rounding that
then depends on the rank count.

Layers that look across rows, and what holds:

- BatchNorm (``init(batchnorm="sync")``, the default) normalises with the statistics of the whole
  global batch, as ``torch.nn.SyncBatchNorm`` (its sums are taken in double and summed over all
  blocks in the same fixed order). Rank-count independent, and plain ``fit``'s bits for a batch
  of one block. ``batchnorm="local"`` normalises each block with its own statistics (ghost batch norm); its running statistics move
  once per step by the mean of the blocks' updates. Also rank-count independent, but other
  maths than plain ``fit``.
- Dropout masks are keyed by (seed, global step, block index, layer, element in block), so they do
  not depend on the rank count either (they differ from plain ``fit``'s masks).

``sample_weight`` travels with the rows, ``class_weight="balanced"`` counts every rank's rows and
``validation_split`` holds out the rows plain ``fit`` would of the concatenated data (each rank
validates on the held-out rows it owns). Not supported (``ValueError``): ``diagnostics`` and the
loss option ``class_weight``. Inside the context, ``model.evaluate`` is collective (see
:func:`evaluate`). Rank 0 alone runs ``ModelCheckpoint``, ``CSVLogger`` and progress output; every
rank sees the same epoch logs, so ``EarlyStopping`` stops all ranks together. The epoch logs add
``comm_time`` (seconds this rank spent in collectives and waits: row exchange, batchnorm sums,
gradient exchange, including waiting for slower ranks) and ``grad_comm_time`` (its gradient part).

Failure behaviour: ranks compare a digest of the model, compiler settings, initial weights and fit
arguments before training, and all raise ``ValueError`` naming the first difference. A watchdog
thread aborts the whole job (``MPI_Abort``) when a collective makes no progress for ``timeout``
seconds (a rank died or hangs), printing which collective stalled, so no rank hangs forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .._config import set_num_threads
from .._validation import check_positive_int
from ..training import context
from . import _collective
from ._collective import Watchdog, check_same  # noqa: F401  (part of the API)
from ._fit import fit

# Developer notes (the mechanics behind what the docstring promises).
# How a step works. The rows of rank 0, 1, ... concatenated form the global dataset. Each epoch
# shuffles it with the permutation plain ``fit`` uses (seed, epoch), so the global batches are
# the same rows as in one process. A global batch is cut into row blocks of ``block_rows`` rows;
# each rank takes a contiguous run of blocks, fetches rows it does not hold from their owners (one
# ``Alltoallv``), and runs the block pass (``Network.forward_blocks`` / ``backward_blocks``): the
# layers one at a time over all its blocks, row-local layers once per block (a block gets the bits
# a pass of it alone would), the loss gradient of each block scaled by block rows / batch rows so
# the sum is the gradient of the batch mean. The block gradients are summed in one fixed binary
# tree over blocks (:mod:`nncore._blocktree`): each rank sums the aligned sub-trees it holds, layer
# by layer in the core; each layer's sub-tree sums go out (nonblocking ``Iallgatherv``) as soon as
# its backward is done, overlapping the earlier layers' backward; every rank finishes the same tree
# and applies the same optimizer update. The result is **bitwise independent of the number of
# ranks** for a given ``block_rows``, and bitwise repeatable. It equals plain single-process ``fit``
# bitwise when one block spans the batch (``block_rows >= batch_size``); with smaller blocks it
# differs from plain ``fit`` by float32 rounding of the split sums (below 1e-6 on the weights after
# 3 epochs in the tests). ``reduction="allreduce"`` instead sums each rank's sub-trees locally and
# runs ``MPI_Iallreduce`` per layer: fewer bytes on the wire for many ranks (2·P instead of about
# ranks·P per rank), rounding then depends on the rank count.
#
# What the package owns: this module, the public API and the :class:`Context` (``init`` makes it
# the context ``model.fit`` and ``model.evaluate`` hand to the training driver); ``_collective``,
# the watchdog, the start-of-fit check and the collective evaluate; ``_fit``, the MPI shards as a
# batch source and the data-parallel step (blocks, fixed-tree sums, the block pass) that plug
# into the one epoch driver of :mod:`nncore.training`.

__all__ = ["Context", "init", "shutdown", "shard", "evaluate", "save", "get_context"]

_INSTALL_HINT = (
    'nncore.distributed needs mpi4py and an MPI library: pip install "nncore[mpi]" and an MPI '
    "(apt-get install openmpi-bin libopenmpi-dev, or brew install open-mpi, or "
    "conda install -c conda-forge mpi4py openmpi)"
)
_ROOT_ONLY_CALLBACKS = ("ModelCheckpoint", "CSVLogger", "ProgressLogger")


def _import_mpi():
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as e:
        raise ImportError(f"{_INSTALL_HINT} ({e})") from e
    return MPI


@dataclass
class Context:
    """The distributed context :func:`init` returns: this process's place in the MPI job and
    the settings of data-parallel training. Made by :func:`init`, not by hand. A context
    manager: ``with nncore.distributed.init() as ctx:`` scopes data-parallel ``fit``/``evaluate``
    to the block (``model.fit(..., distributed=ctx)`` to one call).

    Parameters
    ----------
    rank : int
        This process's rank.
    size : int
        The number of ranks.
    comm : mpi4py communicator
        The communicator the ranks train over.
    block_rows : int
        Rows per gradient block.
    reduction : {"tree", "allreduce"}
        How the blocks' gradients are summed.
    replicated : bool
        Every rank holds the whole dataset.
    timeout : float
        Seconds a collective may wait before the job is aborted.
    watchdog : Watchdog
        The thread that aborts a stalled collective.
    batchnorm : {"sync", "local"}, default "sync"
        BatchNorm statistics over the global batch, or per block.
    overlap : bool, default True
        Each layer's gradient exchange overlaps the earlier layers' backward.

    See Also
    --------
    init : Join the MPI job; its parameters are these settings.
    """

    rank: int
    size: int
    comm: Any
    block_rows: int
    reduction: str
    replicated: bool
    timeout: float
    watchdog: Watchdog = field(repr=False)
    batchnorm: str = "sync"
    overlap: bool = True

    def fit(self, model, X, y, **kw):
        """``model.fit`` over all ranks of this context (``model.fit(..., distributed=ctx)``).

        Parameters
        ----------
        model : Sequential
            A compiled model, the same on every rank.
        X : array-like of shape (n_samples, n_features)
            This rank's rows (all rows with ``replicated=True``).
        y : array-like
            Their targets.
        **kw
            The other arguments of :meth:`nncore.Sequential.fit`.

        Returns
        -------
        History
            The epoch logs, the same on every rank.
        """
        return fit(self, model, X, y, **kw)

    def __enter__(self) -> Context:
        """``with nncore.distributed.init(...) as ctx:``: inside the block ``model.fit`` and
        ``model.evaluate`` are collective over the ranks; leaving it shuts the context down."""
        if _CONTEXT[0] is not self:
            raise RuntimeError("this context was shut down: call nncore.distributed.init() again")
        context.activate(self, scoped=True)
        return self

    def __exit__(self, *exc) -> None:
        shutdown()

    def any_rank(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any rank (collective: every rank must call it).

        Parameters
        ----------
        flag : bool
            This rank's value.

        Returns
        -------
        bool
            The same on every rank: true when any rank passed true.
        """
        MPI = _import_mpi()
        return bool(
            self.watchdog.run("allreduce (stop flag)", self.comm.allreduce, bool(flag), MPI.LOR)
        )


_CONTEXT: list[Context | None] = [None]


def get_context() -> Context | None:
    """The context :func:`init` made, until :func:`shutdown`.

    Returns
    -------
    Context or None
        The context, or None outside :func:`init`.
    """
    return _CONTEXT[0]


def init(
    *,
    comm=None,
    threads="auto",
    block_rows: int = 32,
    reduction: str = "tree",
    replicated: bool = False,
    timeout: float = 120.0,
    batchnorm: str = "sync",
    overlap: bool = True,
) -> Context:
    """Join the MPI job: ``with init(...) as ctx:`` makes ``model.fit`` and ``model.evaluate``
    inside the block data-parallel over its ranks (or pass ``fit(..., distributed=ctx)``).
    Calling it without ``with`` still makes every later fit/evaluate collective, with a
    ``DeprecationWarning`` (one release).

    Parameters
    ----------
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.
    threads : "auto", int or None
        OpenMP threads per rank: "auto" divides this node's cores by the ranks on it (avoids
        oversubscription); None leaves the setting alone.
    block_rows : int
        Rows per gradient block. Results depend on it (and not on the rank count).
    reduction : "tree" or "allreduce"
        "tree": rank-count-independent sums (one Allgatherv of sub-tree sums per step).
        "allreduce": one in-place Allreduce of the gradient arena; rounding depends on ranks.
    replicated : bool
        Every rank holds the whole dataset (no row exchange); fit's X is then the full data.
    timeout : float
        Seconds a collective may wait before the job is aborted.
    batchnorm : "sync" or "local"
        "sync" (default): BatchNorm statistics over the whole global batch, as one process
        training on that batch computes them (torch.nn.SyncBatchNorm). "local": each block of
        ``block_rows`` rows is normalised with its own statistics (ghost batch norm; no
        communication inside the pass).
    overlap : bool
        Start each layer's gradient exchange as soon as its backward is done, while the earlier
        layers' backward runs (False: exchange after the whole backward; for measurements).

    Returns
    -------
    Context
        The context; use it as ``with init(...) as ctx:``.

    Raises
    ------
    ImportError
        Without mpi4py or an MPI library.
    ValueError
        On an unknown ``reduction`` or ``batchnorm``, or a ``block_rows``/``timeout`` out of
        range.
    """
    MPI = _import_mpi()
    if reduction not in ("tree", "allreduce"):
        raise ValueError(f"reduction must be 'tree' or 'allreduce', got {reduction!r}")
    if batchnorm not in ("sync", "local"):
        raise ValueError(f"batchnorm must be 'sync' or 'local', got {batchnorm!r}")
    block_rows = check_positive_int(block_rows, "block_rows")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    comm = MPI.COMM_WORLD if comm is None else comm
    if threads is not None:
        if threads == "auto":
            local = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
            threads = max(1, (os.cpu_count() or 1) // local)
        set_num_threads(check_positive_int(threads, "threads"))
    shutdown()
    ctx = Context(
        rank=comm.Get_rank(),
        size=comm.Get_size(),
        comm=comm,
        block_rows=block_rows,
        reduction=reduction,
        replicated=bool(replicated),
        timeout=float(timeout),
        watchdog=Watchdog(comm, timeout),
        batchnorm=batchnorm,
        overlap=bool(overlap),
    )
    _CONTEXT[0] = ctx
    # Without ``with`` the context still reaches every fit/evaluate, deprecated (one release)
    context.activate(ctx)
    return ctx


def shutdown() -> None:
    """Leave data-parallel mode: ``model.fit`` trains locally again."""
    ctx = _CONTEXT[0]
    if ctx is not None:
        ctx.watchdog.stop()
    _CONTEXT[0] = None
    context.activate(None)


def _require() -> Context:
    ctx = _CONTEXT[0]
    if ctx is None:
        raise RuntimeError("call nncore.distributed.init() first")
    return ctx


def shard(*arrays, ctx: Context | None = None):
    """This rank's contiguous share of each array's rows.

    Rank r gets rows ``[r·n/size, (r+1)·n/size)``, so the shards concatenated in rank order are
    the arrays.

    Parameters
    ----------
    *arrays : array-like
        Arrays with the same number of rows.
    ctx : Context, optional
        The context (default: the one :func:`init` made).

    Returns
    -------
    array-like or tuple of array-like
        This rank's rows of each array (the array itself for one argument).

    Raises
    ------
    RuntimeError
        Without a context (call :func:`init` first).
    """
    ctx = ctx or _require()
    n = len(arrays[0])
    lo, hi = ctx.rank * n // ctx.size, (ctx.rank + 1) * n // ctx.size
    out = tuple(a[lo:hi] for a in arrays)
    return out if len(out) > 1 else out[0]


def evaluate(model, X, y, *, sample_weight=None, ctx: Context | None = None) -> dict:
    """``model.evaluate`` over all ranks' rows, each rank passing its own.

    The scores are those of all ranks' rows, bit for bit those of one process evaluating the
    concatenated rows. Collective: every rank must call it. Inside ``with init() as ctx:``,
    ``model.evaluate`` itself comes here.

    Parameters
    ----------
    model : Sequential
        A compiled model, the same on every rank.
    X : array-like of shape (n_samples, n_features)
        This rank's rows (all rows with ``replicated=True``).
    y : array-like
        Their targets.
    sample_weight : array-like of shape (n_samples,), optional
        Per-row weights of the loss.
    ctx : Context, optional
        The context (default: the one :func:`init` made).

    Returns
    -------
    dict
        ``{"loss": float, <metric>: float, ...}``, the same on every rank.
    """
    return _collective.evaluate(model, X, y, sample_weight=sample_weight, ctx=ctx or _require())


def save(model, path, *, ctx: Context | None = None) -> None:
    """Rank 0 saves the model (all ranks hold the same weights); the others wait for it.

    Parameters
    ----------
    model : Sequential
        The trained model.
    path : str or path-like
        The file rank 0 writes (see :meth:`nncore.Sequential.save`).
    ctx : Context, optional
        The context (default: the one :func:`init` made).
    """
    ctx = ctx or _require()
    if ctx.rank == 0:
        model.save(path)
    ctx.watchdog.run("barrier (save)", ctx.comm.Barrier)
