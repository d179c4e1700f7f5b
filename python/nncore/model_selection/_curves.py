"""Learning and validation curves."""

from __future__ import annotations

import numpy as np

from ._search import GridSearch
from ._validation import NoArgs, run_folds, setup_folds


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
    groups=None,
):
    """Scores against the number of training rows: each fold's model trains on the first
    ``size`` rows of the fold's training part.

    Parameters
    ----------
    model_fn : callable
        Returns a fresh compiled :class:`nncore.Sequential`; called once per fold (and once
        more to learn whether the task is classification).
    X : array-like of shape (n, features)
        Numeric features.
    y : array-like of shape (n,) or (n, outputs)
        Targets (class labels for a classifier).
    train_sizes : sequence of float or int, default (0.1, 0.325, 0.55, 0.775, 1.0)
        Fractions (<= 1.0, of the smallest training part) or row counts; duplicates are merged.
    cv : int, splitter or list of (train_idx, test_idx), default 5
        An int k means :class:`StratifiedKFold` (k) for classifiers and :class:`KFold` (k)
        otherwise, unshuffled; any object with ``split(X, y)`` (scikit-learn's included) or an
        explicit list of index pairs.
    scoring : str or callable, optional
        One metric; default ``accuracy`` for classifiers, ``r2`` otherwise.
    fit_params, n_jobs, standardize, groups
        As for :func:`cross_validate`.

    Returns
    -------
    sizes : numpy.ndarray of int
        The training row counts, sorted.
    train_scores, test_scores : numpy.ndarray of shape (len(sizes), n_folds)
        Each fold's score on its training rows and on its held-out part.

    Raises
    ------
    ValueError
        When ``scoring`` names several metrics, a size gives fewer than 1 or more rows than the
        smallest training part, or as :func:`cross_validate` raises.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import learning_curve
    >>> sizes, train, test = learning_curve(
    ...     model_fn, X, y, train_sizes=[0.5, 1.0], cv=3, fit_params={"epochs": 2}
    ... )
    >>> sizes, test.shape
    (array([20, 40]), (2, 3))
    """
    X, y, scorers, folds = setup_folds(model_fn, {}, X, y, cv, scoring, groups)
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
    res = run_folds(
        NoArgs(model_fn),
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
    groups=None,
):
    """Train and test scores for each value of one parameter (``model_fn(param_name=value)``, or
    a fit argument when named ``fit__<name>``).

    Parameters
    ----------
    model_fn : callable
        ``model_fn(**{param_name: value})`` returns a fresh compiled
        :class:`nncore.Sequential`; called once per fold and value.
    X : array-like of shape (n, features)
        Numeric features.
    y : array-like of shape (n,) or (n, outputs)
        Targets (class labels for a classifier).
    param_name : str
        The parameter that varies.
    param_range : iterable
        Its values.
    cv : int, splitter or list of (train_idx, test_idx), default 5
        An int k means :class:`StratifiedKFold` (k) for classifiers and :class:`KFold` (k)
        otherwise, unshuffled; any object with ``split(X, y)`` (scikit-learn's included) or an
        explicit list of index pairs.
    scoring : str or callable, optional
        One metric; default ``accuracy`` for classifiers, ``r2`` otherwise.
    fit_params, n_jobs, standardize, groups
        As for :func:`cross_validate`.

    Returns
    -------
    train_scores, test_scores : numpy.ndarray of shape (len(param_range), n_folds)
        Each fold's score on its training rows and on its held-out part, per value.

    Raises
    ------
    ValueError
        When ``param_range`` is empty, and as :func:`cross_validate` raises.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import validation_curve
    >>> train, test = validation_curve(
    ...     model_fn, X, y, "units", [2, 8], cv=3, fit_params={"epochs": 2}
    ... )
    >>> train.shape, test.shape
    ((2, 3), (2, 3))
    """
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
    search.fit(X, y, groups=groups)
    k = search.scorer_
    n_folds = sum(
        1 for key in search.cv_results_[0] if key.startswith("split") and key.endswith(f"_test_{k}")
    )
    test = np.array([[r[f"split{j}_test_{k}"] for j in range(n_folds)] for r in search.cv_results_])
    train = np.array(
        [[r[f"split{j}_train_{k}"] for j in range(n_folds)] for r in search.cv_results_]
    )
    return train, test
