"""The nncore network behind an estimator, seen the way scikit-learn's MLP code sees its own:
``coefs_``/``intercepts_`` in (in, out) layout, and a batch's loss and gradient with scikit-learn's
scaling (its loss per output activation, sample weights normalised by their sum, ``alpha``'s L2
term divided by that sum). Everything per batch runs in the C++ core (``alpha`` is the network's
``batch_l2``); this module rescales the core's weights and, where the core cannot take a whole
epoch in one call (sparse X, sample weights), moves rows in batches."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from .. import _core

# Rows per call into the core: a larger batch (L-BFGS's full batch) accumulates its gradient over
# chunks, so the workspace and the densified rows of a sparse X stay bounded. Fixed, so the sums
# (and the bits) do not depend on the thread count.
CHUNK = 4096

# scikit-learn's output activation -> (nncore loss, core weight factor, loss-value factor) as
# functions of the number of outputs k. The core normalises cross_entropy by n and the elementwise
# losses by n·k; scikit-learn's gradient is (output - y)/n per element for all four, its squared
# error value is a mean over outputs (halved), the others a sum over outputs.
_LOSSES = {
    "softmax": ("cross_entropy", lambda k: 1.0, lambda k: 1.0),
    "logistic": ("binary_cross_entropy", lambda k: float(k), lambda k: 1.0),
    "identity": ("mse", lambda k: k / 2.0, lambda k: 1.0 / k),
    "exp": ("poisson", lambda k: float(k), lambda k: 1.0),
}


def core_loss(out_activation: str) -> str:
    return _LOSSES[out_activation][0]


def dense_rows(X, rows) -> np.ndarray:
    """Rows of X (a slice or an index array) as a C-contiguous float32 block; a sparse X is
    densified here, one block at a time."""
    block = X[rows]
    if sp.issparse(block):
        block = block.toarray()
    return np.ascontiguousarray(block, dtype=np.float32)


class Engine:
    """A compiled :class:`nncore.Sequential` MLP and the views scikit-learn's attributes map to."""

    def __init__(self, model, out_activation: str, alpha: float, extra_penalty: bool):
        self.model = model
        self.out_activation = out_activation
        self.alpha = float(alpha)
        self.extra_penalty = extra_penalty
        self.n_out = model.engine.layer_info()[-1][2]
        dense = {i for i, (kind, _, _) in enumerate(model.engine.layer_info()) if kind == "dense"}
        self._w: list[tuple[int, tuple]] = []
        self._b: list[tuple[int, tuple]] = []
        for name, shape, off, layer in model.engine.param_entries():
            if layer in dense:
                (self._w if name.endswith("weight") else self._b).append((off, tuple(shape)))
        _, c, r = _LOSSES[out_activation]
        self._c, self._r = c(self.n_out), r(self.n_out)
        model.engine.set_batch_l2(self.alpha)

    # ----------------------------------------------------------------- scikit-learn's layout
    def _views(self, arena: np.ndarray):
        ws = [arena[o : o + s[0] * s[1]].reshape(s) for o, s in self._w]
        bs = [arena[o : o + s[0]] for o, s in self._b]
        return ws, bs

    def shapes(self) -> list:
        """The Dense weights' (out, in) shapes."""
        return [s for _, s in self._w]

    def read(self, dtype) -> tuple[list, list]:
        """Copies of the weights as scikit-learn's (coefs_, intercepts_), in ``dtype``."""
        ws, bs = self._views(self.model.engine.arena("params"))
        return [w.T.astype(dtype) for w in ws], [b.astype(dtype) for b in bs]

    def write(self, coefs, intercepts) -> None:
        ws, bs = self._views(self.model.engine.arena("params"))
        if len(coefs) != len(ws) or len(intercepts) != len(bs):
            raise ValueError(
                f"coefs_/intercepts_ hold {len(coefs)}/{len(intercepts)} arrays; the network "
                f"has {len(ws)} layers"
            )
        for w, c in zip(ws, coefs):
            c = np.asarray(c)
            if c.shape != w.T.shape:
                raise ValueError(f"a coefs_ array has shape {c.shape}, expected {w.T.shape}")
            w[...] = c.T
        for b, c in zip(bs, intercepts):
            c = np.asarray(c).reshape(-1)
            if c.shape != b.shape:
                raise ValueError(f"an intercepts_ array has shape {c.shape}, expected {b.shape}")
            b[...] = c
        self.model.engine.params_changed()

    def same_as(self, coefs, intercepts) -> bool:
        """Whether (coefs_, intercepts_) still equal the network's weights (read-only check)."""
        ws, bs = self._views(self.model.engine.arena("params"))
        try:
            return all(np.array_equal(w.T, c) for w, c in zip(ws, coefs)) and all(
                np.array_equal(b, np.ravel(c)) for b, c in zip(bs, intercepts)
            )
        except (TypeError, ValueError):
            return False

    def params_flat(self) -> np.ndarray:
        """The arena in scikit-learn's packing order: every coef (in, out) row-major, then every
        intercept; float64 for scipy."""
        ws, bs = self._views(self.model.engine.arena("params"))
        return np.concatenate([w.T.ravel() for w in ws] + list(bs)).astype(np.float64)

    def set_params_flat(self, theta: np.ndarray) -> None:
        ws, bs = self._views(self.model.engine.arena("params"))
        pos = 0
        for w in ws:
            k = w.size
            w[...] = theta[pos : pos + k].reshape(w.T.shape).T
            pos += k
        for b in bs:
            b[...] = theta[pos : pos + b.size]
            pos += b.size
        self.model.engine.params_changed()

    def grads_flat(self) -> np.ndarray:
        ws, bs = self._views(self.model.engine.arena("grads"))
        return np.concatenate([w.T.ravel() for w in ws] + list(bs)).astype(np.float64)

    def segments(self) -> list:
        """The (offset, size) of every Dense weight and bias in the parameter arena: the
        variables of the core's L-BFGS (in arena order; the solver does not depend on it)."""
        return [(o, s[0] * s[1]) for o, s in self._w] + [(o, s[0]) for o, s in self._b]

    @property
    def loss_factor(self) -> float:
        """scikit-learn's loss value over the core's (see _LOSSES)."""
        return self._r

    def chunk_weights(self, n: int, sw, chunk: int):
        """The per-row float32 weights :meth:`loss_grad` passes with each chunk of a full batch
        of n rows, as one array (None where no chunk needs any), and the batch's weight sum."""
        total_w = float(n) if sw is None else float(np.sum(sw))
        if sw is None and n <= chunk and self._c == 1.0:
            return None, total_w
        w = np.empty(n, dtype=np.float32)
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            scale = m * self._c / total_w
            w[i : i + m] = scale if sw is None else sw[i : i + m] * scale
        return w, total_w

    # ------------------------------------------------------------------- loss and gradient
    def targets(self, Y: np.ndarray):
        """Y (n, k) as the core reads it: class indices for softmax, float32 otherwise."""
        if self.out_activation == "softmax":
            return np.ascontiguousarray(np.argmax(Y, axis=1), dtype=np.int32)
        return np.ascontiguousarray(Y, dtype=np.float32)

    def loss_grad(self, X, rows, T, sw) -> float:
        """scikit-learn's loss of the batch X[rows] (targets T[rows] from :meth:`targets`, sample
        weights sw[rows] or None) with the gradient left in the grads arena."""
        idx = np.arange(X.shape[0])[rows] if isinstance(rows, slice) else rows
        n = len(idx)
        parts: list
        if isinstance(rows, slice) and rows.step in (None, 1):
            parts = [
                slice(rows.start + i, rows.start + min(i + CHUNK, n)) for i in range(0, n, CHUNK)
            ]
        else:
            parts = [idx[i : i + CHUNK] for i in range(0, n, CHUNK)]
        w_all = None if sw is None else sw[idx]
        total_w = float(n) if w_all is None else float(w_all.sum())
        total = 0.0
        for j, part in enumerate(parts):
            xb = dense_rows(X, part)
            m = xb.shape[0]
            scale = m * self._c / total_w
            if w_all is None:
                w = None if scale == 1.0 else np.full(m, scale, dtype=np.float32)
            else:
                w = (w_all[j * CHUNK : j * CHUNK + m] * scale).astype(np.float32)
            total += self.model.engine.loss_grad(xb, T[part], w, accumulate=j > 0)
        loss = total * self._r
        if self.extra_penalty:
            loss += float(self.model.penalty())
        if self.alpha:
            # scikit-learn's L2 term: alpha/2·ΣW²/Σw on the loss, alpha·W/Σw on the weights'
            # gradients (biases are not penalised), added after the whole batch's gradient
            loss += self.model.engine.add_batch_l2(total_w)
        return loss

    # ------------------------------------------------------------------------ whole epochs
    @staticmethod
    def can_train_epoch(X, sw) -> bool:
        """Whether :meth:`train_epoch` takes this data: a dense X without sample weights (the
        core normalises a batch by its rows; scikit-learn's weighted batches by their weight
        sum, which :meth:`loss_grad` applies batch by batch)."""
        return sw is None and isinstance(X, np.ndarray)

    def epoch_weights(self, n: int):
        """The per-row weights that turn the core's loss normalisation into scikit-learn's
        (the factor loss_grad applies per batch), or None where none is needed."""
        return None if self._c == 1.0 else np.full(n, self._c, dtype=np.float32)

    def train_epoch(self, X, T, w, batch_size: int, order) -> float:
        """One epoch in one C++ call: every batch's forward, loss, backward, ``alpha`` term and
        optimizer step. ``order`` is the row permutation (None: in order), sorted within each
        batch as :meth:`loss_grad`'s callers do. Returns the sum over batches of (loss × rows),
        as the per-batch path accumulates it."""
        nb = -(-X.shape[0] // batch_size)
        st = self.model.engine.train_batches(X, T, w, batch_size, order, 0, nb)
        return st["loss_sum"] * self._r + st["penalty_sum"]

    # ---------------------------------------------------------------------------- outputs
    def outputs(self, X) -> np.ndarray:
        """The core's float32 outputs (before the output activation), in chunks of rows."""
        n = X.shape[0]
        if n <= CHUNK:
            return self.model.engine.forward(dense_rows(X, slice(0, n)), False)
        out = np.empty((n, self.n_out), dtype=np.float32)
        for i in range(0, n, CHUNK):
            rows = slice(i, min(i + CHUNK, n))
            out[rows] = self.model.engine.forward(dense_rows(X, rows), False)
        return out

    def infer_rows(self, X):
        """The core's float32 outputs of a dense float X in one pass over it (converted and
        checked chunk by chunk in C++); None for any other X or when X holds a NaN or an
        infinity (also a float64 beyond float32's range)."""
        if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in (np.float32, np.float64):
            return None
        return _core.infer_rows(self.model.engine.core, X)

    def activate(self, z: np.ndarray, dtype) -> np.ndarray:
        """The output activation of the core's outputs ``z``, computed in ``dtype``, so float64
        probabilities saturate where scikit-learn's do, not at float32's."""
        return _OUT_ACTIVATIONS[self.out_activation](z.astype(dtype, copy=False))


def _softmax(z):
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _exp(z):
    with np.errstate(over="ignore"):
        return np.exp(z, out=z)


_OUT_ACTIVATIONS = {
    "softmax": _softmax,
    "logistic": lambda z: expit(z, out=z),
    "identity": lambda z: z,
    "exp": _exp,
}
