"""_core.infer_rows (the drop-in estimators' predict path): a float64/float32 X of any layout read
once, chunk by chunk, gives bitwise the outputs of the float32 copy through the network's own
evaluation forward, and None when X holds a NaN or infinity anywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncore import _core


@pytest.fixture(scope="module")
def sk():
    """nncore.sklearn's estimators (every test here fits one) and ConvergenceWarning."""
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    from nncore.sklearn import MLPClassifier, MLPRegressor

    return MLPClassifier, MLPRegressor, ConvergenceWarning


@pytest.fixture(scope="module")
def fitted(sk):
    MLPClassifier, _, ConvergenceWarning = sk
    rng = np.random.RandomState(0)
    X = rng.randn(300, 37)
    y = np.arange(300) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(19, 11), max_iter=3, random_state=0).fit(X, y)
    return clf, rng


def reference(clf, X):
    return clf.model_.engine.forward(np.ascontiguousarray(X, dtype=np.float32), False)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_every_layout_gives_the_float32_copys_outputs(fitted, threads):
    clf, rng = fitted
    net = clf.model_.engine.core
    # 7,500 rows: several chunks (7,084 rows each for 37 columns) and a ragged last one.
    big = rng.randn(7500, 37) * 3
    layouts = {
        "C float64": big,
        "F float64": np.asfortranarray(big),
        "strided rows": rng.randn(2 * 901, 37)[::2],
        "strided cols": rng.randn(50, 74)[:, ::2],
        "reversed": big[::-1],
        "float32": big.astype(np.float32),
        "one row": big[:1],
    }
    import nncore

    with nncore.num_threads(threads):
        for name, X in layouts.items():
            got = _core.infer_rows(net, X)
            assert got is not None, name
            np.testing.assert_array_equal(got, reference(clf, X), err_msg=name)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
@pytest.mark.parametrize("where", [(0, 0), (7100, 36), (7499, 5)])
def test_nonfinite_anywhere_gives_none(fitted, bad, where):
    clf, rng = fitted
    X = rng.randn(7500, 37)
    X[where] = bad
    assert _core.infer_rows(clf.model_.engine.core, X) is None
    assert _core.infer_rows(clf.model_.engine.core, np.asfortranarray(X)) is None


def test_predict_of_values_beyond_float32_matches_the_copy(fitted):
    """A float64 X finite for scikit-learn but not in float32 takes the validated path."""
    clf, rng = fitted
    X = rng.randn(20, 37)
    X[3, 4] = 1e300
    with np.errstate(over="ignore"):  # the float32 copy overflows to inf, as it always did
        z = reference(clf, X)
        labels = clf.predict(X)
    np.testing.assert_array_equal(labels, clf.classes_[np.argmax(z, axis=1)])


def test_regressor_predict_equals_outputs(fitted, sk):
    _, MLPRegressor, ConvergenceWarning = sk
    _, rng = fitted
    X = rng.randn(200, 5)
    y = X @ rng.randn(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    for Xp in (X, X.astype(np.float32), np.asfortranarray(X)):
        np.testing.assert_array_equal(reg.predict(Xp), reference(reg, Xp).astype(Xp.dtype).ravel())


def test_bad_arguments_raise(fitted):
    clf, _ = fitted
    net = clf.model_.engine.core
    with pytest.raises(ValueError, match="37 columns"):
        _core.infer_rows(net, np.zeros((3, 36)))
    with pytest.raises(TypeError, match="float64 or float32"):
        _core.infer_rows(net, np.zeros((3, 37), dtype=np.int64))
    with pytest.raises(ValueError, match="no rows"):
        _core.infer_rows(net, np.zeros((0, 37)))
