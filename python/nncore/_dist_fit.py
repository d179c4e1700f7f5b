"""The data-parallel training loop behind ``model.fit`` after ``nncore.distributed.init()``.

See :mod:`nncore.distributed` for what it promises; this file is the mechanics of one step:
which rows each rank trains on, fetching them, per-block gradients, the fixed-tree sum, the
update.
"""

from __future__ import annotations

import time

import numpy as np

from . import _blocktree
from ._validation import check_positive_int, check_seed

_UNSUPPORTED = ("sample_weight", "class_weight", "validation_split", "diagnostics")
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

    def __init__(self, ctx, X, y):
        self.ctx, self.X = ctx, X
        # targets travel with the features as float32 columns (labels < 2^24 are exact)
        self.Y = _target_columns(y)
        if ctx.replicated:
            self.offsets = np.array([0, len(X)], np.int64)
        else:
            sizes = ctx._watchdog.run("allgather (row counts)", ctx.comm.allgather, len(X))
            self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n = int(self.offsets[-1])

    def fetch(self, wanted: list[np.ndarray]) -> np.ndarray:
        """Rows ``wanted[r]`` (global indices) for each rank r; returns this rank's. One Alltoallv
        moves the rows (features and targets packed as float32) from their owners."""
        ctx = self.ctx
        me = ctx.rank
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
        ctx._watchdog.run(
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


def _unpack(packed, width, y_like):
    X = np.ascontiguousarray(packed[:, :width])
    y = packed[:, width:]
    if y_like.ndim == 1:
        y = y[:, 0]
    return X, np.ascontiguousarray(y.astype(y_like.dtype))


def _has_batchnorm(layers) -> bool:
    """A BatchNorm anywhere, residual blocks' layers included."""
    from .layers import BatchNorm, Residual

    return any(
        isinstance(x, BatchNorm) or (isinstance(x, Residual) and _has_batchnorm(x.layers))
        for x in layers
    )


class _Stepper:
    """One data-parallel optimizer step over a global batch."""

    def __init__(self, ctx, model, rows: _Rows, width: int, y_like, batch_size: int):
        self.ctx, self.model, self.rows = ctx, model, rows
        self.width, self.y_like, self.batch_size = width, y_like, batch_size
        self.grads = model._arena("grads")
        self.buffers = model._arena("buffers")
        self.P, self.Q = self.grads.size, self.buffers.size
        self.needs_stats = _has_batchnorm(model.layers)
        self.count_correct = model._has_accuracy() and y_like.ndim == 1
        self.block_stats: list[
            tuple[int, float, int, int]
        ] = []  # (block, loss·rows, rows, correct)
        self.comm_seconds = 0.0

    def _leaf(self, i, blocks, X, y, start, key0, B0, total):
        """Block i's vector [gradient | batchnorm buffers after its forward]."""
        m = self.model
        lo = start[i] - start[self._lo]
        xb, yb = X[lo : lo + len(blocks[i])], y[lo : lo + len(blocks[i])]
        m.zero_grad()
        m._core_step(key0 + i)
        if self.Q:
            self.buffers[...] = B0
        # the block's own mask key: a rank that trains several blocks between two optimizer
        # steps must draw the same masks as a rank that trains one
        out = m._forward_unchecked(xb, True, step=key0 + i)
        loss, dout = m._loss_unchecked(out, yb)
        if len(xb) != total:
            dout *= np.float32(len(xb) / total)
        m._backward_unchecked(dout)
        correct = int((out.argmax(1) == yb).sum()) if self.count_correct else 0
        self.block_stats.append((self._gidx + i, float(loss) * len(xb), len(xb), correct))
        vec = np.empty(self.P + self.Q, np.float32)
        vec[: self.P] = self.grads
        vec[self.P :] = self.buffers
        return vec

    def step(self, batch_rows: np.ndarray, gidx: int) -> dict:
        ctx, m = self.ctx, self.model
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
        X, y = _unpack(packed, self.width, self.y_like)
        step0 = m._core_step()
        key0 = _BLOCK_KEY + step0 * _MAX_BLOCKS
        B0 = self.buffers.copy() if self.Q else None
        total = len(batch_rows)
        covers = [_blocktree.cover(a, b) for a, b in runs]

        def leaf(i):
            return self._leaf(i, blocks, X, y, start, key0, B0, total)

        mine = [_blocktree.node_sum(h, j, leaf, nb) for h, j in covers[ctx.rank]]
        t0 = time.perf_counter()
        result = self._reduce(mine, covers, nb)
        self.comm_seconds += time.perf_counter() - t0
        self.grads[...] = result[: self.P]
        if self.Q:
            self.buffers[...] = result[self.P :] / np.float32(nb)
        m._add_penalty_grads()
        m._core_step(step0)
        return m._optimizer_step()

    def _reduce(self, mine, covers, nb) -> np.ndarray:
        ctx = self.ctx
        V = self.P + self.Q
        if ctx.reduction == "allreduce":
            from mpi4py import MPI

            local = np.zeros(V, np.float32)
            for v in mine:
                local += v
            ctx._watchdog.run("Allreduce (gradients)", ctx.comm.Allreduce, MPI.IN_PLACE, local)
            return local
        from mpi4py import MPI

        counts = np.array([len(c) * V for c in covers], np.int64)
        displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
        send = np.concatenate(mine) if mine else np.empty(0, np.float32)
        recv = np.empty(int(counts.sum()), np.float32)
        ctx._watchdog.run(
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
    import hashlib

    opt = model.optimizer.get_config() if hasattr(model.optimizer, "get_config") else None
    return {
        "model configuration": model.get_config(),
        "optimizer": opt,
        "initial weights": hashlib.sha256(model._arena("params").tobytes()).hexdigest()[:16],
        "batchnorm buffers": hashlib.sha256(model._arena("buffers").tobytes()).hexdigest()[:16],
        "fit arguments": {k: kw[k] for k in ("epochs", "batch_size", "shuffle", "seed")},
        "number of features": int(X.shape[1]),
        "target layout": [str(y.dtype), list(y.shape[1:])],
        "steps taken": model._core_step(),
    }


def fit(ctx, model, X, y, **kw):
    """``model.fit`` over all ranks (called by Sequential.fit when a context is active)."""
    for name in _UNSUPPORTED:
        if kw.get(name):
            raise ValueError(f"distributed fit does not support {name}")
    model._require_compiled()
    X, y, _ = model._fit_inputs(X, y, None, None)
    epochs = check_positive_int(kw.get("epochs", 1), "epochs", minimum=0)
    batch_size = check_positive_int(kw.get("batch_size", 32), "batch_size")
    seed = check_seed(model.seed if kw.get("seed") is None else kw["seed"], "seed")
    shuffle = bool(kw.get("shuffle", True))
    kw = {**kw, "epochs": epochs, "batch_size": batch_size, "seed": seed, "shuffle": shuffle}
    from .distributed import check_same

    check_same(ctx, _fit_digest(model, X, y, kw, ctx))
    val = kw.get("validation_data")
    rows = _Rows(ctx, X, y)
    stepper = _Stepper(ctx, model, rows, X.shape[1], y, batch_size)
    callbacks = [
        c
        for c in (kw.get("callbacks") or [])
        if ctx.rank == 0 or type(c).__name__ not in ("ModelCheckpoint", "CSVLogger")
    ]
    verbose = kw.get("verbose", 0) if ctx.rank == 0 else 0
    from .model import _schedulers

    scheds = _schedulers(kw.get("schedulers"))
    history, cb = model._fit_callbacks(callbacks, X, y, epochs, verbose, False)
    n = rows.n
    nbatches = -(-n // batch_size)
    model.stop_training = False
    cb.on_train_begin({"epochs": epochs, "batches": nbatches, "samples": n})
    for epoch in range(model.epochs_done, model.epochs_done + epochs):
        cb.on_epoch_begin(epoch, {})
        t0 = time.perf_counter()
        order = np.arange(n, dtype=np.int64)
        if shuffle:
            order = np.random.default_rng([int(seed), epoch]).permutation(n).astype(np.int64)
        stepper.block_stats = []
        gidx, grad_norm, skipped = 0, -1.0, 0
        for b in range(nbatches):
            batch = order[b * batch_size : (b + 1) * batch_size]
            if len(batch) == 1 and stepper.needs_stats:
                continue  # as plain fit: a last batch of one row is dropped with batchnorm
            info = stepper.step(batch, gidx)
            gidx += len(_blocks(batch, ctx.block_rows, stepper.needs_stats))
            grad_norm = info.get("grad_norm", grad_norm)
            for s in scheds:
                if s.interval == "batch":
                    s.step_batch()
            # Only what every rank knows alike goes in the batch logs (the batch loss would need
            # one more collective per step).
            blogs = {"batch": b, "batches": nbatches, "grad_norm": grad_norm}
            if not info.get("finite", True):
                skipped += 1
            if skipped:
                blogs["nonfinite_steps"] = skipped
            cb.on_batch_end(b, blogs)
            if model.stop_training:
                break
        logs = _epoch_logs(ctx, model, stepper, val, t0, grad_norm)
        model.epochs_done = epoch + 1
        for s in scheds:
            s.step_epoch(logs)
        cb.on_epoch_end(epoch, logs)
        stop = ctx._watchdog.run(
            "allreduce (stop flag)", ctx.comm.allreduce, bool(model.stop_training), _lor()
        )
        if stop:
            model.stop_training = True
            break
    model._params_changed()
    cb.on_train_end({})
    return history


def _lor():
    from mpi4py import MPI

    return MPI.LOR


def _epoch_logs(ctx, model, stepper, val, t0, grad_norm) -> dict:
    """The epoch's logs, identical on every rank: block statistics gathered and summed in block
    order."""
    parts = ctx._watchdog.run(
        "allgather (epoch statistics)", ctx.comm.allgather, stepper.block_stats
    )
    stats = sorted(s for p in parts for s in p)
    loss_sum = sum(s[1] for s in stats)
    rows = max(sum(s[2] for s in stats), 1)
    logs = {"loss": loss_sum / rows, "reg_loss": model.penalty()}
    if stepper.count_correct:
        logs["accuracy"] = sum(s[3] for s in stats) / rows
    if val is not None:
        from .distributed import evaluate

        for k, v in evaluate(model, val[0], val[1], ctx=ctx).items():
            logs["val_" + k] = v
    logs["lr"] = float(model.optimizer.lr)
    logs["time"] = time.perf_counter() - t0
    logs["comm_time"] = stepper.comm_seconds
    stepper.comm_seconds = 0.0
    if grad_norm >= 0:
        logs["grad_norm"] = grad_norm
    return logs
