"""Learning and validation curves."""

from __future__ import annotations

import numpy as np

from ._search import GridSearch
from ._validation import _NoArgs, _run_folds, _setup


def learning_curve(
    model_fn,
    X,
    y,
    train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0),
    cv=5,
    *,
    scoring=None,
    fit_params=None,
    n_jobs=1,
    standardize=False,
):
    """Scores against the number of training rows: each fold's model trains on the first
    ``size`` rows of the fold's training part. Returns ``(sizes, train_scores, test_scores)``,
    the scores of shape (len(sizes), n_folds)."""
    X, y, scorers, folds = _setup(model_fn, {}, X, y, cv, scoring)
    if len(scorers) != 1:
        raise ValueError("learning_curve takes one metric")
    n_train = min(len(tr) for tr, _ in folds)
    sizes = []
    for s in np.asarray(train_sizes).ravel():
        v = (
            int(np.floor(s * n_train))
            if isinstance(s, (float, np.floating)) and s <= 1.0
            else int(s)
        )
        if not 1 <= v <= n_train:
            raise ValueError(f"train size {s} gives {v} rows; must lie in [1, {n_train}]")
        sizes.append(v)
    sizes = np.unique(sizes)
    jobs = [({}, tr[:s], te) for s in sizes for tr, te in folds]
    res = _run_folds(
        _NoArgs(model_fn),
        X,
        y,
        jobs,
        fit_params=fit_params,
        scorers=scorers,
        standardize=standardize,
        preprocess=None,
        return_train_score=True,
        n_jobs=n_jobs,
        return_models=False,
    )
    k = next(iter(scorers))
    shape = (len(sizes), len(folds))
    return (
        sizes,
        np.array([r["train"][k] for r in res]).reshape(shape),
        np.array([r["test"][k] for r in res]).reshape(shape),
    )


def validation_curve(
    model_fn,
    X,
    y,
    param_name,
    param_range,
    cv=5,
    *,
    scoring=None,
    fit_params=None,
    n_jobs=1,
    standardize=False,
):
    """Train and test scores, shape (len(param_range), n_folds), for each value of one parameter
    (``model_fn(param_name=value)``, or a fit argument when named ``fit__<name>``)."""
    search = GridSearch(
        model_fn,
        {param_name: list(param_range)},
        cv=cv,
        scoring=scoring,
        fit_params=fit_params,
        refit=False,
        n_jobs=n_jobs,
        standardize=standardize,
    )
    search.fit(X, y)
    k = search.scorer_
    n_folds = sum(
        1 for key in search.cv_results_[0] if key.startswith("split") and key.endswith(f"_test_{k}")
    )
    test = np.array([[r[f"split{j}_test_{k}"] for j in range(n_folds)] for r in search.cv_results_])
    train = np.array(
        [[r[f"split{j}_train_{k}"] for j in range(n_folds)] for r in search.cv_results_]
    )
    return train, test
