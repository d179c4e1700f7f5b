"""solver="lbfgs": the C++ core's L-BFGS (``nncore._core.lbfgs_fit``), the unbounded case of the
L-BFGS-B that scikit-learn runs through ``scipy.optimize.minimize``, with scikit-learn's options
(maxiter, maxfun, gtol=tol, and scipy's defaults: 10 correction pairs, ftol 2.2e-9, 20 line-search
steps): the same first step, Moré-Thuente line search, pair-skipping, restart and stopping rules,
so the same iterates up to rounding and the same n_iter_, status and ConvergenceWarning.

A dense X is fitted in one C++ call with the GIL released: each evaluation writes the float64
iterate into the parameter arena, runs the full-batch loss and gradient over X in place (fixed
chunks of rows) and reads the gradient back, with no Python between evaluations. A sparse X
runs the same solver on a Python function that densifies X chunk by chunk."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult
from sklearn.utils.optimize import _check_optimize_result

from .. import _core
from ._engine import CHUNK

# A full-batch chunk of X stays at most this large, so the backward's weight gradient reads the
# rows from L2, where the forward left them, instead of streaming X from memory a second time.
_CHUNK_BYTES = 1 << 20


def dense_chunk(n_features: int) -> int:
    """Rows per full-batch chunk of a dense float32 X: CHUNK, halved down to 256 rows while a
    chunk holds more than _CHUNK_BYTES. It depends on the width alone, so the sums, and so the
    fitted weights, are the same on every machine (bench/results/issue33.md#lbfgs-chunk)."""
    rows = CHUNK
    while rows > 256 and rows * n_features * 4 > _CHUNK_BYTES:
        rows //= 2
    return rows


def fit_lbfgs(est, eng, X, Y, sw):
    T = eng.targets(Y)
    opts = dict(memory=10, max_iter=int(est.max_iter), max_fun=int(est.max_fun), gtol=est.tol)
    if isinstance(X, np.ndarray):
        chunk = dense_chunk(X.shape[1])
        w, total_w = eng.chunk_weights(X.shape[0], sw, chunk)
        out = _core.lbfgs_fit(
            eng.model.engine.core,
            X,
            T,
            w,
            chunk,
            eng.segments(),
            eng.loss_factor,
            total_w,
            eng.extra_penalty,
            **opts,
        )
    else:
        rows = slice(0, X.shape[0])

        def fun(theta):
            eng.set_params_flat(theta)
            loss = eng.loss_grad(X, rows, T, sw)
            return loss, eng.grads_flat()

        out = _core.lbfgs_minimize(fun, eng.params_flat(), **opts)
        eng.set_params_flat(out["x"])
    res = OptimizeResult(out)
    est.n_iter_ = _check_optimize_result("lbfgs", res, est.max_iter)
    est.loss_ = float(res.fun)
