"""
Overfitting and its remedies
============================

A network with far more capacity than its data can memorise the training rows: the training
loss keeps falling while the validation loss turns up. The gap between them is the
*generalisation error* the model will show on new data. The remedies are more data, a penalty on
the weights (L1 / L2 regularisation: the cost becomes :math:`J(\\theta) = \\text{loss} + \\lambda
R(\\theta)`), dropout (switching random units off, an ensemble of thinned networks), batch
normalisation and early stopping (keeping the weights of the best validation epoch).

Here a wide MLP trains on 500 digits of which a quarter carry a wrong, random label, as noisy
real data does. The network has the capacity to memorise the wrong labels too, and doing so
costs it accuracy on the (clean) validation rows. Each remedy is then applied alone to the same
model, data and seed, and the curves are drawn side by side.
"""

# %%
# The overfitting baseline
# ------------------------
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc
from nncore.model_selection import train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_val, y_train, y_val = train_test_split(
    X, y, train_size=500, test_size=500, stratify=y, seed=0
)
rng = np.random.default_rng(0)
flip = rng.random(len(y_train)) < 0.25
y_train[flip] = rng.integers(0, 10, flip.sum())  # label noise: a quarter of the rows
EPOCHS = 60


def make_model(l1=0.0, l2=0.0, dropout=0.0, batchnorm=False):
    layers = []
    for _ in range(2):
        layers.append(nc.Dense(256, None if batchnorm else "relu", l1=l1, l2=l2))
        if batchnorm:
            layers += [nc.BatchNorm(), nc.Activation("relu")]
        if dropout:
            layers.append(nc.Dropout(dropout))
    layers.append(nc.Dense(10, l1=l1, l2=l2))
    model = nc.Sequential(layers, input_dim=64, seed=0)
    return model.compile(
        optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy", metrics=["accuracy"]
    )


def train(model, callbacks=None):
    return model.fit(
        X_train,
        y_train,
        epochs=EPOCHS,
        batch_size=32,
        validation_data=(X_val, y_val),
        callbacks=callbacks,
    )


base_model = make_model()
baseline = train(base_model)
nc.plot.learning_curves(baseline, ["loss", "accuracy"])
best = int(np.argmax(baseline.history["val_accuracy"]))
print(
    f"baseline: training accuracy {baseline.history['accuracy'][-1]:.3f} (it memorised the noise), "
    f"validation accuracy {baseline.history['val_accuracy'][-1]:.3f}, "
    f"best {baseline.history['val_accuracy'][best]:.3f} at epoch {best + 1}"
)

# %%
# Remedies side by side
# ---------------------
# Each run changes one thing. Early stopping watches the validation loss and, with
# ``restore_best=True``, puts back the best epoch's weights when it stops.
runs = {
    "none": (base_model, None),
    "L2 1e-2": (make_model(l2=1e-2), None),
    "L1 1e-3": (make_model(l1=1e-3), None),
    "dropout 0.5": (make_model(dropout=0.5), None),
    "batchnorm": (make_model(batchnorm=True), None),
    "early stopping": (
        make_model(),
        [nc.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best=True)],
    ),
}
histories = {}
print(f"{'remedy':15s} {'epochs':>6s} {'train acc':>9s} {'val acc':>8s} {'val loss':>9s}")
print("(train acc: on the noisy training labels)")
for name, (model, cbs) in runs.items():
    h = baseline if model is base_model else train(model, cbs)
    histories[name] = h
    final = model.evaluate(X_val, y_val)
    train_acc = model.evaluate(X_train, y_train)["accuracy"]
    print(
        f"{name:15s} {len(h.history['loss']):6d} {train_acc:9.4f} {final['accuracy']:8.4f} "
        f"{final['loss']:9.4f}"
    )

fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharex=True, sharey=True)
for ax, (name, h) in zip(axes.ravel(), histories.items()):
    nc.plot.learning_curve(h, "loss", ax=ax, log=True)
    ax.set_title(name)
fig.suptitle("training (solid) and validation (dashed) loss; 500 training rows, 25 % wrong labels")
fig.tight_layout()

# %%
# The penalties, dropout and early stopping keep the network from fitting the wrong labels and
# end with a higher validation accuracy; they act differently: the penalties shrink the weights
# throughout training, dropout trains an ensemble of thinned networks (its training accuracy
# stays well below 1), and early stopping simply stops before the validation loss turns up.
# Batch normalisation is no regulariser to count on: it makes training faster and less
# sensitive to the initial weights, and here it lets the network memorise the noise even faster.
