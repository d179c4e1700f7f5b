"""
Backpropagation checked against finite differences
==================================================

Backpropagation computes the gradient of the loss with respect to every weight in one backward
pass: the error at the output is propagated layer by layer with the chain rule. A finite
difference estimates the same derivative from two forward passes,
:math:`\\partial L / \\partial w \\approx (L(w + \\varepsilon) - L(w - \\varepsilon)) / 2\\varepsilon`,
one weight at a time. The two must agree; that is how a backward pass is tested.

Here a user-written loop calls ``forward``, ``loss_fn`` and ``backward`` itself, reads the
gradients, and compares them with finite differences computed by hand and by
``nncore.diagnostics.gradient_check``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
x, t = X[:64], y[:64]
model = nc.Sequential(
    [nc.Dense(32, "tanh"), nc.Dense(16, "tanh"), nc.Dense(10)], input_dim=64, seed=0
)
model.compile(optimizer="sgd", loss="cross_entropy")

# Forward, loss and backward, as in any framework: the gradient of the mean loss lands in
# model.gradients(), one array per parameter.
model.zero_grad()
out = model.forward(x, training=True)
loss, dout = model.loss_fn(out, t)
model.backward(dout)
grads = {k: v.copy() for k, v in model.gradients().items()}
print(f"loss {loss:.5f}; gradient arrays: " + ", ".join(f"{k} {v.shape}" for k, v in grads.items()))

# %%
# Finite differences by hand
# --------------------------
# ``parameters()`` are writable views of the weights: nudge one, run forward, put it back.
params = model.parameters()
rng = np.random.default_rng(0)
eps = 1e-2
rows = []
for name in ("0.weight", "1.weight", "2.weight", "2.bias"):
    for _ in range(8):
        idx = tuple(int(rng.integers(s)) for s in params[name].shape)
        orig = float(params[name][idx])
        losses = []
        for step in (+eps, -eps):
            params[name][idx] = orig + step
            losses.append(model.loss_fn(model.forward(x, training=True), t)[0])
        params[name][idx] = orig
        numeric = (losses[0] - losses[1]) / (2 * eps)
        rows.append((name, idx, grads[name][idx], numeric))

print(f"{'parameter':10s} {'index':10s} {'backprop':>11s} {'finite diff':>11s}")
for name, idx, a, n in rows[::4]:
    print(f"{name:10s} {str(idx):10s} {a:11.6f} {n:11.6f}")
analytic = np.array([r[2] for r in rows])
numeric = np.array([r[3] for r in rows])
rel = np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-4)
print(f"largest relative difference over {len(rows)} weights: {rel.max():.2e}")

# %%
# The same with ``gradient_check``, for a deeper ReLU network with batch normalisation and
# dropout (the forward runs with the same dropout masks in every evaluation). The Dense layer
# before the BatchNorm has no bias: batch normalisation subtracts the batch mean, so such a bias
# has a gradient of exactly zero and is wasted (the finite differences of a zero gradient are
# pure rounding noise, which is all a check of it would measure).
deep = nc.Sequential(
    [
        nc.Dense(32, use_bias=False),
        nc.BatchNorm(),
        nc.Activation("relu"),
        nc.Dropout(0.2),
        nc.Dense(32, "relu"),
        nc.Dense(10),
    ],
    input_dim=64,
    seed=1,
)
deep.compile(optimizer="adam", loss="cross_entropy")
err, details = nc.diagnostics.gradient_check(deep, X, y, n_checks=10, return_details=True)
print(
    f"gradient_check: max relative error {err:.2e} over {len(details)} coordinates "
    "(float32 arithmetic: 1e-3..1e-2 is a correct gradient)"
)

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(analytic, numeric, "o", label="tanh network, by hand")
d = np.array([(a, n) for _, _, a, n in details])
ax.plot(d[:, 0], d[:, 1], "x", label="BN + dropout network, gradient_check")
lim = np.abs(np.concatenate([analytic, numeric, d.ravel()])).max() * 1.1
ax.plot([-lim, lim], [-lim, lim], "k:", linewidth=1)
ax.set_xlabel("backpropagation")
ax.set_ylabel("finite difference")
ax.set_title("gradients: backprop vs finite differences")
ax.legend(fontsize="small")
fig.tight_layout()
