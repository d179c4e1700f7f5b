"""
Vanishing and exploding gradients
=================================

Backward multiplies the gradient by each layer's weights and activation slopes on its way to the
input. Through many layers those factors compound: when they are below one the gradient that
reaches the first layers *vanishes* and those layers stop learning; when they are above one it
*explodes* and a single step wrecks the weights.

``nncore.diagnostics.report`` measures the weight-gradient norm of every layer on one batch and
flags both problems; ``fit(diagnostics=True)`` records the norms per epoch and
``nncore.plot.gradient_norms`` draws them. Three 10-layer networks on the digits:

- sigmoid units with Xavier initialisation: the gradient shrinks by about 4 per layer;
- ReLU units with He initialisation: the gradient keeps its size through depth;
- ReLU units whose He weights are scaled by 2.5: signals grow by 2.5 per layer on the way up
  and gradients by 2.5 per layer on the way down, so every weight gradient is about
  :math:`2.5^9 \approx 4000` times too large.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
DEPTH, WIDTH = 10, 64


def deep_net(activation, init, scale=1.0):
    layers = [nc.Dense(WIDTH, activation, init=init) for _ in range(DEPTH - 1)]
    model = nc.Sequential([*layers, nc.Dense(10)], input_dim=64, seed=0)
    model.compile(optimizer=nc.optim.SGD(lr=0.05), loss="cross_entropy", metrics=["accuracy"])
    if scale != 1.0:
        for name, w in model.parameters().items():
            if name.endswith(".weight"):
                w *= scale  # parameters() are writable views of the weights
    return model


nets = {
    "sigmoid, Xavier": deep_net("sigmoid", "xavier_normal"),
    "ReLU, He": deep_net("relu", "he_normal"),
    "ReLU, He x 2.5": deep_net("relu", "he_normal", scale=2.5),
}

# %%
# One batch, before training
# --------------------------
first_last = {}
for name, model in nets.items():
    print(f"--- {name}")
    rows = nc.diagnostics.report(model, X, y)
    norms = [r["grad_norm"] for r in rows if "grad_norm" in r]
    first_last[name] = norms

fig, ax = plt.subplots(figsize=(6, 4))
for name, norms in first_last.items():
    ax.plot(range(len(norms)), norms, "o-", label=name)
ax.set_yscale("log")
ax.set_xlabel("Dense layer (0 = next to the input)")
ax.set_ylabel("weight-gradient norm")
ax.set_title(f"gradient size through {DEPTH} layers, before training")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# During training
# ---------------
# The norms recorded per epoch by ``fit(diagnostics=True)``. The sigmoid network's first layers
# barely move and its accuracy stays low; the healthy ReLU network learns; the exploding one
# learns nothing useful in the same budget.
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (name, model) in zip(axes, nets.items()):
    # The exploding network's activations overflow to inf; numpy's warnings about the
    # statistics of those are expected here.
    with np.errstate(over="ignore", invalid="ignore"):
        h = model.fit(X, y, epochs=10, batch_size=32, validation_split=0.2, diagnostics=True)
    nc.plot.gradient_norms(h, ax=ax)
    ax.set_title(f"{name}: val accuracy {h.history['val_accuracy'][-1]:.2f}")
    ax.get_legend().remove() if name != "ReLU, He" else ax.legend(fontsize="x-small", ncol=2)
    print(f"{name:16s} validation accuracy after 10 epochs: {h.history['val_accuracy'][-1]:.3f}")
fig.tight_layout()

# %%
# The remedies follow from the cause: activations whose slope is 1 where active (the ReLU
# family), an initialisation that keeps the signal's variance from layer to layer (He for ReLU,
# Xavier for tanh; see the initialisation example), batch normalisation, and, against explosion,
# a smaller learning rate or gradient clipping (``nc.optim.SGD(..., clipnorm=1.0)``).
