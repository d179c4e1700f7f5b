"""Model selection: splitters, cross-validation, grid/random search, learning and validation curves.

A model is given as ``model_fn`` — a function that returns a fresh *compiled*
:class:`nncore.Sequential` (``model_fn(**params)`` in the searches); every fold trains its own
model. Any object with ``split(X, y)`` (scikit-learn's splitters included) is accepted as ``cv``;
an int means :class:`StratifiedKFold` for classifiers (loss ``cross_entropy`` /
``binary_cross_entropy``) and :class:`KFold` otherwise, unshuffled like scikit-learn.

Scores: a metric receives ``(y_true, model.predict(X))``, i.e. class probabilities for classifiers;
label metrics (accuracy, f1, ...) argmax them and probability metrics (log_loss, roc_auc) use
them directly; a callable scorer gets the same probabilities (wrap it to argmax if it wants
labels). The default is ``accuracy`` for classifiers and ``r2`` otherwise. Loss-type metric names
(mse, mae, log_loss) are ranked smaller-is-better, everything else greater-is-better.

Not here: nested CV, grouped or time-series splitters (use scikit-learn's; they plug into ``cv``).
"""

from __future__ import annotations

import copy
import itertools
import os
import time

import numpy as np

from . import metrics as _metrics

# ----------------------------------------------------------------------------------- splitters


def _rng(seed):
    return np.random.default_rng(seed)


def _num_rows(X) -> int:
    if hasattr(X, "shape"):
        return int(X.shape[0])
    return len(X)


class KFold:
    """K folds of consecutive rows (after an optional seeded shuffle); fold sizes differ by at
    most one row."""

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None):
        _check_n_splits(n_splits)
        self.n_splits, self.shuffle, self.seed = int(n_splits), bool(shuffle), seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y=None, groups=None):
        n = _num_rows(X)
        if self.n_splits > n:
            raise ValueError(f"n_splits={self.n_splits} is greater than the number of rows ({n})")
        idx = _rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for s in sizes:
            test = np.sort(idx[start : start + s])
            mask = np.ones(n, bool)
            mask[test] = False
            yield np.flatnonzero(mask), test
            start += s

    def __repr__(self):
        return f"KFold(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed})"


def _check_n_splits(n_splits):
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")


def _class_labels(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:  # one-hot / probabilities
        y = np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"y: expected class labels of shape (n,), got {y.shape}")
    return y


class StratifiedKFold:
    """K folds that keep every class's share: each class's rows (shuffled with ``seed`` when
    ``shuffle``) are dealt round-robin over the folds, one class after the other, so a fold holds
    floor or ceil of (class count / k) rows of each class and fold sizes differ by at most one.
    A class with fewer rows than ``n_splits`` raises ValueError."""

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None):
        _check_n_splits(n_splits)
        self.n_splits, self.shuffle, self.seed = int(n_splits), bool(shuffle), seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _fold_of(self, y, rng) -> np.ndarray:
        y = _class_labels(y)
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        small = counts < self.n_splits
        if small.any():
            c = classes[np.argmax(small)].item()
            raise ValueError(
                f"class {c!r} has only {counts[np.argmax(small)]} member(s), fewer than "
                f"n_splits={self.n_splits}"
            )
        order = []
        for j in range(len(classes)):
            members = np.flatnonzero(inverse == j)
            if self.shuffle:
                members = members[rng.permutation(len(members))]
            order.append(members)
        order = np.concatenate(order)
        fold = np.empty(len(y), np.int64)
        fold[order] = np.arange(len(y)) % self.n_splits
        return fold

    def split(self, X, y, groups=None):
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y")
        if _num_rows(X) != len(y):
            raise ValueError(f"X has {_num_rows(X)} rows but y has {len(y)}")
        fold = self._fold_of(y, _rng(self.seed))
        for f in range(self.n_splits):
            yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)

    def __repr__(self):
        return (
            f"StratifiedKFold(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed})"
        )


class RepeatedStratifiedKFold:
    """``n_repeats`` shuffled :class:`StratifiedKFold` rounds, each with its own seed derived
    from ``seed``."""

    def __init__(self, n_splits: int = 5, n_repeats: int = 10, seed=None):
        _check_n_splits(n_splits)
        if (
            isinstance(n_repeats, bool)
            or not isinstance(n_repeats, (int, np.integer))
            or n_repeats < 1
        ):
            raise ValueError(f"n_repeats must be an integer >= 1, got {n_repeats!r}")
        self.n_splits, self.n_repeats, self.seed = int(n_splits), int(n_repeats), seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits * self.n_repeats

    def split(self, X, y, groups=None):
        seeds = np.random.SeedSequence(self.seed).spawn(self.n_repeats)
        for s in seeds:
            yield from StratifiedKFold(self.n_splits, shuffle=True, seed=s).split(X, y)

    def __repr__(self):
        return (
            f"RepeatedStratifiedKFold(n_splits={self.n_splits}, n_repeats={self.n_repeats}, "
            f"seed={self.seed})"
        )


def _take(a, idx):
    if hasattr(a, "iloc"):
        return a.iloc[idx]
    if isinstance(a, (list, tuple)):
        return [a[i] for i in idx]
    return np.asarray(a)[idx]


def _split_size(value, n, name):
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name}={value} must be in (0, 1) as a fraction")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 < value < n:
        raise ValueError(f"{name}={value!r} must be a fraction in (0, 1) or a count in [1, {n})")
    return int(value)


def train_test_split(
    *arrays, test_size=None, train_size=None, stratify=None, shuffle=True, seed=None
):
    """Split arrays (same number of rows) into train and test parts: returns
    ``[a_train, a_test, b_train, b_test, ...]``. Sizes follow scikit-learn: a float is a fraction
    (test rounds up, train down), an int a row count; the default test size is 0.25. With
    ``stratify`` (labels), each class's rows are split in proportion (largest remainders), every
    class with two or more rows keeping at least one row on each side when the sizes allow."""
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = _num_rows(arrays[0])
    for a in arrays[1:]:
        if _num_rows(a) != n:
            raise ValueError(f"arrays have different numbers of rows: {n} and {_num_rows(a)}")
    ts = _split_size(test_size, n, "test_size")
    tr = _split_size(train_size, n, "train_size")
    if ts is None and tr is None:
        ts = 0.25
    n_test = None if ts is None else (int(np.ceil(ts * n)) if isinstance(ts, float) else ts)
    n_train = None if tr is None else (int(np.floor(tr * n)) if isinstance(tr, float) else tr)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"train ({n_train}) + test ({n_test}) rows exceed the {n} rows given")
    if n_train < 1 or n_test < 1:
        raise ValueError(f"the split leaves {n_train} train and {n_test} test rows")
    rng = _rng(seed)
    if stratify is None:
        perm = rng.permutation(n) if shuffle else np.arange(n)
        train, test = perm[:n_train], perm[n_train : n_train + n_test]
    else:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True")
        y = _class_labels(stratify)
        if len(y) != n:
            raise ValueError(f"stratify has {len(y)} rows but the arrays have {n}")
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        if (counts < 2).any():
            c = classes[np.argmax(counts < 2)].item()
            raise ValueError(
                f"class {c!r} has only 1 member; stratified splitting needs at least 2"
            )
        if n_test < len(classes) or n_train < len(classes):
            raise ValueError(
                f"test ({n_test}) and train ({n_train}) sizes must be at least the number of "
                f"classes ({len(classes)}) to stratify"
            )
        t_alloc = _allocate(counts, n_test, rng)
        r_alloc = _allocate(counts - t_alloc, n_train, rng)
        train, test = [], []
        for j in range(len(classes)):
            members = np.flatnonzero(inverse == j)
            members = members[rng.permutation(len(members))]
            test.append(members[: t_alloc[j]])
            train.append(members[t_alloc[j] : t_alloc[j] + r_alloc[j]])
        train = rng.permutation(np.concatenate(train))
        test = rng.permutation(np.concatenate(test))
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def _allocate(counts, total, rng):
    """Integer shares of ``total`` proportional to ``counts`` (largest remainders, ties broken by
    ``rng``), each at least 1 and at most count - 1 where possible."""
    counts = np.asarray(counts)
    exact = counts * total / counts.sum()
    alloc = np.floor(exact).astype(np.int64)
    alloc = np.clip(alloc, 1, np.maximum(counts - 1, 1))
    alloc = np.minimum(alloc, counts)
    rem = exact - alloc
    while alloc.sum() < total:
        room = alloc < counts
        keys = np.where(room, rem + 1e-9 * rng.random(len(rem)), -np.inf)
        j = int(np.argmax(keys))
        alloc[j] += 1
        rem[j] -= 1
    while alloc.sum() > total:
        room = alloc > 1
        keys = np.where(room, -rem + 1e-9 * rng.random(len(rem)), -np.inf)
        j = int(np.argmax(keys))
        alloc[j] -= 1
        rem[j] += 1
    return alloc


# ------------------------------------------------------------------------------ cross-validation


def _is_classifier(model) -> bool:
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


def _resolve_scoring(scoring, classifier: bool) -> dict:
    """{name: (function, greater_is_better)}."""
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
        out[name] = (_metrics.get(s), _metrics.greater_is_better(s))
    return out


class Standardizer:
    """Per-feature (x - mean) / std fitted on training rows (a constant feature keeps scale 1)."""

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_).astype(np.float32)

    def fit_transform(self, X):
        return self.fit(X).transform(X)


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
        from . import _core

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
    """One fold: build, fit, score. Runs in the caller or in a joblib worker."""
    if threads:
        from ._config import set_num_threads

        set_num_threads(threads)
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
            from ._serialize import to_bytes

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


def _run_folds(
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
    out = joblib.Parallel(n_jobs=n_jobs, backend=backend)(
        joblib.delayed(_fit_and_score)(
            model_fn, p, X, y, tr, te, *common, threads, return_models, True
        )
        for p, tr, te in jobs
    )
    from .callbacks import History

    for r in out:
        h = History()
        h.history, h.epoch = r["history"], r["epochs"]
        r["history"] = h
        if return_models:
            from ._serialize import from_bytes

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
) -> dict:
    """Train a fresh ``model_fn()`` on each training part and score it on the held-out part.

    Parameters
    ----------
    model_fn : callable returning a compiled :class:`nncore.Sequential`
    X, y : arrays
    cv : int, splitter (anything with ``split(X, y)``) or list of (train_idx, test_idx)
    fit_params : dict passed to ``model.fit`` (``epochs``, ``batch_size``, ...); a
        ``sample_weight`` array is indexed per fold.
    scoring : metric name, callable ``(y_true, predictions)``, list of those, or {name: metric}
    n_jobs : folds run in parallel with joblib (optional dependency) when > 1; each worker uses
        ``cores // n_jobs`` threads. Results are identical to ``n_jobs=1``.
    standardize : fit a per-feature standardization on each training part and apply it to both
        parts (no leakage from the held-out rows).
    preprocess : optional ``fn(X_train, X_test) -> (X_train, X_test)`` or a transformer object
        with fit/transform (copied per fold), applied after ``standardize``.

    Returns
    -------
    dict with ``test_<metric>`` and ``train_<metric>`` arrays (one entry per fold),
    ``fit_time``, ``score_time``, ``history`` (each fold's History) and ``models`` if asked.
    """
    X, y = _as_arrays(X, y)
    probe = model_fn()
    classifier = _is_classifier(probe)
    del probe
    cvs = _resolve_cv(cv, classifier)
    scorers = _resolve_scoring(scoring, classifier)
    jobs = [({}, np.asarray(tr), np.asarray(te)) for tr, te in cvs.split(X, y)]
    res = _run_folds(
        _NoArgs(model_fn),
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


class _NoArgs:
    """model_fn(**{}) for a zero-argument model_fn, picklable for joblib workers."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, **params):
        return self.fn()


def _collect(res, scorers, return_train_score, return_models):
    out = {}
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
) -> np.ndarray:
    """The per-fold test scores of :func:`cross_validate` for one metric."""
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
    )
    return next(v for k, v in res.items() if k.startswith("test_"))


# ------------------------------------------------------------------------------------- search


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

    def fit(self, X, y):
        """Cross-validate every candidate (all candidates see the same folds), rank them by the
        first scoring metric and, with ``refit``, train the best on all of (X, y)."""
        X, y = _as_arrays(X, y)
        cands = list(self._candidates())
        if not cands:
            raise ValueError("the parameter grid is empty")
        probe = self.model_fn(**_split_params(cands[0])[0])
        classifier = _is_classifier(probe)
        del probe
        scorers = _resolve_scoring(self.scoring, classifier)
        folds = [
            (np.asarray(a), np.asarray(b)) for a, b in _resolve_cv(self.cv, classifier).split(X, y)
        ]
        nf = len(folds)
        results = []
        for c in cands:  # fit params may differ per candidate: folds run in parallel
            build, fit = _split_params(c)
            results += _run_folds(
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
        table = []
        for i, c in enumerate(cands):
            rs = results[i * nf : (i + 1) * nf]
            row = {"params": dict(c)}
            for k in scorers:
                te = np.array([r["test"][k] for r in rs])
                tr = np.array([r["train"][k] for r in rs])
                for j, v in enumerate(te):
                    row[f"split{j}_test_{k}"] = float(v)
                for j, v in enumerate(tr):
                    row[f"split{j}_train_{k}"] = float(v)
                row[f"mean_test_{k}"], row[f"std_test_{k}"] = float(te.mean()), float(te.std())
                row[f"mean_train_{k}"], row[f"std_train_{k}"] = float(tr.mean()), float(tr.std())
            row["mean_fit_time"] = float(np.mean([r["fit_time"] for r in rs]))
            row["mean_score_time"] = float(np.mean([r["score_time"] for r in rs]))
            table.append(row)
        for k, (_, gib) in scorers.items():
            means = np.array([r[f"mean_test_{k}"] for r in table])
            key = -means if gib else means
            order = np.argsort(key, kind="stable")
            ranks = np.empty(len(table), np.int64)
            ranks[order] = np.arange(1, len(table) + 1)
            for r, rank in zip(table, ranks):
                r[f"rank_test_{k}"] = int(rank)
        main = next(iter(scorers))
        self.scorer_ = main
        self.cv_results_ = table
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
            else ("accuracy" if _is_classifier(self.best_model_) else "r2")
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
    ``cv_results_`` (list of dicts with ``params``, ``splitK_test_<m>``, ``mean_test_<m>``,
    ``std_test_<m>``, ``rank_test_<m>``, train scores and times), ``best_params_``,
    ``best_score_``, ``best_index_`` and, with ``refit``, ``best_model_`` trained on all the data.
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
    :class:`GridSearch`; ``seed`` makes the draws reproducible."""

    def __init__(
        self,
        model_fn,
        param_distributions,
        n_iter=10,
        *,
        seed=None,
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
        self.param_distributions, self.n_iter, self.seed = param_distributions, n_iter, seed

    def _candidates(self):
        rng = _rng(self.seed)
        dists = self.param_distributions
        if not isinstance(dists, dict):
            raise ValueError("param_distributions must be a dict")
        for _ in range(int(self.n_iter)):
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


# ------------------------------------------------------------------------------------- curves


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
    X, y = _as_arrays(X, y)
    probe = model_fn()
    classifier = _is_classifier(probe)
    del probe
    scorers = _resolve_scoring(scoring, classifier)
    if len(scorers) != 1:
        raise ValueError("learning_curve takes one metric")
    folds = [(np.asarray(a), np.asarray(b)) for a, b in _resolve_cv(cv, classifier).split(X, y)]
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
