"""
Data splits and stratified k-fold
=================================

A model is fitted on *training* data, its hyper-parameters are chosen on *validation* data and
its final score is measured once on *test* data that played no part in either. With few rows,
k-fold cross-validation reuses the data: the rows are cut into k folds, each fold is the
validation set once, and a fresh model is trained on the rest each time; the k scores are
averaged. *Stratified* k-fold keeps each class's share the same in every fold, so no fold is
short of a rare class.

This example splits the digits data into train and test parts, compares the class balance of
plain and stratified folds on an imbalanced subset, and cross-validates a small MLP.
"""

# %%
# Train / test split
# ------------------
# ``train_test_split`` with ``stratify=y`` keeps each digit's share in both parts. The test
# part is put aside; everything below uses the training part only.
import matplotlib.pyplot as plt
import numpy as np

import nncore as nc
from nncore.model_selection import KFold, StratifiedKFold, cross_validate, train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, seed=0)
print(f"train {X_train.shape[0]} rows, test {X_test.shape[0]} rows")
print("class shares, train:", np.round(np.bincount(y_train) / len(y_train), 3))
print("class shares, test: ", np.round(np.bincount(y_test) / len(y_test), 3))

# %%
# Plain versus stratified folds
# -----------------------------
# On an imbalanced problem (digit 0 against a rare digit 1, 10 % of the rows) plain k-fold can
# give a fold very few rare rows; stratified k-fold gives every fold the same share.
rng = np.random.default_rng(0)
zeros = np.flatnonzero(y_train == 0)
ones = rng.choice(np.flatnonzero(y_train == 1), size=len(zeros) // 9, replace=False)
idx = np.concatenate([zeros, ones])
Xi, yi = X_train[idx], (y_train[idx] == 1).astype(np.int64)
print(f"imbalanced subset: {len(yi)} rows, {yi.sum()} of the rare class")

shares = {}
for name, cv in [
    ("KFold (unshuffled)", KFold(5)),
    ("KFold (shuffled)", KFold(5, shuffle=True, seed=0)),
    ("StratifiedKFold", StratifiedKFold(5, shuffle=True, seed=0)),
]:
    shares[name] = [yi[test].mean() for _, test in cv.split(Xi, yi)]
    print(f"{name:20s} rare-class share per validation fold:", np.round(shares[name], 3))

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.27
for j, (name, s) in enumerate(shares.items()):
    ax.bar(np.arange(5) + (j - 1) * width, s, width, label=name)
ax.axhline(yi.mean(), color="k", linestyle=":", label="overall share")
ax.set_xticks(range(5), [f"fold {i + 1}" for i in range(5)])
ax.set_ylabel("share of the rare class")
ax.set_title("class balance of the validation folds")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Cross-validating a model
# ------------------------
# ``cross_validate`` trains a fresh model from ``make_model()`` on each training part and
# scores it on the held-out fold. The spread of the fold scores says how much the estimate
# depends on which rows happened to be held out.


def make_model():
    model = nc.Sequential([nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0)
    return model.compile(optimizer=nc.optim.Adam(lr=3e-3), loss="cross_entropy")


cv = StratifiedKFold(5, shuffle=True, seed=0)
result = cross_validate(make_model, X_train, y_train, cv=cv, fit_params={"epochs": 15})
scores = result["test_accuracy"]
print("fold accuracies:", np.round(scores, 4))
print(f"mean {scores.mean():.4f} +- {scores.std():.4f}")
nc.plot.cv_scores(result)

# %%
# Only now, with the model chosen, is the test part used: once.
model = make_model()
model.fit(X_train, y_train, epochs=15)
print(f"test accuracy: {nc.metrics.accuracy(y_test, model.predict(X_test)):.4f}")
