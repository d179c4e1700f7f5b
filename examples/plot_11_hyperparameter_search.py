"""
Hyper-parameter search
======================

Weights are learned; hyper-parameters (the learning rate, the width of a layer, the strength of a
penalty, the number of epochs) are chosen. They are chosen by cross-validation on the training
data, never on the test data, which is kept for the final, single measurement.

``GridSearch`` tries every combination of a grid; ``RandomSearch`` draws a fixed number of
candidates from distributions, which covers wide ranges (a learning rate between 1e-4 and 1e-1)
with fewer fits. Both give every candidate the same folds. Parameters named ``fit__<name>`` go to
``fit`` instead of the model function.
"""

# %%
# A grid search
# -------------
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc
from nncore.model_selection import (
    GridSearch,
    RandomSearch,
    StratifiedKFold,
    train_test_split,
    validation_curve,
)

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
cv = StratifiedKFold(3, shuffle=True, seed=0)


def make_model(units=64, lr=1e-3, l2=0.0):
    model = nc.Sequential([nc.Dense(units, "relu", l2=l2), nc.Dense(10)], input_dim=64, seed=0)
    return model.compile(optimizer=nc.optim.Adam(lr=lr), loss="cross_entropy")


grid = GridSearch(
    make_model,
    {"units": [16, 64, 256], "lr": [1e-3, 1e-2]},
    cv=cv,
    fit_params={"epochs": 10, "batch_size": 32},
)
grid.fit(X_train, y_train)
print(grid.results_table())
print("best:", grid.best_params_, f"cross-validated accuracy {grid.best_score_:.4f}")

score = {
    (r["params"]["lr"], r["params"]["units"]): r["mean_test_accuracy"] for r in grid.cv_results_
}
table = np.array([[score[lr, units] for units in (16, 64, 256)] for lr in (1e-3, 1e-2)])
fig, ax = plt.subplots(figsize=(5, 3.5))
im = ax.imshow(table, cmap="viridis")
ax.set_xticks(range(3), ["16", "64", "256"])
ax.set_yticks(range(2), ["1e-3", "1e-2"])
ax.set_xlabel("hidden units")
ax.set_ylabel("learning rate")
for (i, j), v in np.ndenumerate(table):
    ax.text(j, i, f"{v:.3f}", ha="center", va="center", color="w")
ax.set_title("mean 3-fold accuracy")
fig.colorbar(im, ax=ax)
fig.tight_layout()

# %%
# A random search
# ---------------
# Callables receive a numpy Generator: here the learning rate and the L2 strength are drawn on a
# log scale, the width from a list.
search = RandomSearch(
    make_model,
    {
        "units": [32, 64, 128],
        "lr": lambda rng: float(f"{10 ** rng.uniform(-4, -1):.2g}"),
        "l2": lambda rng: float(f"{10 ** rng.uniform(-6, -2):.2g}"),
        "fit__epochs": [5, 10, 20],
    },
    n_iter=8,
    seed=0,
    cv=cv,
)
search.fit(X_train, y_train)
print(search.results_table())

# %%
# One parameter at a time
# -----------------------
# ``validation_curve`` gives the train and validation scores over a range of one parameter; the
# gap between them is the overfitting, the validation maximum the choice. A wide layer trained
# for long on 500 rows fits its training rows perfectly; a strong penalty closes the gap, but by
# underfitting (both scores fall), so the curve picks a small value.


def wide_model(l2=0.0):
    return make_model(units=256, lr=1e-2, l2=l2)


l2_range = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
X_small, y_small = X_train[:500], y_train[:500]
train_scores, val_scores = validation_curve(
    wide_model, X_small, y_small, "l2", l2_range, cv=cv, fit_params={"epochs": 30}
)
for l2, tr, va in zip(l2_range, train_scores.mean(axis=1), val_scores.mean(axis=1)):
    print(f"l2={l2:<7g} train {tr:.4f}  validation {va:.4f}")
fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(l2_range, train_scores.mean(axis=1), "o-", label="train")
ax.semilogx(l2_range, val_scores.mean(axis=1), "o--", label="validation")
ax.set_xlabel("l2")
ax.set_ylabel("accuracy")
ax.set_title("validation curve")
ax.legend()
ax.grid(True, alpha=0.3)
fig.tight_layout()

# %%
# Finally, the test set, once
# ---------------------------
# The grid search refitted its best candidate on the whole training part (``refit=True``).
print(f"grid search's best model on the test set: {grid.score(X_test, y_test):.4f}")
