"""Engine: a model's C++ network and the calls the rest of the package makes on it.

Arrays handed in are already checked (float32, C-contiguous, right widths): checking user input
is the public face's job (``nncore.training.inputs``); this file only names the core's calls.
"""

from __future__ import annotations

import weakref

import numpy as np

from .. import _core, _losses
from .._validation import check_bool
from ..layers import Activation, Dense

_ARENAS = ("params", "grads", "buffers")


def core_specs(layers, loss):
    """(specs for the core, index of a final softmax/sigmoid folded into ``loss`` or None).
    Any other final activation is kept: its outputs are taken as logits (as in PyTorch)."""
    specs = [layer.spec() for layer in layers]
    want = _losses.OUTPUT_TRANSFORM.get(loss if isinstance(loss, str) else "")
    if want and specs:
        last = layers[-1]
        if isinstance(last, (Dense, Activation)) and last.activation == want:
            specs[-1] = dict(specs[-1], activation="linear")
            return specs, len(specs) - 1
    return specs, None


class Engine:
    """The C++ network built from ``specs`` (with the state of ``previous`` when given: a
    rebuild after ``compile`` changed the output folding keeps weights, buffers and step)."""

    def __init__(self, input_dim: int, specs, seed: int, stripped, previous=None, init=True):
        # init=False: weights left zero (a loaded model's arrays are copied in next)
        net = _core.Network(input_dim, specs, seed, init=init)
        if previous is not None:
            for which in ("params", "buffers"):
                net_arena(net, which)[:] = previous.arena(which)
            net.step = previous.step
            net.params_changed()
        self._net = net
        self.stripped = stripped  # index of the final activation folded into the loss, if any
        self._exposures: list[weakref.ref] = []  # owners of live parameters() views

    # ------------------------------------------------------------------ description
    @property
    def core(self):
        """The ``_core.Network`` itself, for tests and benchmarks that inspect it (profiles,
        fusion, workspace); the package's modules use the methods here."""
        return self._net

    @property
    def output_dim(self) -> int:
        return int(self._net.output_dim)

    @property
    def num_params(self) -> int:
        return int(self._net.num_params)

    @property
    def can_fold(self) -> bool:
        return bool(self._net.can_fold)

    def layer_info(self) -> list:
        """(kind, input width, output width) of every layer."""
        return list(self._net.layer_info())

    def param_entries(self) -> list:
        """(name, shape, offset in the arena, layer index) of every parameter."""
        return list(self._net.param_views())

    def buffer_entries(self) -> list:
        return list(self._net.buffer_views())

    # ---------------------------------------------------------------- arenas, views
    def arena(self, which: str) -> np.ndarray:
        """The flat, writable float32 arena ``which``: "params", "grads" or "buffers"."""
        if which not in _ARENAS:
            raise ValueError(f"unknown arena {which!r}")
        return net_arena(self._net, which)

    def views(self, which: str, arena: np.ndarray | None = None) -> dict:
        """Name -> view into ``arena`` (default the engine's arena ``which``) of each parameter
        ("params", "grads") or buffer ("buffers")."""
        base = self.arena(which) if arena is None else arena
        entries = self.buffer_entries() if which == "buffers" else self.param_entries()
        return {
            name: base[off : off + int(np.prod(shape))].reshape(shape)
            for name, shape, off, _layer in entries
        }

    def expose(self, owner) -> None:
        """Note a live owner of parameter views: until it is gone, every call re-reads the
        weights (a write through a view may come at any time)."""
        self._exposures.append(weakref.ref(owner))

    @property
    def params_exposed(self) -> bool:
        """True while a ``parameters()`` view may still be written (calls then re-read weights)."""
        return bool(self._exposures)

    def sync_exposed(self) -> None:
        """Before a call: the core re-packs only if a write came through the views since the
        last call (it watches the arena's pages while views are alive), then stops watching
        once every view is gone."""
        if self._exposures:
            self._exposures = [r for r in self._exposures if r() is not None]
            self._net.sync_param_writes(bool(self._exposures))

    def params_changed(self) -> None:
        """Tell the core that parameters or buffers were written (drops cached plans)."""
        self._net.params_changed()

    def state_arrays(self) -> dict:
        """Copies of the ``params`` and ``buffers`` arenas (what a model file stores)."""
        return {w: np.array(self.arena(w)) for w in ("params", "buffers")}

    def load_arrays(self, arrays: dict) -> None:
        """Writes saved ``params`` and ``buffers`` arenas, each checked first."""
        for key in ("params", "buffers"):
            a, target = arrays.get(key), self.arena(key)
            if a is None or np.shape(a) != target.shape or np.asarray(a).dtype != np.float32:
                raise ValueError(f"array {key!r} does not match the architecture")
            if key == "buffers" and not np.isfinite(a).all():
                raise ValueError(f"array {key!r} holds non-finite values")
            target[:] = a
        self._net.params_changed()

    # ------------------------------------------------------------- configuration
    @property
    def step(self) -> int:
        """The core's step counter (it keys the dropout masks)."""
        return int(self._net.step)

    @step.setter
    def step(self, value: int) -> None:
        self._net.step = int(value)

    def configure(self, loss, options: dict) -> None:
        """The loss (a callable runs in Python: the core keeps mse, unused) and the output
        transform ``predict`` applies."""
        name = loss if isinstance(loss, str) else ""
        self._net.set_output_transform(_losses.OUTPUT_TRANSFORM.get(name, "linear"))
        if callable(loss):
            self._net.set_loss("mse")
        elif loss is not None:
            try:
                self._net.set_loss(loss, 1.0, _losses.core_options(options))
            except ValueError as e:  # the core knows output_weight as class_weight
                if "output_weight" not in options:
                    raise
                raise ValueError(str(e).replace("class_weight", "output_weight")) from None

    def set_optimizer(self, core) -> None:
        self._net.set_optimizer(core)

    def set_batch_l2(self, alpha: float) -> None:
        """scikit-learn's ``alpha``: an L2 penalty on the Dense weights scaled by the batch,
        applied in every C++ training step (see Network::set_batch_l2)."""
        self._net.batch_l2 = float(alpha)

    # --------------------------------------------------------------- calls on batches
    def forward(self, x, training: bool, step: int | None = None) -> np.ndarray:
        return self._net.forward(x, check_bool(training, "training"), step)

    def forward_all(self, x, training: bool) -> list:
        """Every layer's output."""
        return self._net.forward_all(x, bool(training))

    def forward_mc(self, x, seed: int, sample: int, first_row: int) -> np.ndarray:
        return self._net.forward_mc(x, seed, sample, first_row)

    def outputs(self, X, chunk: int = 4096) -> np.ndarray:
        """Raw evaluation-mode outputs, ``chunk`` rows per core call (each row's output does not
        depend on the rows beside it)."""
        parts = [self._net.forward(X[i : i + chunk], False) for i in range(0, X.shape[0], chunk)]
        return np.concatenate(parts) if parts else np.empty((0, self.output_dim), np.float32)

    def predict(self, X, fold: bool) -> np.ndarray:
        return self._net.predict(X, bool(fold))

    def loss(self, out, y, sample_weight=None) -> tuple:
        """(loss, d loss / d out) for checked outputs, targets and weights."""
        return self._net.loss(out, y, sample_weight)

    def backward(self, dout) -> np.ndarray:
        return self._net.backward(dout)

    def zero_grad(self) -> None:
        self._net.zero_grad()

    def penalty(self) -> float:
        return float(self._net.penalty())

    def add_penalty_grads(self) -> None:
        """Add the l1/l2 gradient to the gradient arena (as fit does after backward)."""
        self._net.add_penalty_grads()

    def add_batch_l2(self, batch_weight: float) -> float:
        """Adds the ``alpha`` gradient for a batch of total weight ``batch_weight`` to the
        "grads" arena; returns its loss term."""
        return float(self._net.add_batch_l2(float(batch_weight)))

    def optimizer_step(self) -> dict:
        return self._net.optimizer_step()

    def loss_grad(self, x, y, sample_weight=None, accumulate: bool = False) -> float:
        """Mean loss of a batch, its gradient left in the "grads" arena (layer penalties
        included unless ``accumulate``, which adds to the arena instead); no update."""
        return self._net.loss_grad(x, y, sample_weight, accumulate)

    def train_step(self, x, y, sample_weight=None) -> dict:
        """Forward, loss, backward and update on one batch."""
        return self._net.train_step(x, y, sample_weight)

    def step_from_grad(self, grad) -> dict:
        """Backward from d loss / d outputs of the last training forward, then the update."""
        return self._net.step_from_grad(grad)

    def train_batches(self, X, y, sample_weight, batch_size: int, order, begin: int, end: int):
        """Batches ``begin`` to ``end`` of an epoch over ``X`` in ``order`` (None: row order)
        in one C++ call, at the optimizer's current learning rate; their summed statistics."""
        return self._net.train_epoch(X, y, sample_weight, batch_size, order, begin, end)

    def forward_blocks(self, x, rows, keys, first, global_rows, reducer) -> np.ndarray:
        """A data-parallel forward over this rank's row blocks (``nncore.distributed``)."""
        return self._net.forward_blocks(x, rows, keys, first, global_rows, reducer)

    def backward_blocks(self, dout, rows, keys, first, global_rows, reducer) -> None:
        self._net.backward_blocks(dout, rows, keys, first, global_rows, reducer)


def net_arena(net, which: str) -> np.ndarray:
    if which == "params":
        return net.params_array()
    return net.grads_array() if which == "grads" else net.buffers_array()
