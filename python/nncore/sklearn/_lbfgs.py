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


def fit_lbfgs(est, eng, X, Y, sw):
    T = eng.targets(Y)
    opts = dict(memory=10, max_iter=int(est.max_iter), max_fun=int(est.max_fun), gtol=est.tol)
    if isinstance(X, np.ndarray):
        w, total_w = eng.chunk_weights(X.shape[0], sw, CHUNK)
        out = _core.lbfgs_fit(
            eng.model.engine.core,
            X,
            T,
            w,
            CHUNK,
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
