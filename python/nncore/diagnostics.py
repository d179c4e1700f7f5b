"""Gradient-health diagnostics: per-layer gradient and weight norms, update sizes, dead ReLU units
and saturated sigmoid/tanh units, recorded per epoch by ``fit(diagnostics=True)``; a one-shot
:func:`report`; and :func:`gradient_check` against finite differences.

Everything is measured on a fixed diagnostic batch (up to 256 rows of the training data, chosen
with a fixed seed), so epochs are comparable. The measurements do not change training: the
batchnorm running statistics and the gradient arena are saved and restored around them, the
step counter (which keys dropout masks) is untouched, so a fit with diagnostics ends with bitwise
the same weights as one without. Not covered: per-batch diagnostics, Hessian/curvature measures.

Definitions (key names as recorded in the History, ``i`` the layer index as in ``"i.weight"``;
a Dense layer inside a residual block is named by its path, ``"3.body.0"``, and a block's
projection ``"3.proj"``; the activation statistics cover a block's output, not its layers):

``grad_norm/i``
    Frobenius norm of d(mean data loss)/dW of Dense layer i on the diagnostic batch, after the
    epoch (training-mode forward, so dropout and batch statistics are as in training; no l1/l2
    term). Biases are left out.
``weight_norm/i``
    Frobenius norm of W at the end of the epoch.
``update_ratio/i``
    ||W_end - W_start|| / ||W_start|| over the whole epoch (not the last step): the relative size
    of the epoch's total update. Healthy training typically shows 1e-3..1e-1 per epoch.
``dead/i``
    For a layer whose output goes through ReLU: the fraction of its units that output exactly 0
    for every row of the diagnostic batch.
``saturated/i``
    For a sigmoid or tanh output: the fraction of (row, unit) activations in the flat part,
    ``|tanh| > 0.99``, or sigmoid < 0.01 or > 0.99. A final sigmoid/softmax that the loss folds in
    is not measured (its input is the logits).

Gradients and activations come from the same training-mode forward (one forward and one backward
per epoch): batchnorm uses the batch's statistics and dropout its mask for the current step (a
Dropout layer is separate, so a Dense layer's ReLU output is measured before any dropout).
"""

from __future__ import annotations

import math

import numpy as np

from .callbacks import Callback
from .layers import Residual
from .training import inputs

DIAG_ROWS = 256
DIAG_SEED = 0
SATURATION = {"tanh": 0.99, "sigmoid": 0.01}
SERIES = ("grad_norm", "weight_norm", "update_ratio", "dead", "saturated")


def _batch_indices(n: int, rows: int = DIAG_ROWS, seed: int = DIAG_SEED) -> np.ndarray:
    if n <= rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, rows, replace=False))


def _layer_acts(model) -> list:
    """Per layer: the activation applied to its output ('relu', 'tanh', ...) or None."""
    acts = []
    for i, layer in enumerate(model.layers):
        act = getattr(layer, "activation", None)
        if i == model.engine.stripped:
            act = None  # folded into the loss: the layer outputs logits
        acts.append(act)
    return acts


def _dense_weights(model) -> dict:
    """owner -> (offset, size) of every Dense weight, in arena order: the owner is the layer
    index ("2") or, inside residual blocks, the path ("3.body.0", "3.proj")."""
    out = {}
    for name, shape, offset, _layer in model.engine.param_entries():
        if name.endswith(".weight") and len(shape) == 2:
            out[name[: -len(".weight")]] = (offset, int(np.prod(shape)))
    return out


def _owner_key(owner: str):
    """A series key: the layer index as an int for a top-level layer, else the path."""
    return int(owner) if owner.isdigit() else owner


def _nested(layers):
    """(path, layer) of every layer inside the residual blocks of ``layers``, a block's layers
    after it and its projection after them as (path + ".proj", None)."""
    for j, layer in enumerate(layers):
        yield from _block(str(j), layer)


def _block(name: str, layer):
    if isinstance(layer, Residual):
        for k, child in enumerate(layer.layers):
            yield f"{name}.body.{k}", child
            yield from _block(f"{name}.body.{k}", child)
        yield f"{name}.proj", None


def _activation_stats(act, a) -> dict:
    s = {"act_mean": float(a.mean()), "act_std": float(a.std())}
    if act == "relu":
        s["dead"] = float(np.mean(~(a != 0).any(axis=0)))
    elif act == "tanh":
        s["saturated"] = float(np.mean(np.abs(a) > SATURATION["tanh"]))
    elif act == "sigmoid":
        lo = SATURATION["sigmoid"]
        s["saturated"] = float(np.mean((a < lo) | (a > 1 - lo)))
    return s


def _measure(model, x, y):
    """One training-mode forward (every layer's output) + loss + backward on (x, y), without
    changing the network's state. Returns ({Dense owner (see _dense_weights): weight-gradient
    norm}, {layer index: activation stats})."""
    buffers = model.engine.arena("buffers")
    grads = model.engine.arena("grads")
    saved_buffers = buffers.copy()
    saved_grads = grads.copy()
    try:
        model.zero_grad()
        outs = model.engine.forward_all(x, True)
        _, dout = model.engine.loss(outs[-1], y)
        model.engine.backward(dout)
        g = model.engine.arena("grads")
        norms = {
            i: float(np.linalg.norm(g[off : off + size].astype(np.float64)))
            for i, (off, size) in _dense_weights(model).items()
        }
    finally:
        grads[:] = saved_grads
        if buffers.size:
            buffers[:] = saved_buffers
            model.engine.params_changed()  # running statistics were put back: drop cached plans
    stats = {
        i: _activation_stats(act, a) for i, (act, a) in enumerate(zip(_layer_acts(model), outs))
    }
    return norms, stats


class DiagnosticsRecorder(Callback):
    """Adds the per-layer series described in the module docstring to each epoch's logs (fit
    puts it before the History, which records them). Created by ``fit(diagnostics=True)``.

    Cost per epoch: one forward and one backward on the diagnostic batch plus a copy of the Dense
    weights, e.g. about 0.5 ms for a 64-128-64-10 MLP and 16 ms for 784-512-512-10 (1 thread,
    Zen 4): some 16% of a digits epoch (1,797 rows) and 3% of a 10k-row epoch.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, features)
        The training inputs; the diagnostic batch is taken from them.
    y : numpy.ndarray
        The matching targets.
    rows : int, default 256
        Size of the diagnostic batch (all of X when it has fewer rows).
    seed : int, default 0
        Seeds the choice of the batch's rows.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import diagnostics
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy")
    >>> recorder = diagnostics.DiagnosticsRecorder(X, y, rows=32)
    >>> recorder.x.shape
    (32, 4)
    >>> recorder.set_model(model)
    >>> recorder.on_epoch_begin(0)
    >>> logs = {}
    >>> recorder.on_epoch_end(0, logs)
    >>> sorted(logs)  # doctest: +NORMALIZE_WHITESPACE
    ['grad_norm/0', 'grad_norm/1', 'saturated/0', 'update_ratio/0', 'update_ratio/1',
     'weight_norm/0', 'weight_norm/1']
    """

    def __init__(self, X, y, rows: int = DIAG_ROWS, seed: int = DIAG_SEED):
        idx = _batch_indices(len(X), rows, seed)
        self.x = np.ascontiguousarray(X[idx], dtype=np.float32)
        self.y = y[idx]

    def on_epoch_begin(self, epoch, logs=None):
        p = self.model.engine.arena("params")
        self._start = {
            i: p[off : off + size].astype(np.float64)
            for i, (off, size) in _dense_weights(self.model).items()
        }

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        model = self.model
        p = model.engine.arena("params")
        norms, stats = _measure(model, self.x, self.y)
        for owner, gn in norms.items():
            logs[f"grad_norm/{owner}"] = gn
        for i, (off, size) in _dense_weights(model).items():
            w = p[off : off + size].astype(np.float64)
            wn = float(np.linalg.norm(w))
            logs[f"weight_norm/{i}"] = wn
            w0 = self._start.get(i)
            if w0 is not None:
                n0 = float(np.linalg.norm(w0))
                logs[f"update_ratio/{i}"] = (
                    float(np.linalg.norm(w - w0)) / n0 if n0 > 0 else math.inf
                )
        for i, s in stats.items():
            for key in ("dead", "saturated"):
                if key in s:
                    logs[f"{key}/{i}"] = s[key]


def series(history, name: str = "grad_norm") -> dict:
    """``{layer index: [value per epoch]}`` for one diagnostics series of a History (or its
    ``.history`` dict), e.g. ``series(h, "dead")``. A layer inside a residual block is keyed by
    its path (``"3.body.0"``, ``"3.proj"``), after the top-level layers.

    Parameters
    ----------
    history : History or dict
        From ``fit(diagnostics=True)``.
    name : str, default "grad_norm"
        One of ``grad_norm``, ``weight_norm``, ``update_ratio``, ``dead``, ``saturated``.

    Returns
    -------
    dict of int to list of float
        Sorted by layer index; empty when the series was not recorded.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import diagnostics
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy")
    >>> history = model.fit(X, y, epochs=2, diagnostics=True)
    >>> norms = diagnostics.series(history, "grad_norm")
    >>> sorted(norms), len(norms[0])
    ([0, 1], 2)
    >>> diagnostics.series(history, "dead")  # no ReLU layer
    {}
    """
    h = getattr(history, "history", history)
    prefix = name + "/"
    out = {_owner_key(k[len(prefix) :]): list(v) for k, v in h.items() if k.startswith(prefix)}
    return dict(sorted(out.items(), key=lambda kv: _path_order(kv[0])))


def _path_order(key) -> tuple:
    """Sort key of a layer index or path, in arena order: "10" after "2", "3.body.0" after "3",
    "3.proj" after "3.body.<any>"."""
    return tuple(int(p) if p.isdigit() else int(p == "proj") for p in str(key).split("."))


class DiagnosticsReport(list):
    """A list of per-layer dicts, with ``flags`` (warnings as text) and ``text`` (the table)."""

    flags: list
    text: str


def _prepare(model, X, y, rows, seed):
    inputs.require_compiled(model)
    X = inputs.check_input(model, X)
    y = inputs.check_y(model, y, X.shape[0])
    idx = _batch_indices(X.shape[0], rows, seed)
    return np.ascontiguousarray(X[idx]), y[idx]


def report(
    model,
    X,
    y,
    *,
    print_fn=print,
    rows: int = DIAG_ROWS,
    seed: int = DIAG_SEED,
    vanishing_ratio: float = 1e-3,
    exploding_ratio: float = 1e3,
    exploding_norm: float = 1e3,
) -> DiagnosticsReport:
    """Print a per-layer table for one batch of (X, y) and flag gradient problems.

    Columns: layer, type/activation, units, weight-gradient norm, weight norm, their ratio,
    activation mean/std, dead ReLU fraction and saturated fraction (definitions in the module
    docstring). Flags: *vanishing* when the first Dense layer's gradient norm is below
    ``vanishing_ratio`` times the last one's; *exploding* when it is above ``exploding_ratio``
    times the last one's, or any gradient norm exceeds ``exploding_norm`` or is not finite; *dead
    ReLUs* / *saturation* when more than half of a layer's units are dead / saturated.

    Parameters
    ----------
    model : Sequential
        A compiled model (its state is left unchanged).
    X, y : array-like
        Data; up to ``rows`` rows of it are used.
    print_fn : callable or None, default print
        Receives the table as one string; None prints nothing.
    rows : int, default 256
        Size of the batch measured.
    seed : int, default 0
        Seeds the choice of the batch's rows.
    vanishing_ratio, exploding_ratio : float, default 1e-3, 1e3
        Bounds on the first-to-last gradient norm ratio.
    exploding_norm : float, default 1e3
        Largest gradient norm not flagged.

    Returns
    -------
    DiagnosticsReport
        A list with one dict per layer (``layer``, ``type``, ``activation``, ``units``,
        ``grad_norm``, ``weight_norm``, ``grad_to_weight``, ``act_mean``, ``act_std`` and
        ``dead`` / ``saturated`` where they apply), with ``.flags`` (list of str) and ``.text``.

    Raises
    ------
    RuntimeError
        When the model is not compiled.
    ValueError
        When X or y does not fit the model (shape, dtype, non-finite values, labels).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import diagnostics
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy")
    >>> rep = diagnostics.report(model, X, y, print_fn=None)
    >>> [row["activation"] for row in rep], rep.flags
    (['tanh', 'linear'], [])
    >>> rep.text.splitlines()[-1]
    'no gradient problems flagged'
    """
    x, yb = _prepare(model, X, y, rows, seed)
    grads, acts = _measure(model, x, yb)
    rows_out = DiagnosticsReport(_layer_rows(model, grads, acts))
    flags = _gradient_flags(grads, vanishing_ratio, exploding_ratio, exploding_norm)
    flags += _unit_flags(rows_out)
    rows_out.flags = flags
    rows_out.text = "\n".join(
        _table(rows_out) + ([f"WARNING: {fl}" for fl in flags] or ["no gradient problems flagged"])
    )
    if print_fn is not None:
        print_fn(rows_out.text)
    return rows_out


def _layer_rows(model, grads, acts) -> list:
    """One dict per layer: type, activation, units and, for a Dense layer, its weight-gradient
    and weight norms; then its activation statistics."""
    p = model.engine.arena("params")
    dense = _dense_weights(model)
    acts_of = _layer_acts(model)
    shapes = {name: shape for name, shape, _off, _layer in model.engine.param_entries()}
    out = []

    def norms(r, owner):
        off, size = dense[owner]
        wn = float(np.linalg.norm(p[off : off + size].astype(np.float64)))
        r["grad_norm"] = grads[owner]
        r["weight_norm"] = wn
        r["grad_to_weight"] = grads[owner] / wn if wn > 0 else math.inf

    for i, (kind, _din, dout) in enumerate(model.engine.layer_info()):
        r = {"layer": i, "type": kind, "activation": acts_of[i] or "linear", "units": int(dout)}
        if str(i) in dense:
            norms(r, str(i))
        r.update(acts.get(i, {}))
        out.append(r)
        # the Dense layers and projection of a residual block, by path, without activation stats
        for path, layer in _block(str(i), model.layers[i]):
            if path not in dense:
                continue
            r = {"layer": path, "type": "dense" if layer is not None else "projection"}
            r["activation"] = getattr(layer, "activation", "linear")
            r["units"] = int(shapes[path + ".weight"][0])
            norms(r, path)
            out.append(r)
    return out


def _gradient_flags(grads, vanishing_ratio, exploding_ratio, exploding_norm) -> list:
    """Warnings about vanishing or exploding gradients (the rules in :func:`report`)."""
    flags: list = []
    norms = list(grads.values())  # arena order: first layer first
    if not norms:
        return flags
    if not all(math.isfinite(g) for g in norms):
        return ["exploding gradients: a gradient norm is NaN or infinite"]
    first, last = norms[0], norms[-1]
    if len(norms) > 1 and last > 0:
        ratio = first / last
        if ratio < vanishing_ratio:
            flags.append(
                f"vanishing gradients: the first layer's gradient norm is {ratio:.1e} "
                "times the last layer's (try ReLU-family activations with He init, "
                "batchnorm, or a shallower network)"
            )
        elif ratio > exploding_ratio:
            flags.append(
                f"exploding gradients: the first layer's gradient norm is {ratio:.1e} "
                "times the last layer's"
            )
    big = max(norms)
    if big > exploding_norm:
        flags.append(
            f"exploding gradients: gradient norm {big:.3g} (try a smaller learning rate, "
            "gradient clipping or normalized inputs)"
        )
    return flags


def _unit_flags(rows) -> list:
    """Warnings about layers whose units are mostly dead or saturated."""
    flags = []
    for r in rows:
        if r.get("dead", 0) > 0.5:
            flags.append(f"dead ReLUs: {r['dead']:.0%} of layer {r['layer']}'s units never fire")
        if r.get("saturated", 0) > 0.5:
            flags.append(
                f"saturation: {r['saturated']:.0%} of layer {r['layer']}'s activations are "
                "saturated"
            )
    return flags


_COLUMNS = [
    ("layer", "#"),
    ("type", "type"),
    ("activation", "act"),
    ("units", "units"),
    ("grad_norm", "grad norm"),
    ("weight_norm", "weight norm"),
    ("grad_to_weight", "grad/weight"),
    ("act_mean", "act mean"),
    ("act_std", "act std"),
    ("dead", "dead"),
    ("saturated", "saturated"),
]


def _table(rows) -> list:
    """The rows as right-aligned text lines under a header and a rule."""

    def f(v):
        return "" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))

    table = [[h for _, h in _COLUMNS]] + [[f(r.get(k)) for k, _ in _COLUMNS] for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(_COLUMNS))]
    lines = ["  ".join(row[c].rjust(widths[c]) for c in range(len(_COLUMNS))) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def gradient_check(
    model,
    X,
    y,
    *,
    eps: float = 1e-3,
    n_checks: int = 10,
    seed: int = 0,
    rows: int = 64,
    return_details: bool = False,
):
    """Compare backward's parameter gradients with central finite differences of the data loss.

    For ``n_checks`` random coordinates of each parameter tensor, the numeric gradient is
    ``(L(w + eps) - L(w - eps)) / (2 eps)`` on up to ``rows`` rows of (X, y). The forward runs in
    training mode with the current step counter, so dropout masks and batch statistics are the same
    in every evaluation (a deterministic function of the weights); batchnorm running statistics,
    weights and gradients are restored afterwards. Returns the max relative error
    ``|a - n| / max(|a|, |n|, 1e-4)`` (the floor keeps coordinates with a near-zero gradient from
    dominating). The core computes in float32, so expect about 1e-3..1e-2 for a correct gradient
    with eps=1e-3; ReLU kinks crossed by ±eps can give isolated larger errors.

    Parameters
    ----------
    model : Sequential
        A compiled model.
    X, y : array-like
        Data; up to ``rows`` rows of it are used.
    eps : float, default 1e-3
        The finite-difference step, > 0.
    n_checks : int, default 10
        Coordinates checked per parameter tensor.
    seed : int, default 0
        Seeds the choice of rows and coordinates.
    rows : int, default 64
        Rows of (X, y) in the loss.
    return_details : bool, default False
        Also return every coordinate checked.

    Returns
    -------
    float or (float, list)
        The max relative error; with ``return_details``, ``(max_error, [(name, index, analytic,
        numeric), ...])``.

    Raises
    ------
    ValueError
        When ``eps`` is not a number > 0, or X or y does not fit the model.
    RuntimeError
        When the model is not compiled.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore import diagnostics
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy")
    >>> err = diagnostics.gradient_check(model, X, y, eps=1e-2)
    >>> err < 0.05
    True
    >>> err, checked = diagnostics.gradient_check(model, X, y, n_checks=3, return_details=True)
    >>> len(checked), checked[0][0]  # 3 coordinates of 0.weight, 0.bias, 1.weight; 2 of 1.bias
    (11, '0.weight')
    """
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    x, yb = _prepare(model, X, y, rows, seed)
    params, buffers, grads = (model.engine.arena(w) for w in ("params", "buffers", "grads"))
    saved_buffers, saved_grads = buffers.copy(), grads.copy()
    rng = np.random.default_rng(seed)
    details = []

    def loss_at():
        out = model.engine.forward(x, True)
        if buffers.size:
            buffers[:] = saved_buffers
        return model.engine.loss(out, yb)[0]

    try:
        model.zero_grad()
        out = model.engine.forward(x, True)
        _, dout = model.engine.loss(out, yb)
        model.engine.backward(dout)
        analytic = model.engine.arena("grads").copy()
        if buffers.size:
            buffers[:] = saved_buffers
        for name, shape, offset, _layer in model.engine.param_entries():
            size = int(np.prod(shape))
            picks = rng.choice(size, min(n_checks, size), replace=False)
            for j in picks:
                k = offset + int(j)
                orig = params[k]
                params[k] = orig + np.float32(eps)
                model.engine.params_changed()
                lp = loss_at()
                params[k] = orig - np.float32(eps)
                model.engine.params_changed()
                lm = loss_at()
                params[k] = orig
                model.engine.params_changed()
                # The actual step sizes after float32 rounding.
                h = float(np.float32(orig + np.float32(eps))) - float(
                    np.float32(orig - np.float32(eps))
                )
                num = (lp - lm) / h
                details.append((name, np.unravel_index(int(j), shape), float(analytic[k]), num))
    finally:
        grads[:] = saved_grads
        if buffers.size:
            buffers[:] = saved_buffers
        model.engine.params_changed()
    err = 0.0
    for _, _, a, n in details:
        err = max(err, abs(a - n) / max(abs(a), abs(n), 1e-4))
    return (err, details) if return_details else err


__all__ = ["DiagnosticsRecorder", "gradient_check", "report", "series"]
