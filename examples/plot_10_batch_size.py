"""
Batch size: speed and accuracy
==============================

Each step of mini-batch gradient descent averages the gradient over a batch of rows. A small
batch gives a noisy gradient but many updates per epoch; a large one gives a precise gradient,
few updates, and better use of the hardware (the matrix products grow, so the per-row overhead
shrinks). For a fixed number of epochs, larger batches therefore run faster per epoch but take
fewer steps, and usually need a larger learning rate to keep up.

This example measures the time per epoch and the validation accuracy after a fixed number of
epochs for batch sizes from 8 to 1024, once with a fixed learning rate and once with the
learning rate scaled with the square root of the batch size (so the step's noise stays about
the same; the linear rule, lr proportional to the batch, diverges here beyond batch 256).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import nncore as nc
from nncore.model_selection import train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
# Eight copies of the training rows with a little noise, so an epoch is long enough to time.
rng = np.random.default_rng(0)
X_big = np.concatenate(
    [X_train + 0.05 * rng.standard_normal(X_train.shape).astype(np.float32) for _ in range(8)]
)
y_big = np.tile(y_train, 8)
print(f"{len(X_big)} training rows, {len(X_val)} validation rows")

EPOCHS = 5
sizes = [8, 32, 128, 512, 1024]
results = {}
for rule in ("fixed lr 0.05", "lr scaled with batch"):
    for bs in sizes:
        lr = 0.05 if rule == "fixed lr 0.05" else 0.05 * np.sqrt(bs / 32)
        model = nc.Sequential(
            [nc.Dense(128, "relu"), nc.Dense(128, "relu"), nc.Dense(10)], input_dim=64, seed=0
        )
        model.compile(
            optimizer=nc.optim.SGD(lr=lr, momentum=0.9), loss="cross_entropy", metrics=["accuracy"]
        )
        t0 = time.perf_counter()
        h = model.fit(X_big, y_big, epochs=EPOCHS, batch_size=bs)
        seconds = (time.perf_counter() - t0) / EPOCHS
        acc = model.evaluate(X_val, y_val)["accuracy"]
        results[rule, bs] = (seconds, acc)

print(
    f"{'batch':>5s} {'steps/epoch':>11s} {'ms/epoch':>9s} {'rows/s':>9s} "
    f"{'acc (fixed lr)':>14s} {'acc (scaled lr)':>15s}"
)
for bs in sizes:
    sec, acc_fixed = results["fixed lr 0.05", bs]
    acc_scaled = results["lr scaled with batch", bs][1]
    print(
        f"{bs:5d} {-(-len(X_big) // bs):11d} {1e3 * sec:9.1f} {len(X_big) / sec:9.0f} "
        f"{acc_fixed:14.4f} {acc_scaled:15.4f}"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(sizes, [1e3 * results["fixed lr 0.05", bs][0] for bs in sizes], "o-")
axes[0].set_ylabel("milliseconds per epoch")
axes[0].set_title(f"epoch time ({len(X_big)} rows, 64-128-128-10)")
for rule in ("fixed lr 0.05", "lr scaled with batch"):
    axes[1].plot(sizes, [results[rule, bs][1] for bs in sizes], "o-", label=rule)
axes[1].set_ylabel(f"validation accuracy after {EPOCHS} epochs")
axes[1].set_title("accuracy for a fixed number of epochs")
axes[1].legend()
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.grid(True, alpha=0.3)
fig.tight_layout()

# %%
# Times depend on the machine and its load, so read the ratios, not the milliseconds. On a
# small network like this one the per-step overhead dominates small batches; on wide layers
# the matrix products dominate and the gap narrows (see the performance guide).
