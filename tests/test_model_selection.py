"""Splitters, cross-validation, searches and curves (nncore.model_selection)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import nncore as nc
from nncore import model_selection as ms


def _optimizer():
    """Adam once the optimizer family has landed, SGD before (the tests are about selection)."""
    try:
        nc.optim.get("adam", lr=1e-2)
        return "adam", 1e-2
    except ValueError:
        return "sgd", 0.1


OPT, LR = _optimizer()


def blobs(n=120, k=3, d=5, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(k, d))
    y = np.arange(n) % k
    X = centers[y] + rng.normal(size=(n, d))
    return X.astype(np.float64), y


def clf_fn(hidden=16, seed=0, k=3, d=5):
    m = nc.Sequential([nc.Dense(hidden, "relu"), nc.Dense(k)], input_dim=d, seed=seed)
    return m.compile(optimizer=nc.optim.get(OPT, lr=LR), loss="cross_entropy", metrics=["accuracy"])


def reg_fn(hidden=16, seed=0, d=4):
    m = nc.Sequential([nc.Dense(hidden, "relu"), nc.Dense(1)], input_dim=d, seed=seed)
    return m.compile(optimizer=nc.optim.get(OPT, lr=LR / 5), loss="mse")


FIT = {"epochs": 5, "batch_size": 16}


# ------------------------------------------------------------------------------------ splitters


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "counts,k",
    [
        (c, k)
        for c in [[10, 10, 10], [50, 7, 13, 5], [5, 5], [97, 3, 11]]
        for k in [2, 3, 5]
        if min(c) >= k  # smaller classes raise (test_small_class_raises_naming_it)
    ],
)
def test_stratified_kfold_bound_and_partition(counts, k, shuffle):
    rng = np.random.default_rng(len(counts) * 10 + k)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    X = np.zeros((len(y), 1))
    n = len(y)
    seen = np.zeros(n, int)
    sizes = []
    for tr, te in ms.StratifiedKFold(k, shuffle=shuffle, seed=3).split(X, y):
        assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == n
        seen[te] += 1
        sizes.append(len(te))
        for c, cnt in enumerate(counts):
            # the fold's share of class c is within one row of its exact share
            assert abs(np.sum(y[te] == c) - cnt / k) <= 1
            assert abs(np.sum(y[te] == c) - len(te) * cnt / n) < 2
    assert (seen == 1).all()  # the test parts partition the rows
    assert max(sizes) - min(sizes) <= 1


def test_splitters_deterministic_and_seeded():
    X, y = blobs(60)
    for make in [
        lambda s: ms.StratifiedKFold(4, shuffle=True, seed=s),
        lambda s: ms.KFold(4, shuffle=True, seed=s),
        lambda s: ms.RepeatedStratifiedKFold(3, 2, seed=s),
    ]:
        a = [te.tolist() for _, te in make(1).split(X, y)]
        b = [te.tolist() for _, te in make(1).split(X, y)]
        c = [te.tolist() for _, te in make(2).split(X, y)]
        assert a == b and a != c
    rep = list(ms.RepeatedStratifiedKFold(3, 2, seed=0).split(X, y))
    assert len(rep) == ms.RepeatedStratifiedKFold(3, 2).get_n_splits() == 6
    assert [t.tolist() for _, t in rep[:3]] != [t.tolist() for _, t in rep[3:]]
    for r in range(2):  # each repeat partitions the rows
        assert sorted(np.concatenate([t for _, t in rep[3 * r : 3 * r + 3]]).tolist()) == list(
            range(60)
        )


def test_random_state_is_seed_by_its_scikit_learn_name():
    X, y = blobs(60)
    for make in [ms.KFold, ms.StratifiedKFold]:
        by_seed = [te.tolist() for _, te in make(4, shuffle=True, seed=3).split(X, y)]
        by_rs = [te.tolist() for _, te in make(4, shuffle=True, random_state=3).split(X, y)]
        assert by_rs == by_seed
    rep = ms.RepeatedStratifiedKFold(3, 2, random_state=5).split(X, y)
    assert [t.tolist() for _, t in rep] == [
        t.tolist() for _, t in ms.RepeatedStratifiedKFold(3, 2, seed=5).split(X, y)
    ]
    a = ms.train_test_split(X, y, test_size=0.3, stratify=y, random_state=7)
    b = ms.train_test_split(X, y, test_size=0.3, stratify=y, seed=7)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="give seed or random_state"):
        ms.KFold(3, shuffle=True, seed=1, random_state=1)
    assert ms.RandomSearch(clf_fn, {"epochs": [1, 2]}, random_state=4).seed == 4
    with pytest.raises(TypeError, match="random_state must be an int or None"):
        ms.train_test_split(X, random_state=np.random.RandomState(0))


def test_kfold_partition():
    X = np.zeros((23, 2))
    tests = [te for _, te in ms.KFold(5).split(X)]
    assert [len(t) for t in tests] == [5, 5, 5, 4, 4]
    assert np.concatenate(tests).tolist() == list(range(23))
    with pytest.raises(ValueError, match="n_splits=30"):
        list(ms.KFold(30).split(X))
    with pytest.raises(ValueError, match="n_splits"):
        ms.KFold(1)


def test_small_class_raises_naming_it():
    y = np.array(["a"] * 10 + ["rare"] * 2)
    with pytest.raises(ValueError, match="class 'rare' has only 2"):
        list(ms.StratifiedKFold(3).split(np.zeros((12, 1)), y))


def test_train_test_split():
    X, y = blobs(101, k=3)
    Xtr, Xte, ytr, yte = ms.train_test_split(X, y, seed=0)
    assert len(Xte) == 26 and len(Xtr) == 75  # ceil(0.25 * 101)
    Xtr, Xte = ms.train_test_split(X, test_size=10, seed=0)
    assert len(Xte) == 10 and len(Xtr) == 91
    Xtr, Xte = ms.train_test_split(X, train_size=0.5, seed=0)
    assert len(Xtr) == 50 and len(Xte) == 51
    a = ms.train_test_split(X, y, test_size=0.3, stratify=y, seed=4)
    b = ms.train_test_split(X, y, test_size=0.3, stratify=y, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    yte = a[3]
    assert len(yte) == 31
    for c in range(3):
        assert abs(np.sum(yte == c) - 31 * np.mean(y == c)) <= 1
    # rows stay aligned across arrays
    idx = np.arange(101)
    itr, ite, ytr2, yte2 = ms.train_test_split(idx, y, seed=9)
    assert np.array_equal(y[itr], ytr2) and np.array_equal(y[ite], yte2)
    assert sorted(np.concatenate([itr, ite]).tolist()) == idx.tolist()
    Xtr, Xte = ms.train_test_split(X, shuffle=False, test_size=1)
    assert np.array_equal(Xte, X[100:101])
    with pytest.raises(ValueError, match="different numbers of rows"):
        ms.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="test_size"):
        ms.train_test_split(X, test_size=1.5)
    with pytest.raises(ValueError, match="only 1 member"):
        ms.train_test_split(X[:4], stratify=[0, 0, 0, 1])


def test_sklearn_splitter_objects_accepted():
    skms = pytest.importorskip("sklearn.model_selection")
    X, y = blobs(60)
    cv = skms.StratifiedKFold(3, shuffle=True, random_state=0)
    res = ms.cross_validate(clf_fn, X, y, cv=cv, fit_params=FIT, standardize=True)
    assert len(res["test_accuracy"]) == 3
    # the same folds given as index pairs give the same scores
    pairs = list(cv.split(X, y))
    res2 = ms.cross_validate(clf_fn, X, y, cv=pairs, fit_params=FIT, standardize=True)
    np.testing.assert_array_equal(res["test_accuracy"], res2["test_accuracy"])


class _GroupSplitter:
    """Two folds, each holding out half of the groups; records the groups it was given."""

    def __init__(self):
        self.seen = []

    def split(self, X, y, groups=None):
        self.seen.append(groups)
        if groups is None:
            raise ValueError("this splitter needs groups")
        held = np.unique(groups)
        for part in (held[::2], held[1::2]):
            test = np.flatnonzero(np.isin(groups, part))
            yield np.setdiff1d(np.arange(len(X)), test), test


def test_groups_reach_the_splitter():
    """groups= goes to cv.split(X, y, groups) in cross_validate, cross_val_score, the searches
    and the curves (scikit-learn's GroupKFold and friends), so no group is on both sides."""
    X, y = blobs(60)
    groups = np.arange(60) // 6  # 10 groups of 6 rows
    cv = _GroupSplitter()
    res = ms.cross_validate(clf_fn, X, y, cv=cv, groups=groups, fit_params=FIT)
    assert len(res["test_accuracy"]) == 2
    np.testing.assert_array_equal(cv.seen[-1], groups)
    pairs = list(_GroupSplitter().split(X, y, groups))
    res2 = ms.cross_validate(clf_fn, X, y, cv=pairs, fit_params=FIT)
    np.testing.assert_array_equal(res["test_accuracy"], res2["test_accuracy"])
    assert len(ms.cross_val_score(clf_fn, X, y, cv=cv, groups=groups, fit_params=FIT)) == 2
    ms.GridSearch(clf_fn, {"hidden": [4, 8]}, cv=cv, fit_params=FIT, refit=False).fit(
        X, y, groups=groups
    )
    ms.RandomSearch(clf_fn, {"hidden": [4, 8]}, n_iter=2, cv=cv, fit_params=FIT, refit=False).fit(
        X, y, groups
    )
    ms.learning_curve(clf_fn, X, y, [0.5, 1.0], cv=cv, groups=groups, fit_params=FIT)
    ms.validation_curve(clf_fn, X, y, "hidden", [4], cv=cv, groups=groups, fit_params=FIT)
    assert all(g is not None and (np.asarray(g) == groups).all() for g in cv.seen)
    with pytest.raises(ValueError, match="needs groups"):
        ms.cross_validate(clf_fn, X, y, cv=cv, fit_params=FIT)
    with pytest.raises(ValueError, match=r"groups: expected shape \(60,\)"):
        ms.cross_validate(clf_fn, X, y, cv=cv, groups=groups[:10], fit_params=FIT)
    skms = pytest.importorskip("sklearn.model_selection")
    res3 = ms.cross_validate(clf_fn, X, y, cv=skms.GroupKFold(2), groups=groups, fit_params=FIT)
    pairs = list(skms.GroupKFold(2).split(X, y, groups))
    assert all(not set(groups[tr]) & set(groups[te]) for tr, te in pairs)
    res4 = ms.cross_validate(clf_fn, X, y, cv=pairs, fit_params=FIT)
    np.testing.assert_array_equal(res3["test_accuracy"], res4["test_accuracy"])


# ------------------------------------------------------------------------------ cross-validation


def test_cross_validate_basics():
    X, y = blobs(90)
    built = []

    def fn():
        m = clf_fn()
        built.append(m)
        return m

    res = ms.cross_validate(
        fn,
        X,
        y,
        cv=3,
        fit_params=FIT,
        scoring=["accuracy", "log_loss"],
        return_models=True,
        standardize=True,
    )
    # one probe (to tell classification from regression) + one fresh model per fold
    assert len(built) == 4 and len({id(m) for m in res["models"]}) == 3
    for key in [
        "test_accuracy",
        "train_accuracy",
        "test_log_loss",
        "train_log_loss",
        "fit_time",
        "score_time",
    ]:
        assert res[key].shape == (3,)
    assert len(res["history"]) == 3 and len(res["history"][0].history["loss"]) == 5
    assert res["test_accuracy"].mean() > 0.8
    scores = ms.cross_val_score(fn, X, y, cv=3, fit_params=FIT, standardize=True)
    np.testing.assert_array_equal(scores, res["test_accuracy"])
    # scikit-learn's names for the first metric and the models
    assert res["test_score"] is res["test_accuracy"] and res["train_score"] is res["train_accuracy"]
    assert res["estimator"] is res["models"]
    assert "test_score" not in res  # iterating and `in` see nncore's keys only
    with pytest.raises(KeyError):
        res["test_f1"]
    no_train = ms.cross_validate(fn, X, y, cv=3, fit_params=FIT, return_train_score=False)
    with pytest.raises(KeyError):
        no_train["train_score"]
    with pytest.raises(KeyError):
        no_train["estimator"]


def test_cross_validate_callable_scoring_and_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=80)
    res = ms.cross_validate(reg_fn, X, y, cv=4, fit_params={"epochs": 20, "batch_size": 8})
    assert set(res) >= {"test_r2", "train_r2"}  # r2 is the regression default
    res = ms.cross_validate(
        reg_fn,
        X,
        y,
        cv=4,
        fit_params={"epochs": 2},
        scoring={"neg_max": lambda t, p: -np.max(np.abs(t - p.ravel()))},
    )
    assert (res["test_neg_max"] <= 0).all()


def test_standardize_uses_training_rows_only():
    X, y = blobs(60)
    X = X * 1000 + 5
    seen = []

    def prep(Xtr, Xte):
        seen.append((Xtr.mean(0), Xte.mean(0)))
        return Xtr, Xte

    ms.cross_validate(
        clf_fn, X, y, cv=3, fit_params={"epochs": 1}, standardize=True, preprocess=prep
    )
    for mtr, mte in seen:
        np.testing.assert_allclose(mtr, 0, atol=1e-4)  # fitted on the training part
        assert np.abs(mte).max() > 1e-3  # the held-out part is only transformed


def test_cross_validate_parallel_matches_serial():
    pytest.importorskip("joblib")
    X, y = blobs(90)
    a = ms.cross_validate(
        clf_fn,
        X,
        y,
        cv=3,
        fit_params=FIT,
        standardize=True,
        n_jobs=1,
        scoring=["accuracy", "log_loss"],
        return_models=True,
    )
    b = ms.cross_validate(
        clf_fn,
        X,
        y,
        cv=3,
        fit_params=FIT,
        standardize=True,
        n_jobs=2,
        scoring=["accuracy", "log_loss"],
        return_models=True,
    )
    for key in ["test_accuracy", "train_accuracy", "test_log_loss", "train_log_loss"]:
        np.testing.assert_array_equal(a[key], b[key])  # bitwise: training is thread-count-free
    for ha, hb in zip(a["history"], b["history"]):
        assert ha.history["loss"] == hb.history["loss"]
    for ma, mb in zip(a["models"], b["models"]):
        np.testing.assert_array_equal(ma.predict(X[:5]), mb.predict(X[:5]))


def test_threaded_folds_leave_the_thread_count_as_it_was():
    pytest.importorskip("joblib")
    X, y = blobs(90)
    serial = ms.cross_validate(clf_fn, X, y, cv=3, fit_params=FIT)
    with nc.num_threads(3):
        threaded = ms.cross_validate(clf_fn, X, y, cv=3, fit_params=FIT, n_jobs=2,
                                     backend="threading")  # fmt: skip
        # the workers ran in this process: a count set inside them would have outlived the call
        assert nc.get_num_threads() == 3
    np.testing.assert_array_equal(serial["test_accuracy"], threaded["test_accuracy"])


def test_parallel_folds_default_to_threads():
    pytest.importorskip("joblib")
    import os

    X, y = blobs(90)
    pids = []

    def model_fn():
        pids.append(os.getpid())
        return clf_fn()

    res = ms.cross_validate(model_fn, X, y, cv=3, fit_params=FIT, n_jobs=2)
    # no worker processes (nor copies of X): training releases the GIL
    assert len(pids) >= 3 and set(pids) == {os.getpid()}
    serial = ms.cross_validate(clf_fn, X, y, cv=3, fit_params=FIT)
    np.testing.assert_array_equal(serial["test_accuracy"], res["test_accuracy"])


def test_parallel_without_joblib_names_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "joblib":
            raise ImportError("no joblib")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    X, y = blobs(30)
    with pytest.raises(ImportError, match="joblib"):
        ms.cross_validate(clf_fn, X, y, cv=3, fit_params={"epochs": 1}, n_jobs=2)


def test_cross_validate_bad_input():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="rows"):
        ms.cross_validate(clf_fn, X, y[:10], cv=3)
    with pytest.raises(ValueError, match="class 2 has only 1"):
        ms.cross_validate(clf_fn, X[:7], np.array([0, 0, 0, 1, 1, 1, 2]), cv=3)
    with pytest.raises(ValueError, match="compiled"):
        ms.cross_validate(lambda: nc.Sequential([nc.Dense(3)], input_dim=5), X, y, cv=3)
    with pytest.raises(ValueError, match="unknown metric"):
        ms.cross_validate(clf_fn, X, y, cv=3, scoring="nope")
    with pytest.raises(ValueError, match="numeric"):
        ms.cross_validate(clf_fn, np.array([["a"] * 5] * 30), y, cv=3)
    # a model instead of a function that builds one: said so, not "forward() missing x"
    with pytest.raises(TypeError, match="model_fn must be a function"):
        ms.cross_validate(clf_fn(), X, y, cv=3)
    # a metric that does not fit the task is refused before any fold is fitted
    fits = []

    def counted():
        fits.append(1)
        return clf_fn()

    with pytest.raises(ValueError, match="'hamming_loss' is for multi-label targets"):
        ms.cross_validate(counted, X, y, cv=3, scoring="hamming_loss")
    assert len(fits) == 1  # the probe model only


# ---------------------------------------------------------------------------------------- search


def test_grid_search_refits_best():
    X, y = blobs(90)
    gs = ms.GridSearch(
        clf_fn,
        {"hidden": [2, 16], "fit__epochs": [1, 6]},
        cv=3,
        fit_params={"batch_size": 16},
        standardize=True,
        scoring=["accuracy", "log_loss"],
    )
    gs.fit(X, y)
    assert len(gs.cv_results_) == 4
    ranks = sorted(r["rank_test_accuracy"] for r in gs.cv_results_)
    assert ranks == [1, 2, 3, 4]
    best = max(gs.cv_results_, key=lambda r: r["mean_test_accuracy"])
    assert gs.best_params_ == best["params"] and gs.best_score_ == best["mean_test_accuracy"]
    # log_loss ranks smaller-is-better
    ll = min(gs.cv_results_, key=lambda r: r["mean_test_log_loss"])
    assert ll["rank_test_log_loss"] == 1
    # the refit model is the best candidate trained on all rows (same seed: same weights)
    ref = clf_fn(hidden=gs.best_params_["hidden"])
    Xs = gs.scaler_.transform(X)
    ref.fit(Xs, y, epochs=gs.best_params_["fit__epochs"], batch_size=16)
    np.testing.assert_array_equal(gs.best_model_.predict(Xs), ref.predict(Xs))
    np.testing.assert_array_equal(gs.predict(X), ref.predict(Xs))
    assert gs.best_model_.epochs_done == gs.best_params_["fit__epochs"]
    assert gs.score(X, y) > 0.8
    assert "rank" in gs.results_table()


def test_search_results_read_by_column_as_scikit_learn_does():
    X, y = blobs(60)
    grid = [{"hidden": [2, 8]}, {"hidden": [4], "fit__epochs": [2]}]
    gs = ms.GridSearch(clf_fn, grid, cv=3, fit_params=FIT, scoring=["accuracy", "log_loss"])
    res = gs.fit(X, y).cv_results_
    rows = list(res)  # the rows, as before
    assert len(res) == 3 and res[0] is rows[0] and res[-1] is rows[2]
    for k in ("mean_test_accuracy", "std_test_log_loss", "split2_train_accuracy", "std_fit_time"):
        assert np.array_equal(res[k], [r[k] for r in rows]) and k in res
    # scikit-learn's single-metric names read the ranking metric
    for k in ("mean_test_score", "rank_test_score", "split0_test_score", "mean_train_score"):
        assert np.array_equal(res[k], res[k.replace("_score", "_accuracy")])
    assert res["rank_test_score"].tolist() == [r["rank_test_accuracy"] for r in rows]
    assert res["params"] == [r["params"] for r in rows]
    hidden, epochs = res["param_hidden"], res["param_fit__epochs"]
    assert hidden.tolist() == [2, 8, 4] and not hidden.mask.any()
    assert epochs.mask.tolist() == [True, True, False] and epochs[2] == 2
    table = dict(res)  # scikit-learn's dict of columns
    assert {"params", "param_hidden", "mean_test_score", "mean_test_log_loss"} <= set(table)
    assert all(len(v) == 3 for v in table.values())
    for missing in ("mean_test_f1", "param_units", "nothing"):
        assert missing not in res
        with pytest.raises(KeyError):
            res[missing]
    assert (
        pickle.loads(pickle.dumps(res))["mean_test_score"].tolist()
        == res["mean_test_score"].tolist()
    )
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(res).shape[0] == 3 and pd.DataFrame(table).shape[0] == 3


def test_random_search():
    X, y = blobs(60)
    rs = ms.RandomSearch(
        clf_fn,
        {"hidden": [4, 8, 16], "seed": lambda rng: int(rng.integers(100))},
        n_iter=3,
        seed=1,
        cv=3,
        fit_params=FIT,
        refit=False,
    )
    rs.fit(X, y)
    assert len(rs.cv_results_) == 3 and not hasattr(rs, "best_model_")
    rs2 = ms.RandomSearch(
        clf_fn,
        {"hidden": [4, 8, 16], "seed": lambda rng: int(rng.integers(100))},
        n_iter=3,
        seed=1,
        cv=3,
        fit_params=FIT,
        refit=False,
    ).fit(X, y)
    assert [r["params"] for r in rs.cv_results_] == [r["params"] for r in rs2.cv_results_]
    with pytest.raises(ValueError, match="empty"):
        ms.GridSearch(clf_fn, [], cv=3).fit(X, y)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_iter must be a positive integer"):
            ms.RandomSearch(clf_fn, {"hidden": [4]}, n_iter=bad, cv=3).fit(X, y)


def test_learning_and_validation_curves():
    X, y = blobs(90)
    sizes, tr, te = ms.learning_curve(clf_fn, X, y, train_sizes=[0.2, 1.0], cv=3, fit_params=FIT)
    assert sizes.tolist() == [12, 60] and tr.shape == te.shape == (2, 3)
    train, test = ms.validation_curve(
        clf_fn, X, y, "fit__epochs", [1, 4], cv=3, fit_params={"batch_size": 16}
    )
    assert train.shape == test.shape == (2, 3)
    assert test[1].mean() >= test[0].mean() - 0.05
