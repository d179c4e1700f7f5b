"""Data-parallel training over MPI: one model trained by every rank.

    mpirun -n 4 python examples/distributed/train_mpi.py
    (as root, or with more ranks than cores: mpirun --allow-run-as-root --oversubscribe -n 4 ...)

Each rank loads only its rows (here: its share of a synthetic dataset). BatchNorm is
synchronised: its statistics are those of the whole 256-row batch, as in one process. The weights
at the end are bitwise the same for -n 1, 2 or 4 (see nncore.distributed); rank 0 prints and
saves.
"""

import numpy as np

import nncore as nc
import nncore.distributed as dist

rng = np.random.default_rng(0)
X = rng.standard_normal((20_000, 32)).astype(np.float32)
y = (X[:, :4].sum(1) > 0).astype(np.int64) + 2 * (X[:, 4] > 0.5)

model = nc.Sequential(
    [nc.Dense(64), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.1), nc.Dense(4)],
    input_dim=32,
    seed=0,  # every rank builds the same model: fit checks it
)
model.compile(optimizer=nc.optim.Adam(lr=3e-3), loss="cross_entropy", metrics=["accuracy"])

# Inside the block fit and evaluate are collective over the ranks; outside it they are local.
with dist.init() as ctx:  # rank, size; OpenMP threads = this node's cores / ranks on it
    X_train, y_train = dist.shard(X[:16_000], y[:16_000])  # this rank's rows
    X_test, y_test = dist.shard(X[16_000:], y[16_000:])
    history = model.fit(
        X_train,
        y_train,
        epochs=5,
        batch_size=256,
        validation_data=(X_test, y_test),  # evaluated over all ranks' test rows
        callbacks=[nc.callbacks.ModelCheckpoint("/tmp/nncore-mpi-{epoch}.nnc")],  # rank 0 writes
    )
    scores = model.evaluate(X_test, y_test)  # collective: every rank gets all ranks' scores
    if ctx.rank == 0:
        print(f"{ctx.size} ranks: final loss {history.history['loss'][-1]:.4f}, test {scores}")
        print("weights checksum", float(np.abs(model.get_weights()[0]).sum()))
    dist.save(model, "/tmp/nncore-mpi-final.nnc")
