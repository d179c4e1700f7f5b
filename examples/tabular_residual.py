"""
Embeddings for categorical columns on a real mixed-type table
=============================================================

The Palmer penguins (``examples/data/penguins.csv``, CC0, see ``penguins.LICENSE.md``): predict a
penguin's sex from its species, island and year (categorical) and four body measurements
(numeric). The 11 rows without a recorded sex are left out (the rest happen to have every
measurement; the median imputer stays in the pipeline for data that does not). Size dimorphism
differs by species, so the model must combine the categories with the measurements.

Three models, each scored on the same held-out folds (5-fold stratified cross-validation, repeated
with two shuffles; statistics such as the imputation and standardization come from each training
part only):

- a residual MLP whose first layer is ``nc.TabularInput``: the categorical columns are integer
  codes that read learned embedding vectors (4 wide), concatenated after the numeric columns, then
  Dense -> ``nc.Residual([Dense, Dropout, Dense])`` -> ReLU (Gorishniy et al. 2021's ResNet
  block for tabular data, without its BatchNorm);
- a plain MLP (two ReLU Dense layers) on one-hot encoded categories;
- scikit-learn's ``HistGradientBoostingClassifier`` with native categorical support (when
  scikit-learn is installed).

Run: ``python examples/tabular_residual.py`` (5-30 s on two shared cores). On 2026-11-30 it printed
accuracies 0.904 ± 0.027 (residual MLP + embeddings), 0.908 ± 0.030 (plain MLP + one-hot) and
0.910 ± 0.025 (HistGradientBoosting): on 333 rows and three categorical columns of 2-3 values the
three are within noise of each other. Embeddings pay off when a column has many categories,
where one-hot inputs grow as wide as the cardinality.
"""

from __future__ import annotations

import csv
import os
import time

import numpy as np

import nncore as nc
from nncore.model_selection import StratifiedKFold
from nncore.preprocessing import OrdinalEncoder, SimpleImputer, Standardizer

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "penguins.csv")
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["species", "island", "year"]
EPOCHS, BATCH, WIDTH, EMBED = 40, 32, 64, 4


def load(path=DATA):
    """(numeric float64 (n, 4) with NaN, categories str (n, 3), sex 0/1) of the rows with a sex."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["sex"] != "NA"]
    num = np.array([[np.nan if r[c] == "NA" else float(r[c]) for c in NUMERIC] for r in rows])
    cat = np.array([[r[c] for c in CATEGORICAL] for r in rows])
    y = np.array([r["sex"] == "male" for r in rows], np.int64)
    return num, cat, y


def residual_body():
    return [
        nc.Dense(WIDTH, "relu"),
        nc.Residual([nc.Dense(WIDTH, "relu"), nc.Dropout(0.1), nc.Dense(WIDTH)]),
        nc.Activation("relu"),
    ]


def plain_body():
    return [nc.Dense(WIDTH, "relu"), nc.Dense(WIDTH, "relu")]


def mlp(first, body, n_in, seed):
    layers = ([first] if first is not None else []) + body + [nc.Dense(2)]
    model = nc.Sequential(layers, input_dim=n_in, seed=seed)
    return model.compile(nc.optim.AdamW(lr=3e-3, weight_decay=1e-2), "cross_entropy", ["accuracy"])


def numeric_part(num_tr, num_te):
    """Median imputation and standardization fitted on the training rows."""
    imp = SimpleImputer("median").fit(num_tr)
    scaler = Standardizer().fit(imp.transform(num_tr))
    return scaler.transform(imp.transform(num_tr)), scaler.transform(imp.transform(num_te))


def one_hot(codes, cards):
    return np.hstack([np.eye(k + 1, dtype=np.float32)[codes[:, j].astype(int), :k]
                      for j, k in enumerate(cards)])  # fmt: skip


def fold_scores(num, cat, y, tr, te, seed):
    Ztr, Zte = numeric_part(num[tr], num[te])
    enc = OrdinalEncoder(unknown="reserve").fit(cat[tr])
    Ctr, Cte = enc.transform(cat[tr]), enc.transform(cat[te])
    cards = enc.cardinalities()
    scores = {}

    d = Ztr.shape[1]
    inp = nc.TabularInput(
        numeric=list(range(d)),
        categorical={d + j: k for j, k in enumerate(cards)},
        embed_dim=EMBED,
        unknown="reserve",
    )
    model = mlp(inp, residual_body(), d + len(cards), seed)
    model.fit(np.hstack([Ztr, Ctr]), y[tr], epochs=EPOCHS, batch_size=BATCH)
    scores["residual MLP + embeddings"] = model.evaluate(np.hstack([Zte, Cte]), y[te])["accuracy"]

    Otr, Ote = np.hstack([Ztr, one_hot(Ctr, cards)]), np.hstack([Zte, one_hot(Cte, cards)])
    model = mlp(None, plain_body(), Otr.shape[1], seed)
    model.fit(Otr, y[tr], epochs=EPOCHS, batch_size=BATCH)
    scores["plain MLP + one-hot"] = model.evaluate(Ote, y[te])["accuracy"]

    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return scores
    hgb = HistGradientBoostingClassifier(
        categorical_features=[False] * len(NUMERIC) + [True] * len(cards), random_state=seed
    )
    hgb.fit(np.hstack([num[tr], Ctr]), y[tr])  # NaN handled natively
    scores["HistGradientBoosting"] = float(hgb.score(np.hstack([num[te], Cte]), y[te]))
    return scores


def run(repeats=2, folds=5):
    num, cat, y = load()
    results: dict = {}
    for rep in range(repeats):
        for tr, te in StratifiedKFold(folds, shuffle=True, seed=rep).split(num, y):
            for name, s in fold_scores(num, cat, y, tr, te, seed=rep).items():
                results.setdefault(name, []).append(s)
    return {k: np.asarray(v) for k, v in results.items()}


if __name__ == "__main__":
    t0 = time.perf_counter()
    res = run()
    n = len(next(iter(res.values())))
    print(f"penguins: predict sex, held-out accuracy over {n} folds (5-fold CV x 2 shuffles)")
    for name, s in res.items():
        print(f"  {name:26s} {s.mean():.4f} ± {s.std():.4f}")
    print(f"({time.perf_counter() - t0:.1f} s)")
