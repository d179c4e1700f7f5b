"""
Activation functions and their derivatives
==========================================

Without a non-linear activation, a stack of layers is one linear map: :math:`W_2 (W_1 x + b_1)
+ b_2` is again :math:`W x + b`, and no depth can fit a non-linear pattern. An activation
function between the layers breaks this. Its derivative matters as much as its shape: backward
multiplies the gradient by it at every layer, so where it is near zero (the flat tails of sigmoid
and tanh, the negative side of ReLU) the gradient fades.

Each curve below comes from nncore's own kernels: an ``Activation`` layer's ``forward`` gives
:math:`f(x)` and ``backward`` of a vector of ones gives :math:`f'(x)`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

x = np.linspace(-4, 4, 401, dtype=np.float32).reshape(-1, 1)
names = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "silu"]

values, slopes = {}, {}
for name in names:
    layer = nc.Activation(name, alpha=0.1) if name == "leaky_relu" else nc.Activation(name)
    model = nc.Sequential([layer], input_dim=1)
    values[name] = model.forward(x, training=True)[:, 0]
    slopes[name] = model.backward(np.ones_like(x))[:, 0]  # d f / d x, element by element

print(
    f"{'activation':11s} {'f(-3)':>8s} {'f(0)':>8s} {'f(3)':>8s} {'max slope':>9s} "
    f"{'slope at -3':>11s}"
)
at = {v: int(np.argmin(np.abs(x[:, 0] - v))) for v in (-3, 0, 3)}
for name in names:
    f, d = values[name], slopes[name]
    print(
        f"{name:11s} {f[at[-3]]:8.4f} {f[at[0]]:8.4f} {f[at[3]]:8.4f} {d.max():9.4f} "
        f"{d[at[-3]]:11.4f}"
    )

# %%
# The derivative checked against a finite difference of the forward values:
for name in names:
    numeric = np.gradient(values[name].astype(np.float64), x[:, 0].astype(np.float64))
    inner = slice(5, -5)  # np.gradient is one-sided at the ends; skip the ReLU-type kinks
    err = np.abs(numeric - slopes[name])[inner]
    err[np.abs(x[inner, 0]) < 0.05] = 0
    print(f"{name:11s} max |backward - finite difference| = {err.max():.2e}")

# %%
fig, axes = plt.subplots(3, 3, figsize=(10, 8), sharex=True)
for ax, name in zip(axes.ravel(), names):
    ax.plot(x[:, 0], values[name], label="f(x)")
    ax.plot(x[:, 0], slopes[name], "--", label="f'(x)")
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set_title(name)
    ax.grid(True, alpha=0.3)
axes[0, 0].legend()
fig.suptitle("activation functions (solid) and their derivatives (dashed)")
fig.tight_layout()

# %%
# Sigmoid's slope is at most 0.25, so ten sigmoid layers scale a gradient by at most
# :math:`0.25^{10} \approx 10^{-6}`: the *vanishing gradient* (see the example on vanishing and
# exploding gradients). ReLU's slope is exactly 1 where the unit is active, which is why the
# ReLU family trains deep networks; a unit stuck on the negative side gets no gradient at all (a
# *dead* ReLU), which leaky ReLU, ELU and GELU avoid with a non-zero slope there.
