"""Cross-validation: one fold's fit-and-score, the fold runner (serial or joblib) and the public
cross_validate / cross_val_score."""

from __future__ import annotations

import copy
import os
import time

import numpy as np

from .. import metrics as _metrics
from .._config import num_threads, set_num_threads
from ..preprocessing import Standardizer
from ..training import scoring as _scoring
from ._split import KFold, StratifiedKFold


def is_classifier(model) -> bool:
    return getattr(model, "loss", None) in ("cross_entropy", "binary_cross_entropy")


def _resolve_cv(cv, classifier: bool):
    if cv is None:
        cv = 5
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return StratifiedKFold(int(cv)) if classifier else KFold(int(cv))
    if hasattr(cv, "split"):
        return cv
    if isinstance(cv, (list, tuple)):  # an explicit list of (train, test) pairs
        return _FixedSplits(cv)
    raise ValueError(
        f"cv must be an int, a splitter with split(X, y), or (train, test) pairs; got {cv!r}"
    )


class _FixedSplits:
    def __init__(self, pairs):
        self.pairs = list(pairs)

    def split(self, X, y=None, groups=None):
        yield from ((np.asarray(a), np.asarray(b)) for a, b in self.pairs)


def _resolve_scoring(scoring, classifier: bool, task: str | None = None) -> dict:
    """{name: (function, greater_is_better)}; names resolved for the model's task, so that a
    metric that does not fit it is refused before any fold is fitted (metrics.for_task)."""
    if scoring is None:
        scoring = "accuracy" if classifier else "r2"
    if isinstance(scoring, str) or callable(scoring):
        scoring = [scoring]
    if isinstance(scoring, dict):
        items = list(scoring.items())
    else:
        items = []
        for s in scoring:
            if isinstance(s, str):
                items.append((s, s))
            elif callable(s):
                items.append((getattr(s, "__name__", "score"), s))
            else:
                raise ValueError(f"scoring entries must be metric names or callables, got {s!r}")
    out = {}
    for name, s in items:
        out[name] = (_metrics.for_task(s, task), _metrics.greater_is_better(s))
    return out


def _preprocess(preprocess, standardize, Xtr, Xte):
    if standardize:
        s = Standardizer().fit(Xtr)
        Xtr, Xte = s.transform(Xtr), s.transform(Xte)
    if preprocess is None:
        return Xtr, Xte
    if hasattr(preprocess, "fit_transform") or hasattr(preprocess, "fit"):
        p = copy.deepcopy(preprocess)
        Xtr2 = p.fit_transform(Xtr) if hasattr(p, "fit_transform") else p.fit(Xtr).transform(Xtr)
        return Xtr2, p.transform(Xte)
    return preprocess(Xtr, Xte)


def _fold_fit_params(fit_params, n, train):
    out = {}
    for k, v in (fit_params or {}).items():
        if k == "sample_weight" and v is not None:
            v = np.asarray(v)
            if v.shape[0] != n:
                raise ValueError(f"fit_params['sample_weight'] has {v.shape[0]} rows, X has {n}")
            v = v[train]
        out[k] = v
    return out


def _num_cores() -> int:
    try:
        from .. import _core

        return int(_core.num_cores())
    except Exception:
        return os.cpu_count() or 1


def _fit_and_score(
    model_fn,
    params,
    X,
    y,
    train,
    test,
    fit_params,
    scorers,
    standardize,
    preprocess,
    return_train_score,
    threads,
    return_model,
    serialize,
):
    """One fold: build, fit, score. Runs in the caller or in a joblib worker. ``threads``:
    (the caller's process id, nncore threads for a worker): a worker in another process sets
    its own count; in the caller's process (joblib's threading backend) the caller has set it
    for the duration of the parallel call, and a worker setting it would outlast the call."""
    if threads and threads[0] != os.getpid():
        set_num_threads(threads[1])
    Xtr, Xte = _preprocess(preprocess, standardize, X[train], X[test])
    ytr, yte = y[train], y[test]
    model = model_fn(**params)
    if getattr(model, "loss", None) is None:
        raise ValueError("model_fn must return a compiled model (call model.compile(...) in it)")
    t0 = time.perf_counter()
    hist = model.fit(Xtr, ytr, **_fold_fit_params(fit_params, len(y), train))
    fit_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    pte = model.predict(Xte)
    res = {"test": {k: float(f(yte, pte)) for k, (f, _) in scorers.items()}}
    if return_train_score:
        ptr = model.predict(Xtr)
        res["train"] = {k: float(f(ytr, ptr)) for k, (f, _) in scorers.items()}
    res["score_time"] = time.perf_counter() - t0
    res["fit_time"] = fit_time
    res["history"] = dict(hist.history) if serialize else hist
    res["epochs"] = list(hist.epoch) if serialize else None
    if return_model:
        if serialize:
            from .._serialize import to_bytes

            res["model"] = to_bytes(model)
        else:
            res["model"] = model
    return res


def _as_arrays(X, y):
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (samples, features), got {X.ndim}-D")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X: expected numeric features, got dtype {X.dtype}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    return X, y


def setup_folds(model_fn, params, X, y, cv, scoring, groups=None):
    """(X, y, scorers, folds): what every cross-validating entry point starts from. One probe
    model, ``model_fn(**params)``, is built and dropped to learn whether the task is
    classification, which picks the default metric and the default splitter. ``groups`` goes
    to the splitter's ``split(X, y, groups)`` (scikit-learn's GroupKFold and the like)."""
    # A class is a factory too; a model or estimator instance is not.
    if not callable(model_fn) or (hasattr(model_fn, "fit") and not isinstance(model_fn, type)):
        raise TypeError(
            "model_fn must be a function that builds and compiles a fresh model, called once per "
            f"fold (e.g. lambda: build_model()); got {type(model_fn).__name__}"
        )
    X, y = _as_arrays(X, y)
    probe = model_fn(**params)
    classifier = is_classifier(probe)
    task = None  # unknown (a model of another kind, a callable loss): names resolve as such
    if isinstance(getattr(probe, "loss", None), str) and hasattr(probe, "engine"):
        if probe.engine is None:  # no input size given: the data's
            probe.build(X.shape[1])
        task = _scoring.model_task(probe)
    scorers = _resolve_scoring(scoring, classifier, task)
    splitter = _resolve_cv(cv, classifier)
    if groups is None:
        parts = splitter.split(X, y)
    else:
        groups = np.asarray(groups)
        if groups.ndim != 1 or len(groups) != len(X):
            raise ValueError(f"groups: expected shape ({len(X)},), got {groups.shape}")
        parts = splitter.split(X, y, groups)
    folds = [(np.asarray(a), np.asarray(b)) for a, b in parts]
    return X, y, scorers, folds


def run_folds(
    model_fn,
    X,
    y,
    jobs,
    *,
    fit_params,
    scorers,
    standardize,
    preprocess,
    return_train_score,
    n_jobs,
    return_models,
    backend=None,
):
    """``jobs``: list of (params, train, test). Returns the per-job result dicts in order."""
    if n_jobs is None:
        n_jobs = 1
    if n_jobs == -1:
        n_jobs = _num_cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    common = (fit_params, scorers, standardize, preprocess, return_train_score)
    if n_jobs == 1 or len(jobs) <= 1:
        return [
            _fit_and_score(model_fn, p, X, y, tr, te, *common, None, return_models, False)
            for p, tr, te in jobs
        ]
    try:
        import joblib
    except ImportError:
        raise ImportError(
            "n_jobs > 1 needs joblib: pip install joblib (or nncore[parallel])"
        ) from None
    # Each worker gets its share of the cores so n_jobs workers do not oversubscribe the machine;
    # training is bitwise identical for any thread count, so the scores match n_jobs=1 exactly.
    threads = max(1, _num_cores() // n_jobs)
    # Threads unless a backend is named or set by joblib.parallel_config (Dask, Ray): training
    # releases the GIL, and threads need neither worker processes nor copies of X.
    with num_threads(threads):  # workers in this process (threading backend) share the setting
        out = joblib.Parallel(n_jobs=n_jobs, backend=backend, prefer="threads")(
            joblib.delayed(_fit_and_score)(
                model_fn, p, X, y, tr, te, *common, (os.getpid(), threads), return_models, True
            )
            for p, tr, te in jobs
        )
    from ..callbacks import History

    for r in out:
        h = History()
        h.history, h.epoch = r["history"], r["epochs"]
        r["history"] = h
        if return_models:
            from .._serialize import from_bytes

            r["model"] = from_bytes(r["model"])
    return out


def cross_validate(
    model_fn,
    X,
    y,
    cv=5,
    *,
    fit_params=None,
    scoring=None,
    n_jobs=1,
    return_models: bool = False,
    return_train_score: bool = True,
    standardize: bool = False,
    preprocess=None,
    backend=None,
    groups=None,
) -> dict:
    """Train a fresh ``model_fn()`` on each training part and score it on the held-out part.

    Parameters
    ----------
    model_fn : callable
        Returns a fresh compiled :class:`nncore.Sequential`; called once per fold (and once
        more to learn whether the task is classification).
    X : array-like of shape (n, features)
        Numeric features.
    y : array-like of shape (n,) or (n, outputs)
        Targets (class labels for a classifier).
    cv : int, splitter or list of (train_idx, test_idx), default 5
        An int k means :class:`StratifiedKFold` (k) for classifiers and :class:`KFold` (k)
        otherwise, unshuffled; any object with ``split(X, y)`` (scikit-learn's included) or an
        explicit list of index pairs.
    fit_params : dict, optional
        Passed to ``model.fit`` (``epochs``, ``batch_size``, ...); a ``sample_weight`` array is
        indexed per fold.
    scoring : str, callable, list or dict, optional
        A metric name, a callable ``(y_true, predictions)``, a list of those, or {name: metric};
        default ``accuracy`` for classifiers, ``r2`` otherwise.
    n_jobs : int, default 1
        Folds run in parallel with joblib (optional dependency) when > 1 (-1: one per core);
        each worker uses ``cores // n_jobs`` threads. Results are identical to ``n_jobs=1``.
    return_models : bool, default False
        Also return each fold's trained model.
    return_train_score : bool, default True
        Also score each model on its training part.
    standardize : bool, default False
        Fit a per-feature standardization on each training part and apply it to both parts (no
        leakage from the held-out rows).
    preprocess : callable or transformer, optional
        ``fn(X_train, X_test) -> (X_train, X_test)`` or an object with fit/transform (copied per
        fold), applied after ``standardize``.
    backend : str, optional
        The joblib backend when ``n_jobs > 1`` (default: threads, unless a
        ``joblib.parallel_config`` context sets another, such as Dask or Ray; training releases
        the GIL, so threads need no worker processes and no copies of X).
    groups : array-like of shape (n,), optional
        Group labels for a splitter that keeps groups apart (scikit-learn's ``GroupKFold``,
        ``LeaveOneGroupOut``, ...): passed as ``cv.split(X, y, groups)``; splitters that take
        no groups ignore them, as in scikit-learn.

    Returns
    -------
    dict
        ``test_<metric>`` and ``train_<metric>`` arrays (one entry per fold), ``fit_time``,
        ``score_time`` (arrays of seconds), ``history`` (each fold's History) and ``models``
        if asked. scikit-learn's names read too: ``test_score`` and ``train_score`` for the
        first metric, ``estimator`` for ``models``.

    Raises
    ------
    ValueError
        When X is not 2-D and numeric, X and y differ in rows, ``cv`` or ``scoring`` is not one
        of the accepted forms, a metric name is unknown, ``n_jobs`` is not a positive integer or
        -1, ``model_fn`` returns an uncompiled model, or the splitter refuses the data (e.g. a
        class with fewer rows than folds).
    ImportError
        When ``n_jobs > 1`` and joblib is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import cross_validate
    >>> res = cross_validate(model_fn, X, y, cv=3, fit_params={"epochs": 3, "batch_size": 16})
    >>> sorted(res)
    ['fit_time', 'history', 'score_time', 'test_accuracy', 'train_accuracy']
    >>> res["test_accuracy"].shape
    (3,)
    >>> bool((res["test_score"] == res["test_accuracy"]).all())  # scikit-learn's name
    True
    """
    X, y, scorers, folds = setup_folds(model_fn, {}, X, y, cv, scoring, groups)
    jobs: list = [({}, tr, te) for tr, te in folds]
    res = run_folds(
        NoArgs(model_fn),
        X,
        y,
        jobs,
        fit_params=fit_params,
        scorers=scorers,
        standardize=standardize,
        preprocess=preprocess,
        return_train_score=return_train_score,
        n_jobs=n_jobs,
        return_models=return_models,
        backend=backend,
    )
    return _collect(res, scorers, return_train_score, return_models)


class NoArgs:
    """model_fn(**{}) for a zero-argument model_fn, picklable for joblib workers."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, **params):
        return self.fn()


class CVResults(dict):
    """cross_validate's dict, which also answers to scikit-learn's names for its keys:
    ``test_score`` / ``train_score`` (the first metric's, as scikit-learn names a single
    metric's) and ``estimator`` (``models``). Iterating and ``in`` see nncore's keys only."""

    def __init__(self, data: dict, metric: str):
        super().__init__(data)
        self.metric = metric

    def __missing__(self, key):
        alias = {
            "test_score": f"test_{self.metric}",
            "train_score": f"train_{self.metric}",
            "estimator": "models",
        }.get(key)
        if alias is None or alias not in self:
            raise KeyError(key)
        return self[alias]


def _collect(res, scorers, return_train_score, return_models):
    out = CVResults({}, next(iter(scorers)))
    for k in scorers:
        out[f"test_{k}"] = np.array([r["test"][k] for r in res])
        if return_train_score:
            out[f"train_{k}"] = np.array([r["train"][k] for r in res])
    out["fit_time"] = np.array([r["fit_time"] for r in res])
    out["score_time"] = np.array([r["score_time"] for r in res])
    out["history"] = [r["history"] for r in res]
    if return_models:
        out["models"] = [r["model"] for r in res]
    return out


def cross_val_score(
    model_fn,
    X,
    y,
    cv=5,
    *,
    scoring=None,
    fit_params=None,
    n_jobs=1,
    standardize: bool = False,
    preprocess=None,
    groups=None,
) -> np.ndarray:
    """The per-fold test scores of :func:`cross_validate` for one metric.

    Parameters
    ----------
    model_fn : callable
        Returns a fresh compiled :class:`nncore.Sequential`; called once per fold (and once
        more to learn whether the task is classification).
    X : array-like of shape (n, features)
        Numeric features.
    y : array-like of shape (n,) or (n, outputs)
        Targets (class labels for a classifier).
    cv : int, splitter or list of (train_idx, test_idx), default 5
        An int k means :class:`StratifiedKFold` (k) for classifiers and :class:`KFold` (k)
        otherwise, unshuffled; any object with ``split(X, y)`` (scikit-learn's included) or an
        explicit list of index pairs.
    scoring : str or callable, optional
        One metric name or callable ``(y_true, predictions)``; default ``accuracy`` for
        classifiers, ``r2`` otherwise.
    fit_params, n_jobs, standardize, preprocess, groups
        As for :func:`cross_validate`.

    Returns
    -------
    numpy.ndarray of shape (n_folds,)
        The test score of each fold.

    Raises
    ------
    ValueError
        When ``scoring`` is a list, tuple or dict (use :func:`cross_validate`), and as
        :func:`cross_validate` raises.
    ImportError
        When ``n_jobs > 1`` and joblib is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> def model_fn(units=8):
    ...     model = nc.Sequential([nc.Dense(units, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    ...     return model.compile(optimizer=nc.optim.Adam(lr=0.05), loss="cross_entropy")
    >>> from nncore.model_selection import cross_val_score
    >>> scores = cross_val_score(model_fn, X, y, cv=3, scoring="log_loss", fit_params={"epochs": 3})
    >>> scores.shape, bool((scores > 0).all())
    ((3,), True)
    """
    if isinstance(scoring, (list, tuple, dict)):
        raise ValueError("cross_val_score takes one metric; use cross_validate for several")
    res = cross_validate(
        model_fn,
        X,
        y,
        cv,
        fit_params=fit_params,
        scoring=scoring,
        n_jobs=n_jobs,
        return_train_score=False,
        standardize=standardize,
        preprocess=preprocess,
        groups=groups,
    )
    return next(v for k, v in res.items() if k.startswith("test_"))
