"""
Single- and multi-layer perceptrons on XOR
==========================================

A single-layer perceptron (SLP) draws one straight line through its input space: it can learn
AND and OR, whose classes a line separates, but not XOR (output 1 when exactly one input is 1),
whose classes sit on opposite corners. A hidden layer (a multi-layer perceptron, MLP) bends the
boundary and solves it.

The four XOR points are jittered into four clouds so the boundaries have something to show.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc

rng = np.random.default_rng(0)
corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
X = np.repeat(corners, 50, axis=0) + 0.15 * rng.standard_normal((200, 2)).astype(np.float32)
inputs = np.repeat(corners, 50, axis=0).astype(int)
targets = {
    "AND": inputs[:, 0] & inputs[:, 1],
    "OR": inputs[:, 0] | inputs[:, 1],
    "XOR": inputs[:, 0] ^ inputs[:, 1],
}


def perceptron(hidden):
    layers = [nc.Dense(hidden, "tanh")] if hidden else []
    model = nc.Sequential([*layers, nc.Dense(1, "sigmoid")], input_dim=2, seed=0)
    return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="binary_cross_entropy")


models = {}
print(f"{'problem':8s} {'SLP accuracy':>12s} {'MLP accuracy':>12s}")
for problem, t in targets.items():
    t = t.astype(np.float32).reshape(-1, 1)
    accs = []
    for hidden in (0, 8):
        model = perceptron(hidden)
        model.fit(X, t, epochs=150, batch_size=32)
        models[problem, hidden] = model
        accs.append(nc.metrics.accuracy(t[:, 0].astype(int), model.predict(X)))
    print(f"{problem:8s} {accs[0]:12.3f} {accs[1]:12.3f}")

# %%
# Decision boundaries
# -------------------
# The black line is where the predicted probability is 0.5.
fig, axes = plt.subplots(2, 3, figsize=(11, 7.5))
for j, (problem, t) in enumerate(targets.items()):
    for i, (hidden, label) in enumerate([(0, "SLP"), (8, "MLP, 8 tanh units")]):
        nc.plot.decision_boundary(models[problem, hidden], X, t, ax=axes[i, j], resolution=120)
        axes[i, j].set_title(f"{problem}: {label}")
fig.tight_layout()

# %%
# The SLP's boundary on XOR is still a straight line. No line separates the two classes (the
# best one gets three corners of four right), and the logistic loss, symmetric over the four
# corners, settles near chance instead. The MLP's hidden layer maps the corners to a space where
# one line suffices.
