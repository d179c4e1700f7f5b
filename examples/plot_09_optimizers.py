"""
Optimizers compared on one problem
==================================

Plain stochastic gradient descent steps along the current mini-batch gradient. The other
optimizers change the step:

- **momentum** keeps a running sum of past gradients, so consistent directions speed up and
  oscillating ones cancel; **Nesterov** momentum evaluates the gradient after the momentum step;
- **Adagrad** divides each weight's step by the root of the sum of its squared gradients, so
  often-updated weights slow down (and all of them, eventually);
- **RMSprop** uses a decaying average of squared gradients instead, so steps do not die out;
- **Adam** combines momentum with RMSprop's per-weight scaling and corrects both averages for
  their start at zero.

All six train the same network from the same initial weights, on the same batches, for the same
number of epochs; nncore's optimizers follow ``torch.optim``'s formulas and defaults.
"""

# %%
import time

import matplotlib.pyplot as plt

import nncore as nc
from nncore.model_selection import train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)

optimizers = {
    "SGD": lambda: nc.optim.SGD(lr=0.05),
    "SGD + momentum": lambda: nc.optim.SGD(lr=0.05, momentum=0.9),
    "SGD + Nesterov": lambda: nc.optim.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "Adagrad": lambda: nc.optim.Adagrad(lr=0.05),
    "RMSprop": lambda: nc.optim.RMSprop(lr=1e-3),
    "Adam": lambda: nc.optim.Adam(lr=1e-3),
}
histories = {}
print(f"{'optimizer':15s} {'train loss':>10s} {'val loss':>9s} {'val acc':>8s} {'time (s)':>8s}")
for name, make in optimizers.items():
    model = nc.Sequential(
        [nc.Dense(64, "relu"), nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0
    )
    model.compile(optimizer=make(), loss="cross_entropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    h = model.fit(X_train, y_train, epochs=20, batch_size=32, validation_data=(X_val, y_val))
    histories[name] = h
    print(
        f"{name:15s} {h.history['loss'][-1]:10.4f} {h.history['val_loss'][-1]:9.4f} "
        f"{h.history['val_accuracy'][-1]:8.4f} {time.perf_counter() - t0:8.2f}"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, h in histories.items():
    axes[0].plot(range(1, 21), h.history["loss"], label=name)
    axes[1].plot(range(1, 21), h.history["val_accuracy"], label=name)
axes[0].set_yscale("log")
axes[0].set_ylabel("training loss")
axes[1].set_ylabel("validation accuracy")
axes[1].set_ylim(0.8, 1.0)
for ax in axes:
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
axes[0].legend(fontsize="small")
fig.tight_layout()

# %%
# Each optimizer has its own good learning rate (the ones above are common defaults, not
# tuned); a fair comparison tunes each, for example with the hyper-parameter search of the
# last example. Momentum and the adaptive methods reach a low training loss in far fewer epochs
# than plain SGD at the same learning rate.
