"""GridSearch and RandomSearch: every candidate cross-validated on the same folds."""

from __future__ import annotations

import itertools

import numpy as np

from .. import metrics as _metrics
from ..preprocessing import Standardizer
from ._split import seed_of, seeded_rng
from ._validation import is_classifier, run_folds, setup_folds


def _split_params(params: dict):
    """Parameters named ``fit__x`` go to ``fit(x=...)``; the rest to ``model_fn``."""
    build, fit = {}, {}
    for k, v in params.items():
        if k.startswith("fit__"):
            fit[k[5:]] = v
        else:
            build[k] = v
    return build, fit


class _Build:
    """model_fn(**build params) for one candidate (picklable)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, **params):
        return self.fn(**params)


class SearchResults(list):
    """A search's ``cv_results_``: a list with one row (a dict) per candidate, which also reads
    by column as scikit-learn's dict of arrays does.

    ``results["mean_test_accuracy"]`` is an array over the candidates, ``results["params"]`` the
    list of their parameter dicts and ``results["param_units"]`` one parameter's values, masked
    where a candidate lacks it. scikit-learn's single-metric names (``mean_test_score``,
    ``rank_test_score``, ``split0_test_score``, ...) read the first metric, the one that ranks.
    ``dict(results)`` is scikit-learn's dict; iterating, ``len`` and integer indexes see rows.

    Parameters
    ----------
    rows : iterable of dict
        One per candidate: ``params`` and its scores and times.
    metric : str, optional
        The ranking metric, which scikit-learn's ``_score`` names read.

    Examples
    --------
    >>> results = SearchResults(
    ...     [{"params": {"units": 4}, "mean_test_accuracy": 0.75, "rank_test_accuracy": 2},
    ...      {"params": {"units": 16}, "mean_test_accuracy": 0.875, "rank_test_accuracy": 1}],
    ...     metric="accuracy",
    ... )
    >>> results["mean_test_score"], results["param_units"].tolist()
    (array([0.75 , 0.875]), [4, 16])
    >>> results[1]["params"], sorted(dict(results))[:2]
    ({'units': 16}, ['mean_test_accuracy', 'mean_test_score'])
    """

    def __init__(self, rows=(), *, metric: str | None = None):
        super().__init__(rows)
        self.metric = metric

    def _names(self) -> list[str]:
        names = list(dict.fromkeys(k for row in self for k in row))
        params = dict.fromkeys(p for row in self for p in row.get("params", {}))
        extra = [f"param_{p}" for p in params]
        if self.metric is not None:
            tail = f"_{self.metric}"
            extra += [k[: -len(tail)] + "_score" for k in names if k.endswith(tail)]
        return names + extra

    def keys(self) -> list[str]:
        """The column names, scikit-learn's among them.

        Returns
        -------
        list of str
            The rows' keys, then ``param_<name>`` for each parameter and the ``_score`` names.
        """
        return self._names()

    def __contains__(self, item) -> bool:
        if isinstance(item, str):
            return item in self._names()
        return super().__contains__(item)

    def __getitem__(self, key):
        if not isinstance(key, str):
            return super().__getitem__(key)
        if key == "params":
            return [dict(row["params"]) for row in self]
        columns = self._row_names()
        if key.startswith("param_") and key not in columns:
            name = key[len("param_") :]
            mask = [name not in row.get("params", {}) for row in self]
            if all(mask):
                raise KeyError(key)
            values = [row.get("params", {}).get(name) for row in self]
            return np.ma.MaskedArray(np.array(values, dtype=object), mask=mask)
        if key.endswith("_score") and self.metric is not None and key not in columns:
            key = key[: -len("_score")] + f"_{self.metric}"
        if key not in columns:
            raise KeyError(key)
        return np.array([row[key] for row in self])

    def _row_names(self) -> set:
        return {k for row in self for k in row}


def _results_table(cands, results, scorers, n_folds) -> list:
    """cv_results_: one row per candidate with its per-split, mean and std scores, times and the
    rank of its mean test score under each metric."""
    table = []
    for i, c in enumerate(cands):
        rs = results[i * n_folds : (i + 1) * n_folds]
        row: dict = {"params": dict(c)}
        for k in scorers:
            te = np.array([r["test"][k] for r in rs])
            tr = np.array([r["train"][k] for r in rs])
            for j, v in enumerate(te):
                row[f"split{j}_test_{k}"] = float(v)
            for j, v in enumerate(tr):
                row[f"split{j}_train_{k}"] = float(v)
            row[f"mean_test_{k}"], row[f"std_test_{k}"] = float(te.mean()), float(te.std())
            row[f"mean_train_{k}"], row[f"std_train_{k}"] = float(tr.mean()), float(tr.std())
        for t in ("fit_time", "score_time"):
            times = np.array([r[t] for r in rs])
            row[f"mean_{t}"], row[f"std_{t}"] = float(times.mean()), float(times.std())
        table.append(row)
    for k, (_, gib) in scorers.items():
        means = np.array([r[f"mean_test_{k}"] for r in table])
        key = -means if gib else means
        order = np.argsort(key, kind="stable")
        ranks = np.empty(len(table), np.int64)
        ranks[order] = np.arange(1, len(table) + 1)
        for r, rank in zip(table, ranks):
            r[f"rank_test_{k}"] = int(rank)
    return table


class _BaseSearch:
    def __init__(
        self,
        model_fn,
        *,
        cv=5,
        scoring=None,
        fit_params=None,
        refit=True,
        n_jobs=1,
        standardize=False,
        preprocess=None,
    ):
        self.model_fn, self.cv, self.scoring = model_fn, cv, scoring
        self.fit_params, self.refit, self.n_jobs = fit_params, refit, n_jobs
        self.standardize, self.preprocess = standardize, preprocess

    def _candidates(self):
        raise NotImplementedError

    def fit(self, X, y, groups=None):
        """Cross-validate every candidate (all candidates see the same folds), rank them by the
        first scoring metric and, with ``refit``, train the best on all of (X, y).

        Parameters
        ----------
        X : array-like of shape (n, features)
            Numeric features.
        y : array-like of shape (n,) or (n, outputs)
            Targets (class labels for a classifier).
        groups : array-like of shape (n,), optional
            Group labels for the splitter (``cv.split(X, y, groups)``), as in
            :func:`cross_validate`.

        Returns
        -------
        self
            With ``cv_results_``, ``best_params_``, ``best_score_``, ``best_index_`` and, with
            ``refit``, ``best_model_``.
        """
        cands = list(self._candidates())
        if not cands:
            raise ValueError("the parameter grid is empty")
        first = _split_params(cands[0])[0]
        X, y, scorers, folds = setup_folds(
            self.model_fn, first, X, y, self.cv, self.scoring, groups
        )
        results = []
        for c in cands:  # fit params may differ per candidate: folds run in parallel
            build, fit = _split_params(c)
            results += run_folds(
                _Build(self.model_fn),
                X,
                y,
                [(build, tr, te) for tr, te in folds],
                fit_params={**(self.fit_params or {}), **fit},
                scorers=scorers,
                standardize=self.standardize,
                preprocess=self.preprocess,
                return_train_score=True,
                n_jobs=self.n_jobs,
                return_models=False,
            )
        table = _results_table(cands, results, scorers, len(folds))
        main = next(iter(scorers))
        self.scorer_ = main
        self.cv_results_ = SearchResults(table, metric=main)
        self.best_index_ = int(np.argmin([r[f"rank_test_{main}"] for r in table]))
        self.best_params_ = dict(cands[self.best_index_])
        self.best_score_ = table[self.best_index_][f"mean_test_{main}"]
        self.scaler_ = None
        if self.refit:
            build, fit = _split_params(self.best_params_)
            Xf = X
            if self.standardize:
                self.scaler_ = Standardizer().fit(X)
                Xf = self.scaler_.transform(X)
            model = self.model_fn(**build)
            model.fit(Xf, y, **{**(self.fit_params or {}), **fit})
            self.best_model_ = model
        return self

    def predict(self, X):
        """``best_model_.predict`` with the refit standardization applied."""
        if not hasattr(self, "best_model_"):
            raise RuntimeError("call fit with refit=True first")
        if self.scaler_ is not None:
            X = self.scaler_.transform(X)
        return self.best_model_.predict(X)

    def score(self, X, y):
        f = _metrics.get(
            self.scoring
            if isinstance(self.scoring, str)
            else ("accuracy" if is_classifier(self.best_model_) else "r2")
        )
        return float(f(y, self.predict(X)))

    def results_table(self) -> str:
        """cv_results_ as aligned text, best first."""
        k = self.scorer_
        rows = sorted(self.cv_results_, key=lambda r: r[f"rank_test_{k}"])
        lines = [f"{'rank':>4}  {'mean ' + k:>14}  {'std':>8}  params"]
        for r in rows:
            lines.append(
                f"{r[f'rank_test_{k}']:>4}  {r[f'mean_test_{k}']:>14.4f}  "
                f"{r[f'std_test_{k}']:>8.4f}  {r['params']}"
            )
        return "\n".join(lines)


class GridSearch(_BaseSearch):
    """Exhaustive search over ``param_grid`` (a dict of lists, or a list of such dicts).

    ``model_fn(**params)`` builds each candidate's model; parameters named ``fit__<name>`` (e.g.
    ``fit__epochs``, ``fit__batch_size``) go to ``fit`` instead. After :meth:`fit`:
    ``cv_results_`` (a :class:`SearchResults`: rows with ``params``, ``splitK_test_<m>``,
    ``mean_test_<m>``, ``std_test_<m>``, ``rank_test_<m>``, train scores and times, that reads
    by column as scikit-learn's dict does), ``best_params_``,
    ``best_score_``, ``best_index_`` and, with ``refit``, ``best_model_`` trained on all the data.

    Parameters
    ----------
    model_fn : callable
        ``model_fn(**params)`` returns a fresh compiled :class:`nncore.Sequential`.
    param_grid : dict or list of dict
        Parameter name -> list of values; every combination is a candidate (a list of grids is
        the union of their combinations).
    cv : int, splitter or list of (train_idx, test_idx), default 5
        As for :func:`cross_validate`; every candidate sees the same folds.
    scoring : str, callable, list or dict, optional
        As for :func:`cross_validate`; candidates are ranked by the first metric.
    fit_params : dict, optional
        Passed to every ``model.fit`` (a candidate's ``fit__`` parameters override them).
    refit : bool, default True
        Train the best candidate on all of (X, y) as ``best_model_``.
    n_jobs : int, default 1
        Folds run in parallel with joblib when > 1 (results identical to 1).
    standardize : bool, default False
        Standardize features per training part (and for the refit).
    preprocess : callable or transformer, optional
        As for :func:`cross_validate`.

    Raises
    ------
    ValueError
        From :meth:`fit`: when there are no candidates, ``param_grid`` is malformed, or as
        :func:`cross_validate` raises.
    RuntimeError
        From ``predict`` / ``score``, when the search was not fitted with ``refit=True``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import GridSearch
    >>> search = GridSearch(model_fn, {"units": [4, 16], "fit__epochs": [1, 3]}, cv=3)
    >>> search = search.fit(X, y)
    >>> len(search.cv_results_), sorted(search.best_params_)
    (4, ['fit__epochs', 'units'])
    >>> search.predict(X[:5]).shape
    (5, 2)
    """

    def __init__(
        self,
        model_fn,
        param_grid,
        *,
        cv=5,
        scoring=None,
        fit_params=None,
        refit=True,
        n_jobs=1,
        standardize=False,
        preprocess=None,
    ):
        super().__init__(
            model_fn,
            cv=cv,
            scoring=scoring,
            fit_params=fit_params,
            refit=refit,
            n_jobs=n_jobs,
            standardize=standardize,
            preprocess=preprocess,
        )
        self.param_grid = param_grid

    def _candidates(self):
        grids = self.param_grid if isinstance(self.param_grid, (list, tuple)) else [self.param_grid]
        for g in grids:
            if not isinstance(g, dict):
                raise ValueError(f"param_grid must be a dict or a list of dicts, got {g!r}")
            keys = sorted(g)
            for k in keys:
                if isinstance(g[k], str) or not hasattr(g[k], "__iter__"):
                    raise ValueError(f"param_grid[{k!r}] must be a list of values")
            for vals in itertools.product(*(list(g[k]) for k in keys)):
                yield dict(zip(keys, vals))


class RandomSearch(_BaseSearch):
    """``n_iter`` candidates drawn from ``param_distributions`` (a dict: a list is sampled
    uniformly, an object with ``rvs(random_state=...)`` such as scipy.stats distributions is
    sampled, a callable gets a numpy Generator). Same ``fit__`` convention and results as
    :class:`GridSearch`; ``seed`` makes the draws reproducible.

    Parameters
    ----------
    model_fn : callable
        ``model_fn(**params)`` returns a fresh compiled :class:`nncore.Sequential`.
    param_distributions : dict
        Parameter name -> list of values, distribution with ``rvs`` or callable ``f(rng)``.
    n_iter : int, default 10
        Number of candidates drawn.
    seed : int or None, default None
        Seeds the draws.
    random_state : int or None, default None
        scikit-learn's name for ``seed`` (give one of the two).
    cv : int, splitter or list of (train_idx, test_idx), default 5
        As for :func:`cross_validate`; every candidate sees the same folds.
    scoring : str, callable, list or dict, optional
        As for :func:`cross_validate`; candidates are ranked by the first metric.
    fit_params : dict, optional
        Passed to every ``model.fit`` (a candidate's ``fit__`` parameters override them).
    refit : bool, default True
        Train the best candidate on all of (X, y) as ``best_model_``.
    n_jobs : int, default 1
        Folds run in parallel with joblib when > 1 (results identical to 1).
    standardize : bool, default False
        Standardize features per training part (and for the refit).
    preprocess : callable or transformer, optional
        As for :func:`cross_validate`.

    Raises
    ------
    ValueError
        From :meth:`fit`: when there are no candidates, ``param_distributions`` is malformed, or as
        :func:`cross_validate` raises.
    RuntimeError
        From ``predict`` / ``score``, when the search was not fitted with ``refit=True``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import RandomSearch
    >>> search = RandomSearch(
    ...     model_fn, {"units": [4, 8, 16]}, n_iter=3, seed=0, cv=3, fit_params={"epochs": 2}
    ... )
    >>> search = search.fit(X, y)
    >>> len(search.cv_results_), search.best_params_["units"] in (4, 8, 16)
    (3, True)
    """

    def __init__(
        self,
        model_fn,
        param_distributions,
        n_iter=10,
        *,
        seed=None,
        random_state=None,
        cv=5,
        scoring=None,
        fit_params=None,
        refit=True,
        n_jobs=1,
        standardize=False,
        preprocess=None,
    ):
        super().__init__(
            model_fn,
            cv=cv,
            scoring=scoring,
            fit_params=fit_params,
            refit=refit,
            n_jobs=n_jobs,
            standardize=standardize,
            preprocess=preprocess,
        )
        seed = seed_of(seed, random_state, "RandomSearch")
        self.param_distributions, self.n_iter, self.seed = param_distributions, n_iter, seed

    def _candidates(self):
        rng = seeded_rng(self.seed)
        dists = self.param_distributions
        if not isinstance(dists, dict):
            raise ValueError("param_distributions must be a dict")
        n = self.n_iter
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_iter must be a positive integer, got {n!r}")
        for _ in range(int(n)):
            c = {}
            for k in sorted(dists):
                d = dists[k]
                if hasattr(d, "rvs"):
                    c[k] = d.rvs(random_state=np.random.RandomState(rng.integers(2**31 - 1)))
                elif callable(d):
                    c[k] = d(rng)
                else:
                    vals = list(d)
                    c[k] = vals[int(rng.integers(len(vals)))]
            yield c
