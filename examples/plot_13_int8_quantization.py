"""
int8 quantization: accuracy against speed
=========================================

A trained model can predict with 8-bit integers instead of 32-bit floats: each weight becomes
an integer between -63 and 63 times a per-output-unit scale, each layer's input an unsigned byte
times a per-tensor scale plus a zero point, and the products are summed exactly in 32-bit
integers (VNNI instructions where the CPU has them). Weights take a quarter of the memory and
each instruction does several times as many multiply-adds; the price is a rounding error in
every weight and activation.

``model.quantize(X_calibration)`` returns such a model. *Static* activation ranges are measured
once on the calibration rows; *dynamic* ranges are measured on every predicted batch (no
calibration, one more pass over each layer's input). The last layer stays in float32 by
default, as the outputs are where rounding shows most. This example trains an MLP on the digits
data and compares float32, static int8 and dynamic int8 on held-out accuracy and on prediction
time.
"""

# %%
# Train a float32 model
# ---------------------
import time

import matplotlib.pyplot as plt
import numpy as np

import nncore as nc
from nncore.model_selection import train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)

model = nc.Sequential(
    [nc.Dense(512), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(512, "relu"), nc.Dense(10)],
    input_dim=X.shape[1],
    seed=0,
)
model.compile(optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=20, batch_size=64, verbose=0)

# %%
# Quantize
# --------
# Static ranges come from a few hundred training rows (never the test rows). BatchNorm is
# folded into the Dense before it first, so it costs nothing at prediction time.
static = model.quantize(X_train[:500])
dynamic = model.quantize(activations="dynamic")
print(static)

models = {"float32": model, "int8 static": static, "int8 dynamic": dynamic}
p32 = model.predict(X_test)
accuracy = {}
for name, m in models.items():
    p = m.predict(X_test)
    accuracy[name] = float(np.mean(p.argmax(1) == y_test))
    print(
        f"{name:13s} test accuracy {accuracy[name]:.4f}, "
        f"largest probability change {np.abs(p - p32).max():.4f}"
    )

# %%
# Time the predictions
# --------------------
# One batch of 2048 rows, best of several repeats, on one thread (the ratios are what carries
# over to other machines; the times depend on the CPU).
nc.set_num_threads(1)
batch = np.ascontiguousarray(np.resize(X_test, (2048, X.shape[1])))


def best_time(m, repeats=15):
    m.predict(batch)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        m.predict(batch)
        times.append(time.perf_counter() - t0)
    return min(times)


seconds = {name: best_time(m) for name, m in models.items()}
nc.set_num_threads(0)
for name in models:
    print(
        f"{name:13s} {seconds[name] * 1e3:6.2f} ms per 2048 rows, "
        f"{seconds['float32'] / seconds[name]:.2f}x float32's speed"
    )

# %%
# The trade-off
# -------------
# Each point is one way of predicting: further right is faster, higher is more accurate. On a
# data set this small the accuracy moves by a test row or two, if at all; the speed-up comes from
# the integer GEMM and grows with the layers' width.
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, marker in zip(models, ["o", "s", "^"]):
    speed = seconds["float32"] / seconds[name]
    ax.scatter(speed, 100 * accuracy[name], s=80, marker=marker, label=name)
    ax.annotate(name, (speed, 100 * accuracy[name]), textcoords="offset points", xytext=(8, 4))
ax.set_xlabel("prediction speed relative to float32 (batch 2048, 1 thread)")
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(min(accuracy.values()) * 100 - 1.0, 100.2)
ax.set_xlim(0.5, max(seconds["float32"] / s for s in seconds.values()) * 1.25)
ax.legend(loc="lower right")
ax.set_title("digits: float32 against int8")
fig.tight_layout()
plt.show()
