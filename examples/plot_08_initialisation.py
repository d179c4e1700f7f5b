"""
Xavier versus He initialisation
===============================

The initial weights decide whether a signal survives the trip through a deep network. A unit
sums :math:`n_{in}` inputs; if each weight has variance :math:`\\sigma^2`, the sum's variance is
about :math:`n_{in} \\sigma^2` times the input's. To keep it constant from layer to layer:

- **Xavier** (Glorot) initialisation draws weights with standard deviation
  :math:`\\sqrt{2 / (n_{in} + n_{out})}`, derived for activations that are roughly linear near 0
  (tanh, sigmoid);
- **He** initialisation uses :math:`\\sqrt{2 / n_{in}}`: ReLU zeroes half its inputs, halving
  the variance, and the factor 2 makes up for it.

With ReLU, Xavier's weights are too small by :math:`\\sqrt 2` per layer and the signal shrinks
towards zero with depth; with tanh, He's weights are too large and the units saturate at ±1. The
standard deviation of each layer's output, on a batch of digits, shows it (measured by
``nncore.diagnostics.report``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-6)  # unit-variance inputs
DEPTH, WIDTH = 20, 256

stats = {}
for activation in ("relu", "tanh"):
    for init in ("xavier_normal", "he_normal"):
        layers = [nc.Dense(WIDTH, activation, init=init) for _ in range(DEPTH)]
        model = nc.Sequential([*layers, nc.Dense(10)], input_dim=64, seed=0)
        model.compile(optimizer="sgd", loss="cross_entropy")
        rows = nc.diagnostics.report(model, X, y, print_fn=None)[:DEPTH]
        stats[activation, init] = np.array([r["act_std"] for r in rows])

print(f"{'activation':10s} {'init':14s} {'std layer 1':>11s} {'layer 10':>9s} {'layer 20':>9s}")
for (activation, init), std in stats.items():
    print(f"{activation:10s} {init:14s} {std[0]:11.4f} {std[9]:9.4f} {std[-1]:9.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, activation in zip(axes, ("relu", "tanh")):
    for init in ("xavier_normal", "he_normal"):
        std = stats[activation, init]
        ax.plot(range(1, DEPTH + 1), std, "o-", markersize=3, label=init)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("standard deviation of the layer's output")
    ax.set_title(f"{DEPTH} {activation} layers of {WIDTH} units")
    ax.legend()
    ax.grid(True, alpha=0.3)
fig.tight_layout()

# %%
# Does it matter for training? Twenty layers of ReLU, trained for a few epochs of plain SGD
# with each initialisation: with Xavier the signal that reaches the output is 1000 times too
# small and the network barely starts learning.
for init in ("xavier_normal", "he_normal"):
    layers = [nc.Dense(64, "relu", init=init) for _ in range(DEPTH)]
    model = nc.Sequential([*layers, nc.Dense(10)], input_dim=64, seed=0)
    model.compile(optimizer=nc.optim.SGD(lr=0.01), loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(X, y, epochs=8, batch_size=32, validation_split=0.2)
    print(
        f"ReLU x {DEPTH}, {init:14s}: validation accuracy after 8 epochs "
        f"{h.history['val_accuracy'][-1]:.3f}"
    )

# %%
# ``nc.Dense(..., init="auto")``, the default, picks He for the ReLU family, Xavier for tanh and
# sigmoid and LeCun for SELU.
