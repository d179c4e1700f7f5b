"""The data-parallel training loop behind ``model.fit`` after ``nncore.distributed.init()``.

See :mod:`nncore.distributed` for what it promises; this file is the mechanics of one step:
which rows each rank trains on, fetching them, per-block gradients, the fixed-tree sum, the
update. Two schedules: the block pass (``Network.forward_blocks``/``backward_blocks``: layer by
layer over all local blocks, batchnorm reducing its sums over the global batch mid-pass through
:class:`_Reducer`, each layer's gradient exchange started as soon as its backward is done) and,
for ghost batchnorm (``init(batchnorm="local")``), one whole forward/backward per block.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from .. import _blocktree, _losses
from .._split import holdout_indices
from .._validation import check_fraction, check_positive_int, check_seed
from ..layers import BatchNorm, Residual
from ..training import Driver, callback_list, context, inputs
from ..training.scoring import has_accuracy
from ._collective import check_same, evaluate

_UNSUPPORTED = ("diagnostics",)
# Dropout keys of block steps live above any plain step count (bit 63 set), so a block mask never
# repeats one of plain fit's masks: key = 2^63 + step·2^20 + block.
_BLOCK_KEY = 1 << 63
_MAX_BLOCKS = 1 << 20


def _blocks(rows: np.ndarray, block_rows: int, needs_stats: bool) -> list[np.ndarray]:
    """The global batch ``rows`` cut into blocks; a trailing one-row block joins the previous one
    when a layer needs batch statistics (batchnorm's variance of one row is undefined)."""
    out = [rows[i : i + block_rows] for i in range(0, len(rows), block_rows)]
    if needs_stats and len(out) > 1 and len(out[-1]) == 1:
        out[-2] = np.concatenate(out[-2:])
        out.pop()
    return out


class _Rows:
    """Row access for the global dataset (rank shards concatenated in rank order)."""

    def __init__(self, ctx, X, y, sw, offsets, index=None):
        self.ctx, self.X = ctx, X
        # targets (and sample weights) travel with the features as float32 columns (labels
        # < 2^24 are exact)
        self.Y = _target_columns(y)
        if sw is not None:
            self.Y = np.hstack([self.Y, np.asarray(sw, np.float32)[:, None]])
        self.offsets = offsets
        # the training rows as global row indices (validation_split holds some out)
        self.index = index
        self.n = int(self.offsets[-1]) if index is None else len(index)

    def fetch(self, wanted: list[np.ndarray]) -> np.ndarray:
        """Training rows ``wanted[r]`` for each rank r; returns this rank's. One Alltoallv moves
        the rows (features, targets and weights packed as float32) from their owners."""
        ctx = self.ctx
        me = ctx.rank
        if self.index is not None:
            wanted = [self.index[w] for w in wanted]
        if ctx.replicated:
            return self._rows(wanted[me])
        from mpi4py import MPI

        width = self.X.shape[1] + self.Y.shape[1]
        owners = [np.searchsorted(self.offsets, g, side="right") - 1 for g in wanted]
        send_parts = [self._rows(g[o == me] - self.offsets[me]) for g, o in zip(wanted, owners)]
        send_counts = np.array([p.shape[0] * width for p in send_parts], np.int64)
        sendbuf = np.concatenate(send_parts) if send_parts else np.empty((0, width), np.float32)
        mine, mine_owner = wanted[me], owners[me]
        recv_counts = np.array(
            [int((mine_owner == r).sum()) * width for r in range(ctx.size)], np.int64
        )
        recvbuf = np.empty((len(mine), width), np.float32)
        sdispl = np.concatenate([[0], np.cumsum(send_counts)[:-1]])
        rdispl = np.concatenate([[0], np.cumsum(recv_counts)[:-1]])
        ctx.watchdog.run(
            "Alltoallv (rows)",
            ctx.comm.Alltoallv,
            [np.ascontiguousarray(sendbuf), (send_counts, sdispl), MPI.FLOAT],
            [recvbuf, (recv_counts, rdispl), MPI.FLOAT],
        )
        # recvbuf holds rank 0's rows, then rank 1's, ... each in ``mine`` order; put them back.
        out = np.empty_like(recvbuf)
        out[np.argsort(mine_owner, kind="stable")] = recvbuf
        return out

    def _rows(self, idx: np.ndarray) -> np.ndarray:
        """Local rows ``idx`` as [features | targets] (packed per step, not for the whole shard)."""
        return np.hstack([self.X[idx], self.Y[idx]])


def _target_columns(y) -> np.ndarray:
    y2 = y.reshape(len(y), -1)
    if y2.dtype.kind in "iu" and len(y) and int(np.abs(y2).max()) >= 1 << 24:
        raise ValueError("labels must be < 2^24 for distributed fit")
    return y2.astype(np.float32)


def _unpack(packed, width, y_like, weighted):
    """(X, y, sample weights or None) from rows packed by _Rows."""
    X = np.ascontiguousarray(packed[:, :width])
    end = packed.shape[1] - 1 if weighted else packed.shape[1]
    y = packed[:, width:end]
    if y_like.ndim == 1:
        y = y[:, 0]
    sw = np.ascontiguousarray(packed[:, end]) if weighted else None
    return X, np.ascontiguousarray(y.astype(y_like.dtype)), sw


class _Reducer:
    """The block pass's reducer (called by the core, GIL re-acquired, in the middle of a pass).

    ``sum_blocks``: per-block partial sums (batchnorm's statistics and backward sums, float64)
    summed over the global batch in the fixed block tree, blocking. ``grads_ready``: a layer's
    gradient node sums are final on this rank; their exchange is started at once (nonblocking
    ``Iallgatherv``, or ``Iallreduce`` of their local sum) and overlaps the rest of the backward
    pass; :meth:`finish` waits for all of them and finishes each layer's tree into the gradient
    arena. Every rank reaches the same calls in the same order (the layers run in order on every
    rank, with or without blocks), as MPI's collectives require."""

    def __init__(self, ctx, covers, nb, lo, grads) -> None:
        self.ctx, self.covers, self.nb, self.lo, self.grads = ctx, covers, nb, lo, grads
        self.pending: list = []  # (request, offset, size, buffers...)
        self.deferred: list = []  # grads_ready calls held back when not overlapping
        self.sync_seconds = 0.0  # inside batchnorm's blocking sums
        self.grad_seconds = 0.0  # posting, progressing and waiting for gradient exchanges

    def sum_blocks(self, partial, out):
        from mpi4py import MPI

        t0 = time.perf_counter()
        ctx, width = self.ctx, partial.shape[1]
        self._progress()
        mine = [
            _blocktree.node_sum(h, j, lambda i: partial[i - self.lo].copy(), self.nb)
            for h, j in self.covers[ctx.rank]
        ]
        if ctx.reduction == "allreduce":
            local = np.zeros(width, np.float64)
            for v in mine:
                local += v
            ctx.watchdog.run(
                "Allreduce (batchnorm sums)", ctx.comm.Allreduce, MPI.IN_PLACE, [local, MPI.DOUBLE]
            )
            out[...] = local
        else:
            out[...] = self._gather_tree(mine, width, np.float64, MPI.DOUBLE, "batchnorm sums")
        self.sync_seconds += time.perf_counter() - t0

    def _gather_tree(self, mine, width, dtype, mpitype, what):
        ctx = self.ctx
        counts = np.array([len(c) * width for c in self.covers], np.int64)
        displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
        send = np.concatenate(mine) if mine else np.empty(0, dtype)
        recv = np.empty(int(counts.sum()), dtype)
        ctx.watchdog.run(
            f"Allgatherv ({what})",
            ctx.comm.Allgatherv,
            [send, mpitype],
            [recv, (counts, displ), mpitype],
        )
        return _blocktree.finish(self._known(recv, width), self.nb)

    def _known(self, recv, width):
        known, k = {}, 0
        for c in self.covers:
            for node in c:
                known[node] = recv[k * width : (k + 1) * width]
                k += 1
        return known

    def grads_ready(self, nodes, offset, size, reduced):
        if reduced:  # batchnorm's affine gradients: already sums over the global batch
            return
        if self.ctx.overlap:
            self._post(nodes, offset, size)
        else:
            self.deferred.append((nodes, offset, size))

    def _post(self, nodes, offset, size):
        from mpi4py import MPI

        t0 = time.perf_counter()
        comm = self.ctx.comm
        if self.ctx.reduction == "allreduce":
            local = np.zeros(size, np.float32)
            for v in nodes:
                local += v
            req = comm.Iallreduce(MPI.IN_PLACE, [local, MPI.FLOAT])
            self.pending.append((req, offset, size, local, None))
        else:
            counts = np.array([len(c) * size for c in self.covers], np.int64)
            displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
            send = nodes.reshape(-1)  # the core's node sums, valid until the next backward
            recv = np.empty(int(counts.sum()), np.float32)
            req = comm.Iallgatherv([send, MPI.FLOAT], [recv, (counts, displ), MPI.FLOAT])
            self.pending.append((req, offset, size, recv, send))
        self._progress()
        self.grad_seconds += time.perf_counter() - t0

    def _progress(self):
        # Open MPI moves nonblocking collectives along only inside MPI calls: test them at
        # every callback, so the exchanges advance while the backward pass runs.
        if self.pending:
            from mpi4py import MPI

            MPI.Request.Testall([p[0] for p in self.pending])

    def finish(self):
        """Wait for every exchange and write each layer's global gradient into the arena."""
        from mpi4py import MPI

        for d in self.deferred:
            self._post(*d)
        t0 = time.perf_counter()
        self.ctx.watchdog.run(
            "Waitall (gradient exchanges)", MPI.Request.Waitall, [p[0] for p in self.pending]
        )
        for _req, offset, size, buf, _send in self.pending:
            if self.ctx.reduction == "allreduce":
                self.grads[offset : offset + size] = buf
            else:
                self.grads[offset : offset + size] = _blocktree.finish(
                    self._known(buf, size), self.nb
                )
        self.pending = []
        self.grad_seconds += time.perf_counter() - t0


def _has_batchnorm(layers) -> bool:
    """A BatchNorm anywhere, residual blocks' layers included."""
    return any(
        isinstance(x, BatchNorm) or (isinstance(x, Residual) and _has_batchnorm(x.layers))
        for x in layers
    )


def _batchnorm_in_block(layers) -> bool:
    """A BatchNorm inside a residual block (at any depth)."""
    return any(isinstance(x, Residual) and _has_batchnorm(x.layers) for x in layers)


class _Stepper:
    """One data-parallel optimizer step over a global batch."""

    def __init__(self, ctx, model, rows: _Rows, width: int, y_like, batch_size: int, weighted):
        self.ctx, self.model, self.rows = ctx, model, rows
        self.width, self.y_like, self.batch_size = width, y_like, batch_size
        self.weighted = weighted
        self.grads = model.engine.arena("grads")
        self.buffers = model.engine.arena("buffers")
        self.P, self.Q = self.grads.size, self.buffers.size
        self.needs_stats = _has_batchnorm(model.layers)
        if self.needs_stats and ctx.batchnorm != "local" and _batchnorm_in_block(model.layers):
            # The block pass reduces over the global batch only for top-level layers; a block
            # runs per row block, so its BatchNorm would silently normalise each block alone.
            raise NotImplementedError(
                "synchronised BatchNorm inside a Residual block is not supported by distributed "
                'fit yet: use nncore.distributed.init(batchnorm="local") (ghost batchnorm per '
                "block) or move the BatchNorm out of the block"
            )
        # Ghost batchnorm needs each block's own forward; everything else runs the block pass.
        # (_per_block: a test switch, to compare the two schedules without batchnorm)
        self.block_pass = not (self.needs_stats and ctx.batchnorm == "local") and not getattr(
            ctx, "_per_block", False
        )
        self.count_correct = has_accuracy(model) and y_like.ndim == 1
        self.block_stats: list[
            tuple[int, float, int, int]
        ] = []  # (block, loss·rows, rows, correct)
        self.comm_seconds = 0.0
        self.grad_seconds = 0.0

    def _block_loss(self, i, out, yb, wb, total):
        """Block i's loss gradient, scaled to its share of the batch mean; records its stats."""
        loss, dout = self.model.engine.loss(out, yb, wb)
        if len(yb) != total:
            dout *= np.float32(len(yb) / total)
        correct = int((out.argmax(1) == yb).sum()) if self.count_correct else 0
        self.block_stats.append((self._gidx + i, float(loss) * len(yb), len(yb), correct))
        return dout

    def _leaf(self, i, blocks, X, y, sw, start, key0, B0, total):
        """Block i's vector [gradient | batchnorm buffers after its forward]."""
        m = self.model.engine
        lo = start[i] - start[self._lo]
        sl = slice(lo, lo + len(blocks[i]))
        m.zero_grad()
        m.step = key0 + i
        if self.Q:
            self.buffers[...] = B0
        # the block's own mask key: a rank that trains several blocks between two optimizer
        # steps must draw the same masks as a rank that trains one
        out = m.forward(X[sl], True, step=key0 + i)
        m.backward(self._block_loss(i, out, y[sl], None if sw is None else sw[sl], total))
        vec = np.empty(self.P + self.Q, np.float32)
        vec[: self.P] = self.grads
        vec[self.P :] = self.buffers
        return vec

    def step(self, batch_rows: np.ndarray, gidx: int) -> dict:
        ctx, m = self.ctx, self.model.engine
        blocks = _blocks(batch_rows, ctx.block_rows, self.needs_stats)
        nb = len(blocks)
        if nb > _MAX_BLOCKS:
            raise ValueError(f"batch_size / block_rows must be <= {_MAX_BLOCKS} blocks")
        runs = _blocktree.split_runs(nb, ctx.size)
        lo, hi = runs[ctx.rank]
        self._lo, self._gidx = lo, gidx
        start = np.concatenate([[0], np.cumsum([len(b) for b in blocks])])
        wanted = [np.concatenate(blocks[a:b]) if b > a else batch_rows[:0] for a, b in runs]
        t0 = time.perf_counter()
        packed = self.rows.fetch(wanted)
        self.comm_seconds += time.perf_counter() - t0
        X, y, sw = _unpack(packed, self.width, self.y_like, self.weighted)
        step0 = m.step
        key0 = _BLOCK_KEY + step0 * _MAX_BLOCKS
        total = len(batch_rows)
        covers = [_blocktree.cover(a, b) for a, b in runs]
        if self.block_pass:
            return self._block_pass_step(blocks, nb, lo, hi, covers, X, y, sw, key0, total)

        B0 = self.buffers.copy() if self.Q else None

        def leaf(i):
            return self._leaf(i, blocks, X, y, sw, start, key0, B0, total)

        mine = [_blocktree.node_sum(h, j, leaf, nb) for h, j in covers[ctx.rank]]
        t0 = time.perf_counter()
        result = self._reduce(mine, covers, nb)
        dt = time.perf_counter() - t0
        self.comm_seconds += dt
        self.grad_seconds += dt
        self.grads[...] = result[: self.P]
        if self.Q:
            self.buffers[...] = result[self.P :] / np.float32(nb)
        m.add_penalty_grads()
        m.step = step0
        return m.optimizer_step()

    def _block_pass_step(self, blocks, nb, lo, hi, covers, X, y, sw, key0, total) -> dict:
        m = self.model.engine
        rows = [len(blocks[i]) for i in range(lo, hi)]
        keys = [key0 + i for i in range(lo, hi)]
        red = _Reducer(self.ctx, covers, nb, lo, self.grads)
        out = m.forward_blocks(X, rows, keys, lo, total, red)
        dout = np.empty_like(out)
        r0 = 0
        for i, r in zip(range(lo, hi), rows):
            sl = slice(r0, r0 + r)
            dout[sl] = self._block_loss(i, out[sl], y[sl], None if sw is None else sw[sl], total)
            r0 += r
        m.backward_blocks(dout, rows, keys, lo, total, red)
        red.finish()
        self.comm_seconds += red.sync_seconds + red.grad_seconds
        self.grad_seconds += red.grad_seconds
        m.add_penalty_grads()
        return m.optimizer_step()

    def _reduce(self, mine, covers, nb) -> np.ndarray:
        ctx = self.ctx
        V = self.P + self.Q
        if ctx.reduction == "allreduce":
            from mpi4py import MPI

            local = np.zeros(V, np.float32)
            for v in mine:
                local += v
            ctx.watchdog.run("Allreduce (gradients)", ctx.comm.Allreduce, MPI.IN_PLACE, local)
            return local
        from mpi4py import MPI

        counts = np.array([len(c) * V for c in covers], np.int64)
        displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
        send = np.concatenate(mine) if mine else np.empty(0, np.float32)
        recv = np.empty(int(counts.sum()), np.float32)
        ctx.watchdog.run(
            "Allgatherv (gradient sub-trees)",
            ctx.comm.Allgatherv,
            [send, MPI.FLOAT],
            [recv, (counts, displ), MPI.FLOAT],
        )
        known, k = {}, 0
        for c in covers:
            for node in c:
                known[node] = recv[k * V : (k + 1) * V]
                k += 1
        return _blocktree.finish(known, nb)


def _fit_digest(model, X, y, kw, ctx) -> dict:
    opt = model.optimizer.get_config() if hasattr(model.optimizer, "get_config") else None
    return {
        "model configuration": model.get_config(),
        "optimizer": opt,
        "initial weights": hashlib.sha256(model.engine.arena("params").tobytes()).hexdigest()[:16],
        "batchnorm buffers": hashlib.sha256(model.engine.arena("buffers").tobytes()).hexdigest()[
            :16
        ],
        "fit arguments": {
            k: kw.get(k)
            for k in ("epochs", "batch_size", "shuffle", "seed", "validation_split", "class_weight")
        },
        "sample weights given": kw.get("sample_weight") is not None,
        "batchnorm mode": ctx.batchnorm,
        "number of features": int(X.shape[1]),
        "target layout": [str(y.dtype), list(y.shape[1:])],
        "steps taken": model.engine.step,
    }


def _shard_sizes(ctx, n_local: int) -> list[int]:
    if ctx.replicated:
        return [n_local]
    return ctx.watchdog.run("allgather (row counts)", ctx.comm.allgather, n_local)


def _global_class_weight(ctx, model, y, class_weight):
    """class_weight="balanced" counts the classes of every rank's rows (as plain fit counts all
    rows); it becomes the dict of weights that plain fit would compute."""
    if not (isinstance(class_weight, str) and class_weight == "balanced"):
        return class_weight
    if model.loss not in _losses.SOFTMAX_LOSSES or np.ndim(y) != 1:
        return class_weight  # _fit_inputs raises the usual error
    k = model.engine.output_dim
    counts = np.bincount(np.asarray(y, np.int64), minlength=k).astype(np.int64)
    if not ctx.replicated:
        counts = sum(ctx.watchdog.run("allgather (class counts)", ctx.comm.allgather, counts))
    n = int(counts.sum())
    c = counts.astype(np.float64)
    cw = np.where(c > 0, n / (k * np.maximum(c, 1)), 0.0)
    return {i: float(cw[i]) for i in range(k)}


def _validation(ctx, model, X, y, sw, offsets, seed, kw):
    """(training rows as global indices or None, this rank's validation rows or None).
    validation_split holds out the rows plain fit holds out of the concatenated shards (the
    stratifying labels are gathered for it); each rank validates on the held-out rows it owns."""
    frac = check_fraction(kw.get("validation_split", 0.0), "validation_split")
    val = kw.get("validation_data")
    if not frac:
        return None, None if val is None else (val[0], val[1], val[2] if len(val) > 2 else None)
    if val is not None:
        raise ValueError("give either validation_split or validation_data, not both")
    strat = None
    if model.loss in _losses.SOFTMAX_LOSSES and y.ndim == 1:
        strat = (
            y
            if ctx.replicated
            else np.concatenate(ctx.watchdog.run("allgather (labels)", ctx.comm.allgather, y))
        )
    tr, va = holdout_indices(int(offsets[-1]), frac, seed, stratify=strat)
    lo = 0 if ctx.replicated else int(offsets[ctx.rank])
    mine = va[(va >= lo) & (va < lo + len(X))] - lo
    return tr.astype(np.int64), (X[mine], y[mine], None if sw is None else sw[mine])


class ShardSource:
    """The driver's batch source over the rank shards: per epoch one run, the global row
    order (the permutation plain fit uses for (seed, epoch), so the global batches are the
    rows one process would train on)."""

    ready = True  # the model is built: the driver starts the callbacks before the first run

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int, epochs: int):
        self.n, self.shuffle, self.seed = n, shuffle, seed
        batches = -(-n // batch_size)
        self.info = {"epochs": epochs, "batches": batches, "samples": n}

    def runs(self, epoch: int):
        order = np.arange(self.n, dtype=np.int64)
        if self.shuffle:
            order = np.random.default_rng([int(self.seed), epoch]).permutation(self.n)
        yield order.astype(np.int64)


class ShardStep:
    """The driver's step: each global batch of a run through :class:`_Stepper`. Only what
    every rank knows alike goes in the batch logs (the batch loss would need one more
    collective per step); the epoch logs gather the blocks' statistics."""

    one_by_one = True  # a Python step per batch anyway: callbacks see every batch

    def __init__(self, ctx, stepper: _Stepper, batch_size: int):
        self.ctx, self.stepper, self.batch_size = ctx, stepper, batch_size
        self.gidx, self.skipped, self.grad_norm = 0, 0, -1.0

    def batches(self, order) -> int:
        return -(-len(order) // self.batch_size)

    def train(self, order, begin: int, end: int) -> dict:
        st = self.stepper
        trained = skipped = 0
        for b in range(begin, end):
            batch = order[b * self.batch_size : (b + 1) * self.batch_size]
            if len(batch) == 1 and st.needs_stats:
                continue  # as plain fit: a last batch of one row is dropped with batchnorm
            info = st.step(batch, self.gidx)
            self.gidx += len(_blocks(batch, self.ctx.block_rows, st.needs_stats))
            self.grad_norm = info.get("grad_norm", self.grad_norm)
            self.skipped += 0 if info.get("finite", True) else 1
            skipped += int(info.get("skipped", not info.get("finite", True)))
            trained += 1
        return {"batches": trained, "grad_norm": self.grad_norm, "skipped_nonfinite": skipped}

    def batch_logs(self, totals: dict, b: int, nbatches: int) -> dict:
        logs = {"batch": b, "batches": nbatches, "grad_norm": self.grad_norm}
        if self.skipped:
            logs["nonfinite_steps"] = self.skipped
        return logs

    def epoch_logs(self, totals: dict, val, t0: float) -> dict:
        logs = _epoch_logs(self.ctx, self.stepper, val, t0, self.grad_norm)
        self.stepper.block_stats = []
        self.gidx, self.skipped, self.grad_norm = 0, 0, -1.0
        return logs


def fit(ctx, model, X, y, **kw):
    """``model.fit`` over all ranks (called by Sequential.fit in a context); the context is
    scoped while it runs, so a callback's ``model.evaluate`` is collective too."""
    with context.scope(ctx):
        return _fit(ctx, model, X, y, **kw)


def _fit(ctx, model, X, y, **kw):
    for name in _UNSUPPORTED:
        if kw.get(name):
            raise ValueError(f"distributed fit does not support {name}")
    inputs.require_compiled(model)
    if (model.loss_options or {}).get("class_weight") is not None:
        # its normalisation (the class weights of the batch's labels) spans blocks on other
        # ranks; fit's class_weight= (sample weights) is the supported way
        raise ValueError(
            "distributed fit does not support loss_options class_weight; use "
            "fit(class_weight=...) instead"
        )
    sizes = _shard_sizes(ctx, len(X))
    cw = _global_class_weight(ctx, model, y, kw.get("class_weight"))
    X, y, sw = inputs.fit_inputs(model, X, y, kw.get("sample_weight"), cw)
    epochs = check_positive_int(kw.get("epochs", 1), "epochs", minimum=0)
    batch_size = check_positive_int(kw.get("batch_size", 32), "batch_size")
    seed = check_seed(model.seed if kw.get("seed") is None else kw["seed"], "seed")
    shuffle = bool(kw.get("shuffle", True))
    kw = {**kw, "epochs": epochs, "batch_size": batch_size, "seed": seed, "shuffle": shuffle}
    check_same(ctx, _fit_digest(model, X, y, kw, ctx))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    index, val = _validation(ctx, model, X, y, sw, offsets, seed, kw)
    rows = _Rows(ctx, X, y, sw, offsets, index)
    stepper = _Stepper(ctx, model, rows, X.shape[1], y, batch_size, sw is not None)
    root_only = ("ModelCheckpoint", "CSVLogger")
    callbacks = [
        c for c in (kw.get("callbacks") or []) if ctx.rank == 0 or type(c).__name__ not in root_only
    ]
    verbose = kw.get("verbose", 0) if ctx.rank == 0 else 0

    def start(_run):
        return (*callback_list(model, callbacks, epochs, verbose), val)

    source = ShardSource(rows.n, batch_size, shuffle, seed, epochs)
    step = ShardStep(ctx, stepper, batch_size)
    driver = Driver(model, source, step, schedulers=kw.get("schedulers"), start=start, ctx=ctx)
    history = driver.fit(epochs)
    model.engine.params_changed()
    return history


def _epoch_logs(ctx, stepper, val, t0, grad_norm) -> dict:
    """The epoch's logs, identical on every rank: block statistics gathered and summed in block
    order."""
    model = stepper.model
    parts = ctx.watchdog.run(
        "allgather (epoch statistics)", ctx.comm.allgather, stepper.block_stats
    )
    stats = sorted(s for p in parts for s in p)
    loss_sum = sum(s[1] for s in stats)
    rows = max(sum(s[2] for s in stats), 1)
    logs = {"loss": loss_sum / rows, "reg_loss": model.penalty()}
    if stepper.count_correct:
        logs["accuracy"] = sum(s[3] for s in stats) / rows
    if val is not None:
        for k, v in evaluate(model, val[0], val[1], sample_weight=val[2], ctx=ctx).items():
            logs["val_" + k] = v
    logs["lr"] = float(model.optimizer.lr)
    logs["time"] = time.perf_counter() - t0
    logs["comm_time"] = stepper.comm_seconds
    logs["grad_comm_time"] = stepper.grad_seconds
    stepper.comm_seconds = stepper.grad_seconds = 0.0
    if grad_norm >= 0:
        logs["grad_norm"] = grad_norm
    return logs
