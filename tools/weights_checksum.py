"""SHA-256 of a model's weights after one fixed training run: a refactor of the training path
must leave it unchanged (same bits).

The run covers the parts that most often drift: BatchNorm (running statistics in the buffers),
Dropout (seeded masks), Adam (moments in the optimizer state), an L2 penalty, a validation split,
an epoch scheduler and a batch scheduler. Usage: PYTHONPATH=python python tools/weights_checksum.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import numpy as np

import nncore as nc


def run() -> tuple[str, str]:
    X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
    model = nc.Sequential(
        [
            nc.Dense(64, l2=1e-4),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.2),
            nc.Dense(32, "tanh", l2=1e-4),
            nc.Dense(10),
        ],
        input_dim=64,
        seed=7,
    )
    opt = nc.optim.Adam(lr=3e-3)
    model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
    scheds = [
        nc.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        nc.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
    ]
    model.fit(X, y, epochs=3, batch_size=64, validation_split=0.1, schedulers=scheds)
    h = hashlib.sha256()
    _update(h, model, opt)
    # A batch-interval scheduler takes the other path through fit (per-batch learning rates).
    model2 = nc.Sequential([nc.Dense(32, "relu", l2=1e-4), nc.Dense(10)], input_dim=64, seed=3)
    opt2 = nc.optim.Adam(lr=1e-3)
    model2.compile(optimizer=opt2, loss="cross_entropy")
    one = nc.lr_scheduler.OneCycleLR(opt2, max_lr=1e-2, epochs=3, steps_per_epoch=57)
    sw = np.linspace(0.5, 1.0, len(y))
    model2.fit(X, y, epochs=3, batch_size=32, schedulers=one, sample_weight=sw)
    _update(h, model2, opt2)
    return h.hexdigest(), _file_digest(model)


def _file_digest(model) -> str:
    """SHA-256 of the saved model file: the io layer must write the same bytes too."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.nnc")
        model.save(path)
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


def _update(h, model, opt) -> None:
    for name, v in {**model.parameters(), **model.buffers()}.items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(v, dtype=np.float32).tobytes())
    for name, v in sorted(opt.state_dict()["state"].items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(v, dtype=np.float32).tobytes())


if __name__ == "__main__":
    weights, file = run()
    print(f"weights {weights}")
    print(f"file    {file}")
