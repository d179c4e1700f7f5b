"""nncore.preprocessing's OrdinalEncoder and SimpleImputer (numpy only) against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

from nncore.preprocessing import OrdinalEncoder, SimpleImputer

sk_pre = pytest.importorskip("sklearn.preprocessing")
sk_imp = pytest.importorskip("sklearn.impute")


def test_ordinal_encoder_matches_scikit_learn():
    rng = np.random.default_rng(0)
    X = np.stack(
        [rng.choice(["b", "a", "zz", "A", ""], 50), rng.choice(["x1", "x10", "x2"], 50)], axis=1
    )
    ours = OrdinalEncoder().fit(X)
    ref = sk_pre.OrdinalEncoder().fit(X)
    for a, b in zip(ours.categories_, ref.categories_):
        assert a.tolist() == b.tolist()
    np.testing.assert_array_equal(ours.transform(X), ref.transform(X))
    assert ours.cardinalities() == [len(c) for c in ref.categories_]


def test_ordinal_encoder_unknown_categories():
    enc = OrdinalEncoder().fit([["a"], ["b"]])
    with pytest.raises(ValueError, match="column 0 has the unknown category 'c'"):
        enc.transform([["a"], ["c"]])
    enc = OrdinalEncoder(unknown="reserve").fit([["a"], ["b"]])
    assert enc.transform([["c"], ["b"], ["0"]]).ravel().tolist() == [2.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="unknown must be"):
        OrdinalEncoder(unknown="ignore").fit([["a"]])  # checked by fit, as scikit-learn does
    with pytest.raises(ValueError, match="X has 1 features, but OrdinalEncoder is expecting 2"):
        OrdinalEncoder().fit([["a", "b"]]).transform([["a"]])


@pytest.mark.parametrize("strategy", ["mean", "median", "zero"])
def test_simple_imputer_matches_scikit_learn(strategy):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    X[rng.random((40, 4)) < 0.2] = np.nan
    X[:, 2] = rng.normal(size=40)  # no missing values: no indicator column
    ours = SimpleImputer(strategy, add_indicator=True).fit(X)
    ref = sk_imp.SimpleImputer(
        strategy="constant" if strategy == "zero" else strategy, fill_value=0.0, add_indicator=True
    ).fit(X)
    Xt = X.copy()
    Xt[0] = np.nan
    np.testing.assert_allclose(ours.transform(Xt), ref.transform(Xt), rtol=1e-6)
    assert ours.indicator_columns_.tolist() == [0, 1, 3]


def test_simple_imputer_edge_cases():
    imp = SimpleImputer("mean").fit([[np.nan, 1.0], [np.nan, 3.0]])
    assert imp.statistics_.tolist() == [0.0, 2.0]  # a column without values gets 0
    with pytest.raises(ValueError, match="strategy must be"):
        SimpleImputer("most_frequent").fit([[1.0]])
    with pytest.raises(ValueError, match="infinite"):
        SimpleImputer().fit([[np.inf]])
    with pytest.raises(ValueError, match="X has 1 features, but SimpleImputer is expecting 2"):
        imp.transform([[1.0]])
