"""The collectives of data-parallel training: a watchdog that aborts the job when one hangs,
the start-of-fit check that every rank was given the same model and arguments, and the
collective evaluate."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time

import numpy as np

from ..training import inputs, scoring


class Watchdog:
    """Aborts the MPI job when one collective takes longer than ``timeout`` seconds."""

    def __init__(self, comm, timeout: float):
        self.comm, self.timeout = comm, float(timeout)
        self._what: str | None = None
        self._since = 0.0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="nncore-mpi-watchdog", daemon=True)
        self._stop = threading.Event()
        self._thread.start()

    def _run(self):
        while not self._stop.wait(min(0.5, self.timeout / 4)):
            with self._lock:
                what, since = self._what, self._since
            if what is not None and time.monotonic() - since > self.timeout:
                sys.stderr.write(
                    f"nncore.distributed: rank {self.comm.Get_rank()}: {what} made no progress "
                    f"for {self.timeout:g} s (another rank died or hangs); aborting the MPI job\n"
                )
                sys.stderr.flush()
                self.comm.Abort(70)

    def run(self, what: str, fn, *args):
        with self._lock:
            self._what, self._since = what, time.monotonic()
        try:
            return fn(*args)
        finally:
            with self._lock:
                self._what = None

    def stop(self):
        self._stop.set()


def _gather_rows(ctx, a: np.ndarray) -> np.ndarray:
    """Every rank's rows of ``a`` concatenated in rank order (on every rank)."""
    parts = ctx.watchdog.run("allgather (evaluate)", ctx.comm.allgather, np.ascontiguousarray(a))
    return np.concatenate(parts)


def evaluate(model, X, y, *, sample_weight=None, ctx) -> dict:
    """``model.evaluate`` over all ranks' rows (each rank passes its own; after :func:`init`,
    ``model.evaluate`` itself comes here). Each rank runs the forward pass of its rows; the
    outputs, targets and weights are gathered in rank order and every rank computes the loss and
    the metrics from all of them, as one process evaluating the concatenated rows would: the
    same scores bit for bit, whatever the rank count (exact metrics, not averages of per-rank
    averages). With ``replicated=True`` every rank passes all rows and does 1/size of the
    forward work. Collective: every rank must call it."""
    X, y, sw = inputs.evaluate_inputs(model, X, y, sample_weight)
    if callable(model.loss):
        # a Python loss needs the targets' own type: evaluate the gathered rows everywhere
        if not ctx.replicated:
            X, y = _gather_rows(ctx, X), _gather_rows(ctx, y)
        out, loss = scoring.outputs_and_loss(model, X, y, None)
        return scoring.scores(model, out, y, loss)
    n = X.shape[0]
    lo, hi = (
        (ctx.rank * n // ctx.size, (ctx.rank + 1) * n // ctx.size) if ctx.replicated else (0, n)
    )
    out = _gather_rows(ctx, model.engine.outputs(X[lo:hi]))
    if not ctx.replicated:
        y = _gather_rows(ctx, y)
        sws = ctx.watchdog.run("allgather (evaluate weights)", ctx.comm.allgather, sw)
        if any(w is None for w in sws) != all(w is None for w in sws):
            raise ValueError("evaluate: some ranks gave sample_weight and others did not")
        sw = None if sws[0] is None else np.concatenate(sws)
    return scoring.scores(model, out, y, scoring.loss_of_outputs(model, out, y, sw))


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_same(ctx, what: dict) -> None:
    """Raise ValueError on every rank when the ranks' ``what`` differ, naming the first field
    (and, for nested dicts, the sub-field) that differs and the ranks involved."""
    mine = {k: (_digest(v), v) for k, v in what.items()}
    everyone = ctx.watchdog.run("allgather (fit start check)", ctx.comm.allgather, mine)
    for key in what:
        digests = [d[key][0] for d in everyone]
        if len(set(digests)) == 1:
            continue
        other = next(r for r, dg in enumerate(digests) if dg != digests[0])
        a, b = everyone[0][key][1], everyone[other][key][1]
        detail = _first_difference(a, b)
        raise ValueError(
            f"nncore.distributed: ranks 0 and {other} were given different {key}{detail}; every "
            "rank must build the same model (same layers and seed), compile it the same way and "
            "call fit with the same arguments"
        )


def _first_difference(a, b, path="") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (u, v) in enumerate(zip(a, b)):
            if u != v:
                return _first_difference(u, v, f"{path}[{i}]")
    where = f" at {path}" if path else ""
    return f"{where}: {a!r} vs {b!r}"
