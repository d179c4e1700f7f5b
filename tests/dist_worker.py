"""One rank of the data-parallel tests (run by tests/test_distributed.py under mpirun, or alone
with mode "plain" for the single-process reference). Writes the final weights to OUT on rank 0.

usage: dist_worker.py MODE OUT [options as key=value]
MODE: plain (no MPI), dp (data-parallel fit), kill (rank 1 dies mid-fit), hang (rank 1 stops
answering mid-fit), mismatch-seed, mismatch-shape, mismatch-batch, loss-class-weight, bn-in-block (fit's
ValueError / NotImplementedError is written to OUT).
Options shared by plain and dp: sw=1 (sample weights), cw=balanced (class_weight), vsplit=F
(validation_split); dp only: bn=local (ghost batchnorm), per_block=1 (one whole pass per block
instead of the block pass; a test switch), overlap=0, spelling=with|arg|bare (how fit and
evaluate are made collective: ``with dist.init() as ctx:`` (default), ``fit(...,
distributed=ctx)``, or a bare ``dist.init()`` (deprecated; its warnings are saved in OUT)).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings

import numpy as np

import nncore as nc


def data(n=301, d=12, k=3):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, :k].argmax(1) + (X[:, k] > 1)).astype(np.int64) % k
    return X, y


def weights(n=301):
    return (0.25 + (np.arange(n) % 7) / 4).astype(np.float32)


def build(seed=0, hidden=16, dropout=0.2, bn=True, opt="adam"):
    layers = [nc.Dense(hidden, l2=1e-3), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(dropout)]
    if not bn:
        layers.pop(1)
    model = nc.Sequential([*layers, nc.Dense(3)], input_dim=12, seed=seed)
    optimizer = nc.optim.Adam(lr=1e-2) if opt == "adam" else nc.optim.SGD(lr=0.1, momentum=0.9)
    model.compile(optimizer=optimizer, loss="cross_entropy", metrics=["accuracy"])
    return model


def main():
    mode, out = sys.argv[1], sys.argv[2]
    opts = dict(a.split("=", 1) for a in sys.argv[3:])
    block_rows = int(opts.get("block_rows", 16))
    batch = int(opts.get("batch", 64))
    epochs = int(opts.get("epochs", 3))
    replicated = opts.get("replicated", "0") == "1"
    reduction = opts.get("reduction", "tree")
    arch = dict(
        dropout=float(opts.get("dropout", 0.2)),
        bn=opts.get("bn", "1") != "0",
        opt=opts.get("opt", "adam"),
    )
    X, y = data()
    w = weights() if opts.get("sw") == "1" else None
    extra = dict(class_weight=opts.get("cw"), validation_split=float(opts.get("vsplit", 0)))
    threads = int(opts.get("threads", 1))
    nc.set_num_threads(threads)
    if mode == "plain":
        model = build(**arch)
        hist = model.fit(X, y, epochs=epochs, batch_size=batch, seed=3, sample_weight=w, **extra)
        scores = model.evaluate(X, y, sample_weight=w)
        np.savez(
            out,
            params=model.engine.arena("params"),
            buffers=model.engine.arena("buffers"),
            loss=np.array(hist.history["loss"]),
            val_loss=np.array(hist.history.get("val_loss", [])),
            eval_loss=scores["loss"],
            eval_acc=scores["accuracy"],
        )
        return
    import nncore.distributed as dist

    ctx = dist.init(
        block_rows=block_rows,
        timeout=float(opts.get("timeout", 60)),
        replicated=replicated,
        reduction=reduction,
        threads=threads,
        batchnorm="local" if opts.get("bn") == "local" else "sync",
        overlap=opts.get("overlap", "1") == "1",
    )
    ctx._per_block = opts.get("per_block") == "1"
    seed = ctx.rank if mode == "mismatch-seed" else 0
    hidden = 16 + ctx.rank if mode == "mismatch-shape" else 16
    model = build(seed=seed, hidden=hidden, **arch)
    if mode == "bn-in-block":
        model = nc.Sequential(
            [nc.Dense(16), nc.Residual([nc.Dense(16), nc.BatchNorm()]), nc.Dense(3)],
            input_dim=12,
            seed=0,
        )
        model.compile(optimizer="adam", loss="cross_entropy")
    if mode == "loss-class-weight":
        with warnings.catch_warnings():  # deprecated, and refused by the distributed fit
            warnings.simplefilter("ignore", DeprecationWarning)
            model.compile(
                optimizer="adam", loss="cross_entropy", loss_options={"class_weight": [1, 2, 1]}
            )
    Xl, yl = (X, y) if replicated else dist.shard(X, y)
    wl = w if (replicated or w is None) else dist.shard(w)
    bs = batch + ctx.rank if mode == "mismatch-batch" else batch
    callbacks = []
    if mode in ("kill", "hang") and ctx.rank == 1:

        class Die(nc.callbacks.Callback):
            def on_batch_end(self, batch, logs=None):
                if self.model.epochs_done == 1 and batch >= 1:
                    sys.stderr.write("rank 1: dying now\n")
                    sys.stderr.flush()
                    if mode == "kill":
                        os._exit(9)
                    time.sleep(3600)

        callbacks.append(Die())
    val = None
    if "ckpt" in opts:  # every rank asks for checkpoints; rank 0 alone must write them
        path = opts["ckpt"] + f"-rank{ctx.rank}-{{epoch}}.nnc"
        callbacks.append(nc.callbacks.ModelCheckpoint(path, monitor="loss"))
        val = (X[:100], y[:100]) if replicated else dist.shard(X[:100], y[:100])
    spelling = opts.get("spelling", "with")
    scope = ctx if spelling == "with" else contextlib.nullcontext()
    arg = {"distributed": ctx} if spelling == "arg" else {}
    with warnings.catch_warnings(record=True) as caught, scope:
        warnings.simplefilter("always", DeprecationWarning)
        try:
            hist = model.fit(
                Xl,
                yl,
                epochs=epochs,
                batch_size=bs,
                seed=3,
                callbacks=callbacks,
                validation_data=val,
                sample_weight=wl,
                **extra,
                **arg,
            )
        except (ValueError, NotImplementedError) as e:
            if ctx.rank == 0:
                with open(out, "w") as f:
                    f.write(str(e))
            return
        scores = model.evaluate(Xl, yl, sample_weight=wl, **arg)  # collective in the context
    deprecations = [str(w.message) for w in caught if w.category is DeprecationWarning]
    if ctx.rank == 0:
        np.savez(
            out,
            params=model.engine.arena("params"),
            buffers=model.engine.arena("buffers"),
            loss=np.array(hist.history["loss"]),
            acc=np.array(hist.history["accuracy"]),
            eval_loss=scores["loss"],
            eval_acc=scores["accuracy"],
            val_loss=np.array(hist.history.get("val_loss", [])),
            deprecations=np.array(deprecations, dtype=str),
        )


if __name__ == "__main__":
    main()
