"""
Gradient descent and the learning rate
======================================

Gradient descent moves the parameters :math:`\\theta` a step against the gradient of the cost:
:math:`\\theta \\leftarrow \\theta - \\eta \\nabla J(\\theta)`. The learning rate :math:`\\eta`
sets the step. Too small, and the cost falls so slowly that training never gets there; too large,
and each step overshoots the minimum, the cost oscillates or grows without bound.

The cost here is the mean squared error of a linear regression, :math:`J(w, b) = \\frac1n\\sum_i
(w x_i + b - y_i)^2`: a single ``Dense(1)`` layer with ``loss="mse"``. Each ``train_step`` on the
whole data set is one exact gradient-descent step, so the path of :math:`(w, b)` can be drawn on
the contours of the cost.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

rng = np.random.default_rng(0)
x = rng.uniform(-1, 3, size=(200, 1)).astype(np.float32)
y = (2.0 * x[:, 0] - 1.0 + 0.3 * rng.standard_normal(200)).astype(np.float32)


def descend(lr, steps=40):
    model = nc.Sequential([nc.Dense(1, init="zeros")], input_dim=1, seed=0)
    model.compile(optimizer=nc.optim.SGD(lr=lr), loss="mse")
    path, losses = [], []
    for _ in range(steps):
        p = model.parameters()
        path.append((float(p["0.weight"][0, 0]), float(p["0.bias"][0])))
        losses.append(model.train_step(x, y))  # the full batch: plain gradient descent
    return np.array(path), np.array(losses)


rates = {"too small (0.01)": 0.01, "about right (0.2)": 0.2, "too large (0.53)": 0.53}
runs = {name: descend(lr) for name, lr in rates.items()}
for name, (path, losses) in runs.items():
    w, b = path[-1]
    print(f"{name:18s} cost after 40 steps {losses[-1]:10.4g}   w={w:8.3f} b={b:8.3f}")
print("least squares:     w, b =", np.round(np.polyfit(x[:, 0], y, 1), 3))

# %%
# The paths on the cost surface
# -----------------------------
W, B = np.meshgrid(np.linspace(-1, 4, 200), np.linspace(-4, 3, 200))
J = ((W[..., None] * x[:, 0] + B[..., None] - y) ** 2).mean(axis=-1)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
axes[0].contour(W, B, J, levels=np.geomspace(J.min() + 1e-3, J.max(), 25), cmap="Greys")
for name, (path, _) in runs.items():
    axes[0].plot(path[:, 0], path[:, 1], "o-", markersize=3, label=name)
axes[0].set_xlim(-1, 4)
axes[0].set_ylim(-4, 3)
axes[0].set_xlabel("w")
axes[0].set_ylabel("b")
axes[0].set_title("gradient descent on the MSE surface")
axes[0].legend(fontsize="small")
for name, (_, losses) in runs.items():
    axes[1].plot(losses, label=name)
axes[1].set_yscale("log")
axes[1].set_xlabel("step")
axes[1].set_ylabel("cost (MSE)")
axes[1].set_title("cost per step")
axes[1].legend(fontsize="small")
fig.tight_layout()

# %%
# The same on a network
# ---------------------
# The learning rate matters the same way for an MLP trained with mini-batch SGD on the digits.
X, yd = nc.datasets.load_digits(return_X_y=True, scale=True)
fig, ax = plt.subplots(figsize=(6, 4))
for lr in (0.001, 0.05, 3.0):
    model = nc.Sequential([nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0)
    model.compile(optimizer=nc.optim.SGD(lr=lr), loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(X, yd, epochs=15, batch_size=32, validation_split=0.2)
    print(
        f"SGD lr={lr:<6} validation accuracy after 15 epochs: {h.history['val_accuracy'][-1]:.4f}"
    )
    ax.plot(range(1, 16), h.history["loss"], marker="o", markersize=3, label=f"lr = {lr}")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("an MLP on digits: three learning rates")
ax.legend()
fig.tight_layout()
