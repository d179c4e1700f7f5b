"""nncore.preprocessing's Standardizer against its definition and scikit-learn's StandardScaler,
and the scikit-learn protocol the three transformers share (get_params / set_params, fit with
y, clone, Pipeline, a search over their parameters)."""

from __future__ import annotations

import numpy as np
import pytest

from nncore.preprocessing import OrdinalEncoder, SimpleImputer, Standardizer


def _rows(seed=0, n=50, d=4):
    rng = np.random.default_rng(seed)
    return rng.normal(loc=3.0, scale=[1.0, 10.0, 0.1, 2.0][:d], size=(n, d))


def test_standardizer_matches_its_definition():
    X = _rows()
    X[:, 3] = 7.0  # constant: scale 1, so the column becomes 0
    s = Standardizer().fit(X)
    np.testing.assert_array_equal(s.mean_, X.mean(0))
    np.testing.assert_array_equal(s.scale_, np.where(X.std(0) > 0, X.std(0), 1.0))
    Z = s.transform(X)
    assert Z.dtype == np.float32 and Z.flags.c_contiguous
    np.testing.assert_allclose(Z, (X - X.mean(0)) / s.scale_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-6, atol=1e-5)
    assert s.inverse_transform(Z).dtype == np.float64


def test_standardizer_leaves_nan_out_as_scikit_learn_does():
    sk = pytest.importorskip("sklearn.preprocessing")
    X = _rows(1)
    X[np.random.default_rng(2).random(X.shape) < 0.2] = np.nan
    X[:, 2] = np.nan  # no value at all: mean 0, scale 1, NaN kept
    ours = Standardizer().fit(X)
    with pytest.warns(RuntimeWarning):  # scikit-learn's nanmean of the empty column
        ref = sk.StandardScaler().fit(X)
    keep = [0, 1, 3]
    np.testing.assert_allclose(ours.mean_[keep], ref.mean_[keep], rtol=1e-12)
    np.testing.assert_allclose(ours.scale_[keep], ref.scale_[keep], rtol=1e-12)
    assert (ours.mean_[2], ours.scale_[2]) == (0.0, 1.0)
    Z = ours.transform(X)
    np.testing.assert_array_equal(np.isnan(Z), np.isnan(X))
    np.testing.assert_allclose(Z[:, keep], ref.transform(X)[:, keep], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: Standardizer().fit(np.zeros((0, 3))), "no rows"),
        (lambda: Standardizer().fit(np.arange(4.0)), "2-D"),
        (lambda: Standardizer().fit([[1.0, np.inf]]), "infinite"),
        (lambda: Standardizer().fit([["a", "b"]]), "numeric"),
        (
            lambda: Standardizer().fit(_rows()).transform(np.zeros((2, 1))),
            "has 1 features, but Standardizer is expecting 4",
        ),
        (lambda: Standardizer().fit(_rows()).inverse_transform(np.zeros(4)), "got 1-D"),
        (lambda: SimpleImputer().fit(np.zeros((0, 2))), "no rows"),
        (lambda: Standardizer().set_params(with_mean=False), "invalid parameter 'with_mean'"),
        (lambda: SimpleImputer().set_params(strategy="mode").fit([[1.0]]), "strategy must be"),
        (lambda: SimpleImputer(add_indicator="yes").fit([[1.0]]), "add_indicator must be a bool"),
        (lambda: OrdinalEncoder().set_params(unknown="skip").fit([["a"]]), "unknown must be"),
        (lambda: OrdinalEncoder().fit(np.zeros((0, 2))), "0 sample"),
        (lambda: OrdinalEncoder().fit([["a"]]).transform(["a"]), "Reshape your data"),
    ],
)
def test_bad_input_is_named(call, match):
    # the width check matters: (n, 1) rows used to broadcast against 4 means into (n, 4)
    with pytest.raises(ValueError, match=match):
        call()


def test_the_parameter_protocol():
    imp = SimpleImputer("median", add_indicator=True)
    assert imp.get_params() == {"strategy": "median", "add_indicator": True}
    assert imp.set_params(strategy="zero") is imp and imp.strategy == "zero"
    assert imp.add_indicator is True
    assert OrdinalEncoder(unknown="reserve").get_params() == {"unknown": "reserve"}
    assert Standardizer().get_params() == {}
    assert repr(imp) == "SimpleImputer(strategy='zero', add_indicator=True)"


def test_the_transformers_work_in_scikit_learn_pipelines_and_searches():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 3)) * [1.0, 50.0, 0.01]
    y = (X[:, 0] + X[:, 1] / 50 > 0).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan
    for t in (Standardizer(), SimpleImputer("median", add_indicator=True)):
        c = clone(t)
        assert type(c) is type(t) and c.get_params() == t.get_params()
    pipe = make_pipeline(SimpleImputer(), Standardizer(), LogisticRegression())
    search = GridSearchCV(pipe, {"simpleimputer__strategy": ["mean", "zero"]}, cv=3).fit(X, y)
    assert search.best_params_["simpleimputer__strategy"] in ("mean", "zero")
    # the fitted pipeline is the same transform written out by hand
    best = search.best_estimator_
    imp = SimpleImputer(search.best_params_["simpleimputer__strategy"]).fit(X)
    Z = Standardizer().fit(imp.transform(X)).transform(imp.transform(X))
    np.testing.assert_array_equal(best[:-1].transform(X), Z)
    enc = make_pipeline(OrdinalEncoder(unknown="reserve")).fit(np.array([["a"], ["b"]]), [0, 1])
    assert enc.transform(np.array([["b"], ["z"]])).ravel().tolist() == [1.0, 2.0]


# numpy-only classes cannot inherit scikit-learn's BaseEstimator; its checks say so and go on
@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit:UserWarning")
@pytest.mark.filterwarnings("ignore:Skipping check:UserWarning")  # SkipTestWarning: array API
@pytest.mark.parametrize(
    "make",
    [
        Standardizer,
        SimpleImputer,
        lambda: SimpleImputer("median", add_indicator=True),
        OrdinalEncoder,
        lambda: OrdinalEncoder(unknown="reserve"),
    ],
)
def test_scikit_learn_estimator_checks_pass(make):
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator

    failed = [
        (r["check_name"], str(r["exception"])[:200])
        for r in check_estimator(make(), on_fail=None)
        if r["status"] == "failed"
    ]
    assert failed == []


def test_scikit_learn_reads_the_tags():
    pytest.importorskip("sklearn")
    from sklearn.utils import get_tags

    assert get_tags(Standardizer()).input_tags.allow_nan
    assert get_tags(SimpleImputer()).transformer_tags.preserves_dtype == ["float32"]
    assert get_tags(OrdinalEncoder()).input_tags.string
    assert not get_tags(Standardizer()).target_tags.required
