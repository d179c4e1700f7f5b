"""The core's L-BFGS (nncore._core.lbfgs_minimize / lbfgs_fit) against scipy's L-BFGS-B without
bounds, the solver scikit-learn's MLP runs: the same iterations, evaluations, status and point
on float64 problems, where only rounding separates the two."""

from __future__ import annotations

import numpy as np
import pytest

from nncore import _core


def rosenbrock(x):
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    g[:-1] += -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    return f, g


def logistic(n=200, d=7, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    y = (A @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(float)

    def fun(w):
        z = A @ w
        p = 1 / (1 + np.exp(-z))
        f = np.sum(np.logaddexp(0, z) - y * z) / n + 1e-3 * w @ w
        return f, A.T @ (p - y) / n + 2e-3 * w

    return fun, np.zeros(d)


def quadratic(d=30, seed=1):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((d, d))
    H = Q @ Q.T + np.diag(np.linspace(0.1, 50, d))
    b = rng.standard_normal(d)
    return (lambda x: (0.5 * x @ H @ x - b @ x, H @ x - b)), np.ones(d)


def far_valley(d=6):
    # The minimum lies ~100 away from x0: the first step (length 1) is extrapolated many times.
    c = np.linspace(0.01, 1.0, d)
    return (lambda x: (0.5 * c @ (x - 40) ** 2 + np.sum(np.cos(x)), c * (x - 40) - np.sin(x))), (
        np.zeros(d)
    )


PROBLEMS = {
    "far_valley": far_valley(),
    "rosenbrock": (rosenbrock, np.array([-1.2, 1.0, -0.5, 0.8, 1.3])),
    "logistic": logistic(),
    "quadratic": quadratic(),
}


def scipy_run(fun, x0, **opt):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    return scipy_optimize.minimize(fun, x0, method="L-BFGS-B", jac=True, options=opt)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("maxiter", [3, 15000])
def test_same_iterations_evaluations_and_point_as_scipy(name, maxiter):
    fun, x0 = PROBLEMS[name]
    ref = scipy_run(fun, x0, maxiter=maxiter, gtol=1e-6)
    got = _core.lbfgs_minimize(fun, x0, max_iter=maxiter, gtol=1e-6)
    assert got["nit"] == ref.nit
    assert got["nfev"] == ref.nfev
    assert got["status"] == ref.status
    assert got["message"] == ref.message
    np.testing.assert_allclose(got["x"], ref.x, rtol=1e-7, atol=1e-9)
    assert got["fun"] == pytest.approx(ref.fun, rel=1e-10, abs=1e-14)


def test_evaluation_limit_and_memory_as_scipy():
    fun, x0 = PROBLEMS["rosenbrock"]
    for opt, mine in (
        (dict(maxfun=12), dict(max_fun=12)),
        (dict(maxcor=3), dict(memory=3)),
        (dict(maxls=2), dict(max_ls=2)),
    ):
        ref = scipy_run(fun, x0, **opt)
        got = _core.lbfgs_minimize(fun, x0, **mine)
        assert (got["nit"], got["nfev"], got["status"]) == (ref.nit, ref.nfev, ref.status)
        np.testing.assert_allclose(got["x"], ref.x, rtol=1e-7, atol=1e-9)


def test_starting_at_a_minimum_takes_no_step():
    fun, _ = PROBLEMS["rosenbrock"]
    got = _core.lbfgs_minimize(fun, np.ones(5))
    assert (got["nit"], got["nfev"], got["status"]) == (0, 1, 0)


def test_bad_arguments_raise():
    fun, x0 = PROBLEMS["quadratic"]
    with pytest.raises(ValueError, match="max_iter"):
        _core.lbfgs_minimize(fun, x0, max_iter=0)
    with pytest.raises(ValueError, match="gradient"):
        _core.lbfgs_minimize(lambda x: (0.0, np.zeros(2)), x0)
    with pytest.raises(ZeroDivisionError):
        _core.lbfgs_minimize(lambda x: 1 / 0, x0)


def _assert_same_fit_on_every_isa_and_thread_count(X, y, kw):
    """Fits MLPClassifier(**kw) on every ISA at 1, 2 and 3 threads and asserts the same weights
    (bitwise), loss and n_iter_; returns the last fit."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from nncore.sklearn import MLPClassifier

    ref = None
    for isa in _core.supported_isas():
        _core.set_isa(isa)
        for threads in (1, 2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = MLPClassifier(n_threads=threads, **kw).fit(X, y)
            got = (np.concatenate([c.ravel() for c in clf.coefs_]), clf.loss_, clf.n_iter_)
            if ref is None:
                ref = got
            np.testing.assert_array_equal(got[0], ref[0], err_msg=f"{isa} {threads}")
            assert got[1:] == ref[1:]
    return clf


def test_sklearn_lbfgs_fit_bitwise_same_for_any_isa_thread_count(restore_runtime, monkeypatch):
    """A dense lbfgs fit (one C++ call) over several chunks of rows: the same weights, loss and
    n_iter_ on every ISA and thread count; the sparse path (Python function, same solver)
    agrees to float32 rounding."""
    import warnings

    pytest.importorskip("sklearn")
    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning

    from nncore.sklearn import MLPClassifier, _engine, _lbfgs

    monkeypatch.setattr(_engine, "CHUNK", 32)  # three chunks of rows per evaluation
    monkeypatch.setattr(_lbfgs, "CHUNK", 32)
    rng = np.random.RandomState(0)
    X = rng.randn(90, 9)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0)
    kw = dict(hidden_layer_sizes=(13,), solver="lbfgs", max_iter=15, random_state=0, alpha=0.01)
    clf = _assert_same_fit_on_every_isa_and_thread_count(X, y, kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sparse = MLPClassifier(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coefs_[0], clf.coefs_[0], rtol=1e-4, atol=1e-5)


def test_dense_lbfgs_chunk_depends_on_the_width_only():
    """The full-batch chunk keeps X's rows in L2 for the backward (at most 1 MiB of float32 per
    chunk, 256 to 4096 rows): a function of the width alone, so the fitted bits do not depend
    on the machine."""
    pytest.importorskip("sklearn")
    from nncore.sklearn._lbfgs import dense_chunk

    assert dense_chunk(784) == 256
    assert dense_chunk(300) == 512
    assert dense_chunk(64) == 4096
    assert dense_chunk(50) == 4096
    assert dense_chunk(100000) == 256
    for d in (1, 7, 33, 255, 256, 257, 1000):
        rows = dense_chunk(d)
        assert 256 <= rows <= 4096 and rows & (rows - 1) == 0
        assert rows == 256 or rows * d * 4 <= 1 << 20


def test_sklearn_lbfgs_wide_layer_bitwise_same_for_any_isa_thread_count(restore_runtime):
    """scikit-learn's 100-unit hidden layer over chunks of 512 rows (width 300): AVX-512 runs
    the forward through sgemm_xwt, the other ISAs through the packed kernel; every ISA and
    thread count gives the same weights, loss and n_iter_."""
    pytest.importorskip("sklearn")
    rng = np.random.RandomState(1)
    X = rng.randn(1300, 300)
    y = (X[:, :4] @ rng.randn(4, 4)).argmax(axis=1)
    _assert_same_fit_on_every_isa_and_thread_count(
        X, y, dict(solver="lbfgs", max_iter=8, random_state=0)
    )
