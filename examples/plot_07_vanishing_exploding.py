r"""
Vanishing and exploding gradients
=================================

Backward multiplies the gradient by each layer's weights and activation slopes on its way to the
input. Through many layers those factors compound: when they are below one the gradient that
reaches the first layers *vanishes* and those layers stop learning; when they are above one it
*explodes* and a single step wrecks the weights.

``nncore.diagnostics.report`` measures the weight-gradient norm of every layer on one batch and
flags both problems (``fit(diagnostics=True)`` records the same norms once per epoch, and
``nncore.plot.gradient_norms`` draws them). Three 10-layer networks on the digits:

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
    "ReLU, He × 2.5": deep_net("relu", "he_normal", scale=2.5),
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
# The same norms after each of the first training steps (one batch of 32 rows each). The y axis
# is the norm's base-10 logarithm, so the three networks fit on one scale: the sigmoid
# network's first layers stay near :math:`10^{-6}` and barely move, the He network's norms stay
# near 1, and the exploding network's grow by orders of magnitude per step until they pass the
# largest float32 number (:math:`3.4 \times 10^{38}`). From that step on the gradients and then
# the weights are inf or NaN: the crosses mark the overflow, drawn at the float32 limit.
STEPS = 12
F32_MAX = float(np.finfo(np.float32).max)


def norms_per_step(model, steps):
    """(steps, layers) weight-gradient norms, measured before each training step."""
    out = []
    batches = nc.data.batches(X, y, batch_size=32, seed=0)
    for _, (xb, yb) in zip(range(steps), batches):
        rows = nc.diagnostics.report(model, xb, yb, print_fn=None)
        out.append([r["grad_norm"] for r in rows if "grad_norm" in r])
        model.train_step(xb, yb)
    return np.array(out, dtype=np.float64)


fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (name, model) in zip(axes, nets.items()):
    # The exploding network overflows to inf/NaN; numpy's warnings about that are expected.
    with np.errstate(over="ignore", invalid="ignore"):
        norms = norms_per_step(model, STEPS)
        h = model.fit(X, y, epochs=10, batch_size=32, validation_split=0.2)
    finite = np.isfinite(norms).all(axis=1)
    broken = STEPS if finite.all() else int(np.argmin(finite))  # first step with inf/NaN
    steps = np.arange(STEPS)
    for layer in range(norms.shape[1]):
        ax.plot(
            steps[:broken],
            np.log10(norms[:broken, layer]),
            ".-",
            lw=1,
            color=plt.cm.viridis(layer / (norms.shape[1] - 1)),
            label=f"layer {layer}" if layer in (0, norms.shape[1] - 1) else None,
        )
    ax.axhline(np.log10(F32_MAX), color="grey", ls="--", lw=1)
    if broken < STEPS:
        ax.axvspan(broken - 0.5, STEPS - 0.5, color="tab:red", alpha=0.08)
        ax.plot(
            steps[broken:],
            np.full(STEPS - broken, np.log10(F32_MAX)),
            "x",
            color="tab:red",
            ms=8,
            mew=2,
            label="overflow (inf/NaN)",
        )
        print(
            f"{name}: norms reach {norms[broken - 1].max():.1e} at step {broken - 1}, "
            f"inf/NaN from step {broken} on"
        )
    ax.set_title(f"{name}: val accuracy {h.history['val_accuracy'][-1]:.2f}")
    ax.set_xlabel("training step")
    ax.legend(fontsize="x-small", loc="center right")
    print(f"{name:16s} validation accuracy after 10 epochs: {h.history['val_accuracy'][-1]:.3f}")
axes[0].set_ylabel("log10(weight-gradient norm)")
axes[0].text(0, np.log10(F32_MAX) - 3, "float32 limit", fontsize="small", color="grey")
fig.tight_layout()

# %%
# The remedies follow from the cause: activations whose slope is 1 where active (the ReLU
# family), an initialisation that keeps the signal's variance from layer to layer (He for ReLU,
# Xavier for tanh; see the initialisation example), batch normalisation, and, against explosion,
# a smaller learning rate or gradient clipping (``nc.optim.SGD(..., clipnorm=1.0)``).
