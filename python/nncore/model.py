"""Sequential: a stack of layers run by the C++ core, with a Keras-style ``compile``/``fit`` and
PyTorch-style ``forward``/``backward``/``train_step`` for user-written loops.

``fit`` hands whole runs of batches to C++ (shuffle order, gather, forward, loss, backward, update,
all with the GIL released) and comes back to Python only between chunks of batches, for callbacks,
progress and Ctrl-C.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import numpy as np

from . import _core, _custom_loss, _fork, _format, _losses, _mc_dropout
from . import metrics as _metrics
from ._split import holdout_indices
from ._validation import (
    check_fraction,
    check_labels,
    check_positive_int,
    check_sample_weight,
    check_seed,
    check_targets,
    check_weights,
    check_X,
)
from .callbacks import Callback, CallbackList, History
from .embedding import _CodesInput
from .layers import Activation, Dense, Layer, Residual, layer_from_config

LOSSES = _losses.LOSSES
_LOSS_ALIASES = _losses.ALIASES
_OUTPUT_TRANSFORM = _losses.OUTPUT_TRANSFORM
_CHUNK_SECONDS = 0.05  # fit returns to Python about this often (Ctrl-C, progress, callbacks)
_MAX_COUNT = 2**63 - 1  # step and epoch counters are 64-bit in the core
# Statistics that train_epoch returns per call and fit sums over an epoch.
_EPOCH_SUMS = ("loss_sum", "penalty_sum", "rows", "correct", "skipped_nonfinite")
# The active nncore.distributed context (set by distributed.init): fit then trains over MPI ranks.
_DISTRIBUTED: list[Any] = [None]


def _task_of(loss, k: int | None) -> str | None:
    """binary / multiclass / multilabel / regression, from the loss and the number of outputs:
    which metrics fit (``metrics.for_task``). None when unknown (no outputs yet, a callable)."""
    if loss in _losses.SOFTMAX_LOSSES:
        return "multiclass"
    if loss in _losses.SIGMOID_LOSSES:
        return None if k is None else ("multilabel" if k > 1 else "binary")
    return "regression" if isinstance(loss, str) else None


class _ViewOwner:
    """The owner of one ``parameters()`` call's views. numpy makes this object the base of every
    array derived from them (slices, reshapes, ``np.asarray``), so while it is alive a write into
    the arena may still come; once it is gone none can, and predict stops re-packing weights."""

    def __init__(self, arena: np.ndarray) -> None:
        self._arena = arena
        self.__array_interface__ = arena.__array_interface__


class Parameters(dict):
    """Parameter name -> writable numpy view into the model's arena (e.g. ``"0.weight"``).

    What :meth:`Sequential.parameters` returns: a dict whose values are float32 views (a Dense
    layer's ``"i.weight"`` has shape (units, inputs) as in PyTorch, ``"i.bias"`` (units,)), so a
    write changes the model's weights; ``model`` is the model they belong to, which is how an
    optimizer built from ``model.parameters()`` finds it.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> params = model.parameters()
    >>> {name: p.shape for name, p in params.items()}
    {'0.weight': (3, 4), '0.bias': (3,), '1.weight': (2, 3), '1.bias': (2,)}
    >>> params["1.bias"][:] = 1.0  # writes go into the model
    >>> model.predict(np.zeros((1, 4), np.float32))
    array([[1., 1.]], dtype=float32)
    >>> opt = nc.optim.SGD(params, lr=0.1)  # finds the model through params.model
    >>> params.model is model
    True
    """

    model: Sequential | None = None


def _rows(arrays, idx):
    """The rows ``idx`` of each array (None stays None)."""
    return tuple(None if a is None else a[idx] for a in arrays)


def _schedulers(schedulers) -> list:
    """fit's ``schedulers`` as a list, each checked for the scheduler protocol."""
    if schedulers is None:
        return []
    scheds = list(schedulers if isinstance(schedulers, (list, tuple)) else [schedulers])
    for s in scheds:
        if not all(hasattr(s, a) for a in ("interval", "step_batch", "step_epoch")):
            raise TypeError(
                "schedulers must be nncore.lr_scheduler schedulers (with interval, step_batch() "
                f"and step_epoch(logs)), got {s!r}"
            )
    return scheds


def _summary_rows(layers, prefix: str, width, counts: dict, depth: int):
    """(name, description, output width, parameters) of each layer, a block's layers indented
    under it (``"3.body.0"``) and its projection after them (``"3.proj"``)."""
    for j, layer in enumerate(layers):
        name, pad = f"{prefix}{j}", "  " * depth
        before, width = width, layer.output_width(width)
        if not isinstance(layer, Residual):
            yield pad + name, repr(layer), width, counts.get(name, 0)
            continue
        total = sum(c for k, c in counts.items() if k.startswith(name + "."))
        yield pad + name, f"Residual(projection={layer.projection!r})", width, total
        yield from _summary_rows(layer.layers, f"{name}.body.", before, counts, depth + 1)
        if f"{name}.proj" in counts:
            yield f"{pad}  {name}.proj", "projection x·Pᵀ (no bias)", width, counts[f"{name}.proj"]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Sequential:
    """A feed-forward network: layers applied in order.

    Parameters
    ----------
    layers : list of Layer
        E.g. ``[Dense(128, "relu"), Dropout(0.2), Dense(10)]``.
    input_dim : int, optional
        Number of input features. If omitted, it is taken from the data at the first call.
    seed : int, default 0
        Seeds weight initialization, dropout masks and the default shuffling of ``fit``; in
        [0, 2**64).

    Raises
    ------
    TypeError
        When a layer is not an nncore layer.
    ValueError
        When ``input_dim`` is not a positive integer or ``seed`` is out of range.

    Examples
    --------
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(32, "relu"), nc.Dense(3)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    >>> history = model.fit(X, y, epochs=5, batch_size=16)
    >>> model.predict(X[:2]).shape
    (2, 3)
    >>> sorted(model.evaluate(X, y))
    ['accuracy', 'loss']
    """

    def __init__(self, layers=None, *, input_dim: int | None = None, seed: int = 0):
        self.layers: list[Layer] = []
        for layer in layers or []:
            self.add(layer)
        if input_dim is not None:
            check_positive_int(input_dim, "input_dim")
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= seed < 2**64
        ):
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        self.input_dim = input_dim
        self.seed = int(seed)
        self.loss: str | None = None
        self.huber_delta = 1.0
        self.loss_options: dict = {}
        self.metrics: list = []
        self.optimizer: Any = None  # an nncore.optim.Optimizer once compiled
        self.history: History | None = None
        self.stop_training = False
        self.epochs_done = 0
        self._net: Any = None  # the _core.Network, once built
        self._stripped = None  # index of the final activation folded into the loss, if any
        self._params_exposed = False
        self._exposures: list[weakref.ref] = []  # one per parameters() call (see _ViewOwner)
        if input_dim is not None and self.layers:
            self.build()

    # ----------------------------------------------------------------------------- building
    def add(self, layer: Layer) -> Sequential:
        """Append a layer (before the model is built)."""
        if not isinstance(layer, Layer):
            raise TypeError(
                "expected an nncore layer (Dense, Activation, BatchNorm, LayerNorm, Dropout, "
                f"Residual, Embedding, TabularInput), got {layer!r}"
            )
        if getattr(self, "_net", None) is not None:
            raise RuntimeError("cannot add layers to a built model")
        self.layers.append(layer)
        return self

    def _core_specs(self):
        """Specs for the core, with a final softmax/sigmoid folded into a matching loss."""
        specs = [layer.spec() for layer in self.layers]
        stripped = None
        want = _OUTPUT_TRANSFORM.get(self.loss or "")
        if want and specs:
            last = self.layers[-1]
            if isinstance(last, (Dense, Activation)) and last.activation == want:
                specs[-1] = dict(specs[-1], activation="linear")
                stripped = len(specs) - 1
        # Any other final activation is kept: its outputs are taken as logits (as in PyTorch).
        return specs, stripped

    @property
    def built(self) -> bool:
        """True once the core network exists (after ``build``, ``compile`` with an input size,
        or the first ``fit``)."""
        return self._net is not None

    def build(self, input_dim: int | None = None, *, _init: bool = True) -> Sequential:
        """Create the network in the core (done automatically on first use). (``_init=False``,
        for loading: the weights stay zero until the file's are copied in.)"""
        if input_dim is not None:
            check_positive_int(input_dim, "input_dim")
            if self.input_dim is not None and input_dim != self.input_dim:
                raise ValueError(f"input_dim {input_dim} differs from the model's {self.input_dim}")
            self.input_dim = input_dim
        if self.input_dim is None:
            raise ValueError("input_dim is unknown: pass input_dim= to Sequential or build()")
        if not self.layers:
            raise ValueError("the model has no layers")
        specs, stripped = self._core_specs()
        old = self._net
        net = _core.Network(self.input_dim, specs, self.seed, init=_init)
        if old is not None:  # rebuilt after compile changed the output folding: keep the state
            net.params_array()[:] = old.params_array()
            net.buffers_array()[:] = old.buffers_array()
            net.step = old.step
            net.params_changed()
        self._net, self._stripped = net, stripped
        self._configure_net()
        return self

    def _configure_net(self):
        net = self._net
        net.set_output_transform(_OUTPUT_TRANSFORM.get(self.loss or "", "linear"))
        if callable(self.loss):
            net.set_loss("mse")  # unused: a Python loss runs its own path (_custom_loss)
        elif self.loss is not None:
            net.set_loss(self.loss, self.huber_delta, self.loss_options)
        if self.optimizer is not None:
            self.optimizer._attach(self)

    def _ensure_built(self, X: np.ndarray):
        if self._net is None:
            self.build(X.shape[1])

    def _check_X(self, X, name="X"):
        _fork.check(stacklevel=4)
        first = self.layers[0] if self.layers else None
        if isinstance(first, _CodesInput):  # codes: NaN and unknown codes handled per column
            X = first._check_input(X, self.input_dim, name)
        else:
            X = check_X(X, n_features=self.input_dim, name=name)
        self._ensure_built(X)
        if self._params_exposed:
            self._exposures = [r for r in self._exposures if r() is not None]
            self._params_exposed = bool(self._exposures)
            # The core re-packs only if a write came through the views since the last call (it
            # watches the arena's pages while views are alive), then stops watching once every
            # view is gone.
            self._net.sync_param_writes(self._params_exposed)
        return X

    def compile(
        self,
        optimizer="adam",
        loss: Any = "mse",
        metrics=None,
        *,
        huber_delta: float = 1.0,
        loss_options: dict | None = None,
    ) -> Sequential:
        """Choose the optimizer, the loss and the metrics reported by fit/evaluate.

        Parameters
        ----------
        optimizer : str or nncore.optim optimizer
            ``"sgd"``, ``"adam"``, ... (PyTorch defaults) or an instance such as
            ``nncore.optim.Adam(lr=1e-3)``.
        loss : str or callable
            A callable ``fn(y_pred, y_true) -> (loss, grad)`` on numpy arrays runs through a
            slower path, one Python call per batch (see ``nncore._custom_loss``). Names:
            ``mse``, ``mae``, ``huber``, ``cross_entropy`` (integer labels or one-hot rows; the model
            outputs logits, ``predict`` returns softmax probabilities), ``binary_cross_entropy``
            (on logits; ``predict`` returns sigmoid probabilities), ``focal`` (multi-class, integer
            labels, softmax), ``binary_focal`` (torchvision's sigmoid focal loss, targets in
            [0, 1]) or ``quantile`` (pinball loss; one output per quantile).
        loss_options : dict
            The loss's options (``nncore._core.schema()["losses"]`` lists them):
            ``label_smoothing`` (cross_entropy, PyTorch's definition), ``gamma`` (focal,
            binary_focal), ``alpha`` (binary_focal; < 0: none), ``class_weight`` (one weight per
            class for cross_entropy/focal, PyTorch's ``weight=``; one per output column for
            binary_cross_entropy/binary_focal), ``quantiles`` (one, or one per output).
        metrics : list of str or callables
            E.g. ``["accuracy"]``; see :mod:`nncore.metrics`.
        """
        from . import optim as _optim

        name: Any
        if callable(loss):
            if loss_options:
                raise ValueError("loss_options are for the built-in losses, not a callable")
            name, options = loss, {}
        elif not isinstance(loss, str):
            raise ValueError(f"loss must be a string or a callable, got {loss!r}")
        else:
            name = _losses.canonical(loss)
            options = _losses.check_options(name, loss_options)
        if not (isinstance(huber_delta, (int, float)) and huber_delta > 0):
            raise ValueError(f"huber_delta must be > 0, got {huber_delta!r}")
        metric_list = (
            []
            if metrics is None
            else list(metrics if isinstance(metrics, (list, tuple)) else [metrics])
        )
        for m in metric_list:
            _metrics.for_task(m, _task_of(name, self._output_width()))
        opt = _optim.get(optimizer)
        if not hasattr(opt, "_attach"):  # hardening: not an nncore optimizer (e.g. 5, None)
            raise TypeError(
                f"optimizer must be a name such as 'adam' or an nncore.optim optimizer, got {optimizer!r}"
            )
        old_loss = self.loss
        self.loss, self.huber_delta, self.metrics, self.optimizer = (
            name,
            float(huber_delta),
            metric_list,
            opt,
        )
        self.loss_options = options
        try:
            self._core_specs()
        except ValueError:
            self.loss = old_loss
            raise

        if self._net is not None:
            if self._core_specs()[1] != self._stripped:
                self.build()
            else:
                self._configure_net()
        elif self.input_dim is not None:
            self.build()
        return self

    def _output_width(self) -> int | None:
        """The number of outputs as the layers' specs give it (before the network is built)."""
        if self._net is not None:
            return self._net.output_dim
        width = self.input_dim
        for layer in self.layers:
            width = layer.output_width(width)
        return width

    def _require_compiled(self):
        if self.loss is None or self.optimizer is None:
            raise RuntimeError(
                "the model is not compiled: call model.compile(optimizer=..., loss=...) first"
            )

    # ------------------------------------------------------------------------------ targets
    def _check_y(self, y, n: int, name: str = "y"):
        k = self._net.output_dim
        if callable(self.loss):  # the function reads y as it likes; only the rows must match
            arr = np.asarray(y)
            if arr.ndim == 0 or arr.shape[0] != n:
                raise ValueError(f"{name}: expected {n} rows, got shape {arr.shape}")
            return arr
        if self.loss == "focal":
            if k < 2:
                raise ValueError("focal needs at least 2 outputs (use binary_focal for one)")
            return check_labels(np.asarray(y), n, k, name)
        if self.loss == "quantile":
            arr = np.asarray(y)
            if k > 1 and (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
                arr = np.repeat(arr.reshape(-1, 1), k, axis=1)  # one column, several quantiles
            return check_targets(arr, n, k, name)
        if self.loss == "cross_entropy":
            arr = np.asarray(y)
            if arr.ndim == 2 and arr.shape[1] == k and k > 1 and arr.dtype.kind == "f":
                t = check_targets(arr, n, k, name)
                if (t < 0).any():
                    raise ValueError(f"{name}: class probabilities must be >= 0")
                return t
            if k < 2:
                raise ValueError(
                    "cross_entropy needs at least 2 outputs (use binary_cross_entropy for one)"
                )
            return check_labels(arr, n, k, name)
        t = check_targets(y, n, k, name)
        if self.loss in _losses.SIGMOID_LOSSES and ((t < 0) | (t > 1)).any():
            raise ValueError(f"{name}: {self.loss} targets must lie in [0, 1]")
        return t

    def _class_weights(self, y, class_weight, sample_weight):
        if class_weight is None:
            return sample_weight
        if self.loss not in _losses.SOFTMAX_LOSSES or y.ndim != 1:
            raise ValueError("class_weight needs cross_entropy or focal with integer labels")
        k = self._net.output_dim
        if class_weight == "balanced":
            counts = np.bincount(y, minlength=k).astype(np.float64)
            cw = np.where(counts > 0, len(y) / (k * np.maximum(counts, 1)), 0.0)
        elif isinstance(class_weight, dict):
            cw = np.ones(k)
            for c, w in class_weight.items():
                if not 0 <= int(c) < k:
                    raise ValueError(f"class_weight: class {c!r} is out of range for {k} outputs")
                cw[int(c)] = float(w)
        else:
            raise ValueError("class_weight must be a dict {class: weight} or 'balanced'")
        w = cw[y].astype(np.float32)
        return w if sample_weight is None else (w * sample_weight).astype(np.float32)

    # ------------------------------------------------------------------------------ training
    def fit(
        self,
        X,
        y=None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        validation_split: float = 0.0,
        validation_data=None,
        callbacks=None,
        schedulers=None,
        verbose: int = 0,
        sample_weight=None,
        class_weight=None,
        diagnostics: bool = False,
        steps_per_epoch: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over (X, y); returns the :class:`History`.

        Each epoch shuffles the rows (seeded by ``seed``, default the model seed, and the epoch
        number, so a run is reproducible and resumable), runs all batches in C++ and records the mean
        data loss (``loss``), the regularization term (``reg_loss``), the learning rate, the epoch time
        and, with validation data, ``val_loss`` and ``val_<metric>``. ``validation_split`` holds out a
        shuffled (and for classification stratified) fraction of the rows — unlike Keras, which takes
        the last rows. With BatchNorm, a final batch of one row is dropped. ``schedulers`` are
        ``nncore.lr_scheduler`` objects, stepped per batch or per epoch by their ``interval``.
        Ctrl-C stops at a batch boundary; the history so far is kept in ``model.history``.

        ``X`` may also be a source of ``(X_batch, y_batch)`` chunks (with ``y=None``): a
        re-iterable, a callable returning an iterator per epoch, or a dask array (see
        :mod:`nncore.streaming`); ``steps_per_epoch`` then bounds the chunks per epoch. After
        ``nncore.distributed.init()``, fit trains one model over all MPI ranks.
        """
        args: dict[str, Any] = dict(
            epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed
        )
        ctx = _DISTRIBUTED[0]
        if ctx is not None:
            return ctx.fit(
                self,
                X,
                y,
                **args,
                validation_split=validation_split,
                validation_data=validation_data,
                callbacks=callbacks,
                schedulers=schedulers,
                verbose=verbose,
                sample_weight=sample_weight,
                class_weight=class_weight,
                diagnostics=diagnostics,
            )
        if y is None or steps_per_epoch is not None or type(X).__module__.startswith("dask"):
            from . import streaming

            if streaming.is_source(X, y):
                return streaming.fit_source(
                    self,
                    X,
                    y,
                    **args,
                    steps_per_epoch=steps_per_epoch,
                    validation_data=validation_data,
                    callbacks=callbacks,
                    schedulers=schedulers,
                    verbose=verbose,
                )
            if y is None:
                raise TypeError(
                    "fit needs y, unless X is a source of (X, y) chunks (see nncore.streaming)"
                )
            if steps_per_epoch is not None:
                raise ValueError("steps_per_epoch applies only when X is a source of chunks")
        self._require_compiled()
        X, y, sw = self._fit_inputs(X, y, sample_weight, class_weight)
        epochs = check_positive_int(epochs, "epochs", minimum=0)
        batch_size = check_positive_int(batch_size, "batch_size")
        seed = check_seed(self.seed if seed is None else seed, "seed")  # hardening
        (X, y, sw), val = self._validation_rows(X, y, sw, seed, validation_split, validation_data)
        history, cb = self._fit_callbacks(callbacks, X, y, epochs, verbose, diagnostics)
        scheds = _schedulers(schedulers)
        n = X.shape[0]
        nbatches = -(-n // batch_size)
        self.stop_training = False
        cb.on_train_begin({"epochs": epochs, "batches": nbatches, "samples": n})
        for epoch in range(self.epochs_done, self.epochs_done + epochs):
            cb.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            order = None
            if shuffle:
                order = np.random.default_rng([int(seed), epoch]).permutation(n).astype(np.int64)
            totals = self._run_epoch(X, y, sw, batch_size, order, scheds, cb)
            logs = self._epoch_logs(totals, val, t0)
            self.epochs_done = epoch + 1
            for s in scheds:
                s.step_epoch(logs)
            cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cb.on_train_end({})
        return history

    def _fit_inputs(self, X, y, sample_weight, class_weight):
        """fit's (X, y, sample weights) checked, with class weights folded into the weights."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        sw = check_sample_weight(sample_weight, X.shape[0])
        return X, y, self._class_weights(y, class_weight, sw)

    def _validation_rows(self, X, y, sw, seed, validation_split, validation_data):
        """((X, y, sw) to train on, (X, y, sw) to validate on or None)."""
        validation_split = check_fraction(validation_split, "validation_split")  # hardening
        if validation_data is not None and validation_split:
            raise ValueError("give either validation_split or validation_data, not both")
        if validation_split:
            strat = y if (self.loss in _losses.SOFTMAX_LOSSES and y.ndim == 1) else None
            tr, va = holdout_indices(X.shape[0], validation_split, seed, stratify=strat)
            return _rows((X, y, sw), tr), _rows((X, y, sw), va)
        if validation_data is None:
            return (X, y, sw), None
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight)"
            )
        Xv = self._check_X(validation_data[0], "validation_data X")
        yv = self._check_y(validation_data[1], Xv.shape[0], "validation_data y")
        wv = None
        if len(validation_data) == 3:
            wv = check_sample_weight(validation_data[2], Xv.shape[0])
        return (X, y, sw), (Xv, yv, wv)

    def _fit_callbacks(self, callbacks, X, y, epochs, verbose, diagnostics):
        """(History, callbacks): a fresh History (also ``self.history``) and every callback in
        calling order."""
        history = History()
        self.history = history
        cbs = list(callbacks or [])
        for c in cbs:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be nncore.callbacks.Callback instances, got {c!r}")
        # Order matters: diagnostics add to the epoch logs before History records them, and the
        # progress display prints them.
        chain: list[Callback] = []
        if diagnostics:
            from .diagnostics import DiagnosticsRecorder

            chain.append(DiagnosticsRecorder(X, y))
        chain.append(history)
        if verbose:
            from .progress import ProgressLogger

            chain.append(ProgressLogger(verbose=verbose, epochs=epochs))
        return history, CallbackList([*chain, *cbs], self)

    def _run_epoch(self, X, y, sw, batch_size, order, scheds, cb) -> dict:
        """One pass over the rows in ``order``, handed to C++ in chunks of batches; returns the
        summed statistics of the epoch (and the last gradient norm)."""
        if callable(self.loss):
            _custom_loss.no_weights(sw)
        n = X.shape[0]
        nbatches = -(-n // batch_size)
        per_batch = [s for s in scheds if s.interval == "batch"]
        if callable(self.loss):
            return _custom_loss.run_epoch(
                self, self._net, X, y, batch_size, order, per_batch, cb, _EPOCH_SUMS
            )
        totals: dict[str, float] = dict.fromkeys(_EPOCH_SUMS, 0)
        totals["grad_norm"] = -1.0
        b = 0
        # A per-batch schedule steps after every optimizer step (as in a PyTorch loop).
        chunk = 1 if cb.wants_batches or per_batch else max(1, min(nbatches, 4))
        while b < nbatches:
            end = min(nbatches, b + chunk)
            t1 = time.perf_counter()
            st = self._net.train_epoch(X, y, sw, batch_size, order, b, end, None)
            dt = time.perf_counter() - t1
            if st["batches"]:
                for s in per_batch:
                    s.step_batch()
            for key in _EPOCH_SUMS:
                totals[key] += st.get(key, 0)
            totals["grad_norm"] = st["grad_norm"]
            b = end
            rows = max(totals["rows"], 1)
            logs = {"batch": b - 1, "batches": nbatches, "loss": totals["loss_sum"] / rows}
            if self._has_accuracy():
                logs["accuracy"] = totals["correct"] / rows
            if totals["skipped_nonfinite"]:  # TerminateOnNaN stops on it
                logs["nonfinite_steps"] = int(totals["skipped_nonfinite"])
            cb.on_batch_end(b - 1, logs)
            if self.stop_training:
                break
            if not (cb.wants_batches or per_batch):  # aim for ~_CHUNK_SECONDS per call
                batch_seconds = dt / max(st["batches"], 1)
                chunk = nbatches if batch_seconds <= 0 else int(_CHUNK_SECONDS / batch_seconds)
                chunk = max(1, min(nbatches, chunk))
        return totals

    def _epoch_logs(self, totals, val, t0) -> dict:
        """The epoch's log line: training means, validation scores, lr, time, gradient norm."""
        rows = max(totals["rows"], 1)
        logs = {"loss": totals["loss_sum"] / rows, "reg_loss": totals["penalty_sum"] / rows}
        if self._has_accuracy():
            logs["accuracy"] = totals["correct"] / rows
        if val is not None:
            for k, v in self.evaluate(*val[:2], sample_weight=val[2]).items():
                logs["val_" + k] = v
        logs["lr"] = float(self.optimizer.lr)
        logs["time"] = time.perf_counter() - t0
        if totals["grad_norm"] >= 0:
            logs["grad_norm"] = totals["grad_norm"]
        if totals["skipped_nonfinite"]:
            logs["nonfinite_steps"] = int(totals["skipped_nonfinite"])
        return logs

    def _has_accuracy(self):
        return self.loss in _losses.SOFTMAX_LOSSES and any(
            m in ("accuracy", "acc") for m in self.metrics
        )

    # ----------------------------------------------------------------------------- inference
    def predict(
        self,
        X,
        *,
        fold_batchnorm: bool | None = None,
        mc_samples: int | None = None,
        seed: int | None = None,
        return_std: bool = False,
    ):
        """Outputs for X in evaluation mode: softmax probabilities for cross_entropy, sigmoid
        probabilities for binary_cross_entropy, the raw outputs otherwise. Shape (n, outputs).

        By default a folded plan runs: each evaluation-mode BatchNorm is folded into the
        preceding Dense's weights and bias, activations into the GEMM epilogue and Dropout is
        skipped, so each Dense is one GEMM and no layer's output makes an extra pass over memory
        (5-10 % faster at every batch size). It equals the layer-by-layer evaluation up to
        float32 rounding; ``fold_batchnorm=False`` (and Monte-Carlo dropout) runs layer by layer, with the same bits as
        ``forward(X, training=False)`` and ``evaluate``. Networks the plan cannot express run
        layer by layer either way.

        ``mc_samples=N`` is Monte-Carlo dropout: the mean of those outputs over N dropout masks
        (batchnorm stays in evaluation mode), and with ``return_std=True`` also their standard
        deviation, as ``(mean, std)``. The masks are keyed by ``seed`` (default the model's
        seed), the sample index and the rows' positions (``nncore._mc_dropout``): the same
        arguments give the same bits on every thread count and ISA."""
        X = self._check_X(X)
        if mc_samples is None:
            if return_std or seed is not None:
                raise ValueError("seed and return_std need mc_samples (Monte-Carlo dropout)")
            return self._net.predict(X, fold_batchnorm is None or bool(fold_batchnorm))
        if fold_batchnorm:
            raise ValueError("fold_batchnorm skips dropout: it cannot be used with mc_samples")
        return _mc_dropout.mc_predict(
            self._net,
            X,
            self._transform,
            _mc_dropout.check_mc_samples(mc_samples),
            self.seed if seed is None else seed,
            bool(return_std),
        )

    def _outputs_and_loss(self, X, y, sw, chunk: int = 4096):
        """Raw outputs (evaluation mode) and the mean data loss, in chunks to bound memory."""
        out = self._outputs(X, chunk)
        return out, self._loss_of_outputs(out, y, sw, chunk)

    def _outputs(self, X, chunk: int = 4096) -> np.ndarray:
        """Raw evaluation-mode outputs of checked rows, ``chunk`` rows per core call (each row's
        output does not depend on the rows beside it)."""
        parts = [self._net.forward(X[i : i + chunk], False) for i in range(0, X.shape[0], chunk)]
        return np.concatenate(parts) if parts else np.empty((0, self._output_dim()), np.float32)

    def _loss_of_outputs(self, out, y, sw, chunk: int = 4096) -> float:
        """The mean data loss of outputs against checked targets, summed chunk by chunk."""
        if callable(self.loss):
            _custom_loss.no_weights(sw)
            return _custom_loss.loss_of_outputs(self.loss, out, y, chunk)
        n = out.shape[0]
        total = 0.0
        for i in range(0, n, chunk):
            loss, _ = self._net.loss(
                out[i : i + chunk], y[i : i + chunk], None if sw is None else sw[i : i + chunk]
            )
            total += loss * out[i : i + chunk].shape[0]
        return total / n

    def evaluate(self, X, y, *, sample_weight=None) -> dict:
        """Mean data loss (without the l1/l2 term) and each compiled metric, in evaluation mode.

        After ``nncore.distributed.init()`` this is collective: every rank passes its own rows and
        gets the scores of all ranks' rows (see :func:`nncore.distributed.evaluate`)."""
        if self.loss is None:
            raise RuntimeError("the model is not compiled: call model.compile(...) first")
        ctx = _DISTRIBUTED[0]
        if ctx is not None:
            from .distributed import evaluate

            return evaluate(self, X, y, sample_weight=sample_weight, ctx=ctx)
        X, y, sw = self._evaluate_inputs(X, y, sample_weight)
        out, loss = self._outputs_and_loss(X, y, sw)
        return self._scores(out, y, loss)

    def _evaluate_inputs(self, X, y, sample_weight):
        X = self._check_X(X)
        return X, self._check_y(y, X.shape[0]), check_sample_weight(sample_weight, X.shape[0])

    def _scores(self, out, y, loss) -> dict:
        """evaluate's dictionary from all outputs, targets and the mean loss."""
        result = {"loss": float(loss)}
        if self.metrics:
            pred = self._transform(out)
            for m in self.metrics:
                fn = _metrics.for_task(m, self._task())
                result[m if isinstance(m, str) else fn.__name__] = float(fn(y, pred))
        return result

    def _task(self) -> str | None:
        return _task_of(self.loss, self._output_width())

    def _transform(self, out):
        if self.loss in _losses.SOFTMAX_LOSSES:
            return _softmax(out.astype(np.float64))
        if self.loss in _losses.SIGMOID_LOSSES:
            return 1.0 / (1.0 + np.exp(-out.astype(np.float64)))
        return out

    # ----------------------------------------------------------------------- user-written loops
    def train_step(self, x, y, *, sample_weight=None) -> float:
        """One forward + backward + optimizer update on a batch (one C++ call); returns the data
        loss. ``model.last_step`` holds the regularization term, the gradient norm and whether
        the gradient was finite."""
        self._require_compiled()
        x = self._check_X(x)
        y = self._check_y(y, x.shape[0])
        sw = check_sample_weight(sample_weight, x.shape[0])
        if callable(self.loss):
            _custom_loss.no_weights(sw)
            info = _custom_loss.train_batch(self._net, self.loss, x, y)
        else:
            info = self._net.train_step(x, y, sw)
        self.last_step = info
        return float(info["loss"])

    def forward(self, x, *, training: bool = False, step: int | None = None) -> np.ndarray:
        """Network output for x (logits when the loss folds in a softmax/sigmoid). With
        ``training=True`` batchnorm uses batch statistics and dropout is active; call
        :meth:`backward` next.

        Dropout keeps element i of layer l when philox(seed, step, l | draw << 16, i) clears the
        rate (``nncore/dropout.h``); l counts the layers in order, a :class:`Residual` block
        before its own layers (so it is the index in a model without blocks). Without ``step``, step is the number of optimizer steps
        taken and draw counts the training forwards since the last one, so every call draws a
        new mask and the first after a step is the mask ``train_step`` would use; ``step=k``
        uses (the model's seed, k, draw 0) and so repeats its mask."""
        x = self._check_X(x)
        if step is not None:
            step = check_seed(step, "step")
        return self._net.forward(x, bool(training), step)

    __call__ = forward

    def loss_fn(self, output, y, *, sample_weight=None):
        """(loss, d loss / d output) for an output of :meth:`forward`."""
        if self.loss is None:
            raise RuntimeError("the model is not compiled: call model.compile(...) first")
        out = check_X(output, n_features=self._net.output_dim, name="output")
        y = self._check_y(y, out.shape[0])
        sw = check_sample_weight(sample_weight, out.shape[0])
        if callable(self.loss):
            _custom_loss.no_weights(sw)
            return _custom_loss.call(self.loss, out, y)
        loss, grad = self._net.loss(out, y, sw)
        return float(loss), grad

    def backward(self, grad) -> np.ndarray:
        """Accumulates parameter gradients (+=) for the last :meth:`forward`; returns d loss / d x.
        The l1/l2 term is not included (see :meth:`penalty`)."""
        if self._net is None:
            raise RuntimeError("call forward() before backward()")
        g = check_X(grad, n_features=self._net.output_dim, name="grad")
        return self._net.backward(g)

    def zero_grad(self) -> None:
        """Zero every gradient (one ``memset`` over the gradient arena); a no-op before build."""
        if self._net is not None:
            self._net.zero_grad()

    def penalty(self) -> float:
        """The l1/l2 regularization term of the current weights."""
        return float(self._net.penalty()) if self._net is not None else 0.0

    # ----------------------------------------------------------------------------- parameters
    def _views(self, arena, entries) -> dict:
        out = {}
        for name, shape, offset, _layer in entries:
            size = int(np.prod(shape))
            out[name] = arena[offset : offset + size].reshape(shape)
        return out

    def parameters(self) -> Parameters:
        """Name -> writable float32 view of each parameter (``"0.weight"`` is (out, in) as in
        PyTorch). Writes take effect in the next forward."""
        if self._net is None:
            raise RuntimeError(
                "the model is not built yet: give input_dim or call build()/fit() first"
            )
        owner = _ViewOwner(self._net.params_array())
        self._exposures.append(weakref.ref(owner))
        self._params_exposed = True
        p = Parameters(self._views(np.asarray(owner), self._net.param_views()))
        p.model = self
        return p

    def gradients(self) -> dict:
        """Name -> view of each parameter's gradient (accumulated by backward/train_step)."""
        return self._views(self._net.grads_array(), self._net.param_views())

    def buffers(self) -> dict:
        """Name -> view of non-trained state (batchnorm running statistics)."""
        return self._views(self._net.buffers_array(), self._net.buffer_views())

    def _attach_optimizer(self, opt):
        self.optimizer = opt
        if self._net is not None:
            opt._attach(self)

    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` with the weights and BatchNorm running
        statistics (needs PyTorch; see :mod:`nncore.torch_interop`)."""
        from .torch_interop import to_torch

        return to_torch(self)

    def get_weights(self) -> list:
        """Copies of all parameters and buffers, in layer order (Keras style)."""
        return [v.copy() for v in {**self.parameters(), **self.buffers()}.values()]

    def set_weights(self, weights) -> None:
        """Overwrite all parameters and buffers, in :meth:`get_weights`' order and shapes; every
        array is checked before any is written."""
        views = list({**self.parameters(), **self.buffers()}.items())
        # all arrays are checked before any is written (hardening: _validation.check_weights)
        weights = check_weights(weights, [(name, v.shape) for name, v in views])
        for (_name, v), w in zip(views, weights):
            v[...] = w
        self._net.params_changed()

    @property
    def num_params(self) -> int:
        """The number of trainable parameters (0 before build)."""
        return 0 if self._net is None else int(self._net.num_params)

    # ------------------------------------------------ internal hooks for optim and diagnostics
    # The rest of the package reaches the core network only through these, so model.py alone
    # knows its interface.
    def _arena(self, which: str) -> np.ndarray:
        """The flat, writable float32 arena ``which``: "params", "grads" or "buffers"."""
        if self._net is None:
            raise RuntimeError("the model is not built yet")
        if which == "params":
            return self._net.params_array()
        if which == "grads":
            return self._net.grads_array()
        if which == "buffers":
            return self._net.buffers_array()
        raise ValueError(f"unknown arena {which!r}")

    def _param_entries(self) -> list:
        """(name, shape, offset in the arena, layer index) of every parameter."""
        return list(self._net.param_views())

    def _output_dim(self) -> int:
        return int(self._net.output_dim)

    def _layer_info(self) -> list:
        """(kind, input width, output width) of every layer."""
        return list(self._net.layer_info())

    def _params_changed(self) -> None:
        """Tell the core that parameters or buffers were written (drops cached plans)."""
        self._net.params_changed()

    def _set_core_optimizer(self, core) -> None:
        self._net.set_optimizer(core)

    def _optimizer_step(self) -> dict:
        return self._net.optimizer_step()

    def _add_penalty_grads(self) -> None:
        """Add the l1/l2 gradient to the gradient arena (as fit does after backward)."""
        self._net.add_penalty_grads()

    def _core_step(self, step: int | None = None) -> int:
        """The core's step counter (it keys the dropout masks); set first when ``step`` is given."""
        if step is not None:
            self._net.step = int(step)
        return int(self._net.step)

    def _forward_unchecked(
        self, x: np.ndarray, training: bool, *, every_layer: bool = False, step: int | None = None
    ):
        """The network's output (or every layer's, with ``every_layer``) for an already checked
        float32 batch; ``step`` keys the dropout masks explicitly (see :meth:`forward`)."""
        if every_layer:
            return self._net.forward_all(x, training)
        return self._net.forward(x, training, step)

    def _loss_unchecked(self, out: np.ndarray, y, sample_weight=None) -> tuple:
        """(loss, d loss / d out) for already checked outputs, targets and weights."""
        return self._net.loss(out, y, sample_weight)

    def _backward_unchecked(self, dout: np.ndarray) -> np.ndarray:
        return self._net.backward(dout)

    def _forward_blocks(self, x, rows, keys, first, global_rows, reducer) -> np.ndarray:
        """A data-parallel forward over this rank's row blocks (``nncore._dist_fit``)."""
        return self._net.forward_blocks(x, rows, keys, first, global_rows, reducer)

    def _backward_blocks(self, dout, rows, keys, first, global_rows, reducer) -> None:
        self._net.backward_blocks(dout, rows, keys, first, global_rows, reducer)

    def _loss_grad(self, x: np.ndarray, y, sample_weight=None, accumulate: bool = False) -> float:
        """Mean loss of a checked float32 batch, its gradient left in the "grads" arena (layer
        penalties included unless ``accumulate``, which adds to the arena instead); no update."""
        return self._net.loss_grad(x, y, sample_weight, accumulate)

    def _set_batch_l2(self, alpha: float) -> None:
        """scikit-learn's ``alpha`` on the network: an L2 penalty on the Dense weights scaled by
        the batch, applied in every C++ training step (see Network::set_batch_l2)."""
        self._net.batch_l2 = float(alpha)

    def _add_batch_l2(self, batch_weight: float) -> float:
        """Adds the ``alpha`` gradient for a batch of total weight ``batch_weight`` to the
        "grads" arena; returns its loss term."""
        return float(self._net.add_batch_l2(float(batch_weight)))

    def _train_epoch_unchecked(self, X, y, sample_weight, batch_size: int, order) -> dict:
        """Every batch of one epoch over checked arrays in one C++ call (``order``: the row
        permutation or None); the network's optimizer at its current learning rate."""
        nb = -(-X.shape[0] // batch_size)
        return self._net.train_epoch(X, y, sample_weight, batch_size, order, 0, nb, None)

    # --------------------------------------------------------------------------- description
    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts."""
        if self._net is None:
            raise RuntimeError(
                "the model is not built yet: give input_dim or call build()/fit() first"
            )
        counts: dict[str, int] = {}  # owner ("0", "3.body.1", "3.proj") -> parameters
        for name, shape, _off, _layer in self._net.param_views():
            owner = name.rsplit(".", 1)[0]
            counts[owner] = counts.get(owner, 0) + int(np.prod(shape))
        rows = [("#", "layer", "output", "params")]
        rows += [
            (n, d, f"(None, {w})", f"{c:,}")
            for n, d, w, c in _summary_rows(self.layers, "", self.input_dim, counts, 0)
        ]
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        line = "  ".join("-" * w for w in widths)
        text = [f"Sequential(input_dim={self.input_dim}, seed={self.seed})", line]
        for j, r in enumerate(rows):
            text.append("  ".join(r[c].ljust(widths[c]) for c in range(4)))
            if j == 0:
                text.append(line)
        text += [line, f"total parameters: {self.num_params:,}"]
        if self.loss:
            text.append(f"loss: {self.loss}, optimizer: {self.optimizer!r}")
        s = "\n".join(text)
        if print_fn is not None:
            print_fn(s)
        return s

    def get_config(self) -> dict:
        """The architecture (layer configs, ``input_dim``, ``seed``) and the compile settings, as
        plain data; :meth:`from_config` rebuilds an untrained model from it."""
        cfg: dict[str, Any] = {
            "layers": [layer.get_config() for layer in self.layers],
            "input_dim": self.input_dim,
            "seed": self.seed,
        }
        if isinstance(self.loss, str):  # a callable loss is not saved (see _custom_loss)
            cfg["compile"] = {
                "loss": self.loss,
                "huber_delta": self.huber_delta,
                "metrics": [m for m in self.metrics if isinstance(m, str)],
            }
            if self.loss_options:
                cfg["compile"]["loss_options"] = dict(self.loss_options)
        return cfg

    @classmethod
    def from_config(cls, config: dict, *, optimizer="adam") -> Sequential:
        """A new, untrained model from :meth:`get_config`'s dict, compiled with ``optimizer`` when
        the config holds compile settings (a config does not hold the optimizer)."""
        model = cls(
            [layer_from_config(c) for c in config["layers"]],
            input_dim=config.get("input_dim"),
            seed=config.get("seed", 0),
        )
        comp = config.get("compile")
        if comp is not None:
            model.compile(
                optimizer=optimizer,
                loss=comp["loss"],
                metrics=comp.get("metrics"),
                huber_delta=comp.get("huber_delta", 1.0),
                loss_options=comp.get("loss_options"),
            )
        return model

    # ---------------------------------------------------------------------------------- state
    def state(self) -> dict:
        """Everything needed to rebuild the model exactly, as plain data: ``{"config",
        "optimizer", "step", "epochs_done", "arrays"}``. ``arrays`` holds copies of the flat
        ``params`` and ``buffers`` arenas and the optimizer's state as ``optimizer.<name>``;
        ``optimizer`` its name and hyper-parameters. :func:`nncore.io.dumps` writes this."""
        if self._net is None:
            raise RuntimeError("cannot save a model that is not built yet")
        arrays = {
            "params": np.array(self._net.params_array()),
            "buffers": np.array(self._net.buffers_array()),
        }
        optimizer: dict | None = None
        if self.optimizer is not None:
            sd = self.optimizer.state_dict()
            for k, v in sd["state"].items():
                arrays["optimizer." + k] = np.asarray(v, dtype=np.float32)
            optimizer = {k: v for k, v in sd.items() if k != "state"}
        return {
            "config": self.get_config(),
            "optimizer": optimizer,
            "step": int(self._net.step),
            "epochs_done": int(self.epochs_done),
            "arrays": arrays,
        }

    @classmethod
    def from_state(cls, state: dict) -> Sequential:
        """The model :meth:`state` described: architecture, compile settings, weights, buffers,
        step counts and optimizer state, so training resumes bitwise where it stopped. A state
        that does not fit together raises ValueError (or TypeError/KeyError for wrong types)."""
        from . import optim as _optim

        config = state.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("the state lacks the model configuration")
        optd = state.get("optimizer")
        opt = "sgd" if optd is None else _optim.get(optd["name"], **optd.get("hparams", {}))
        # built once, with nothing initialised randomly: the arrays below are the weights
        model = cls.from_config(dict(config, input_dim=None), optimizer=opt)
        model.build(config.get("input_dim"), _init=False)
        net = model._net
        arrays = state["arrays"]
        for key, target in (("params", net.params_array()), ("buffers", net.buffers_array())):
            a = arrays.get(key)
            if a is None or np.shape(a) != target.shape or np.asarray(a).dtype != np.float32:
                raise ValueError(f"array {key!r} does not match the architecture")
            if key == "buffers" and not np.isfinite(a).all():
                raise ValueError(f"array {key!r} holds non-finite values")
            target[:] = a
        net.params_changed()
        net.step = check_positive_int(state.get("step", 0), "step", 0, _MAX_COUNT)
        model.epochs_done = check_positive_int(
            state.get("epochs_done", 0), "epochs_done", 0, _MAX_COUNT
        )
        if optd is not None and model.optimizer is not None:
            prefix = "optimizer."
            opt_state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            model.optimizer.load_state_dict(dict(optd, state=opt_state))
        return model

    def save(self, path) -> None:
        """Write the model (architecture, weights, buffers, optimizer state) to ``path``
        atomically, in nncore's checksummed format (see :mod:`nncore.io`)."""
        _format.write_atomic(path, _format.encode(self.state()))

    def export_onnx(self, path, *, opset: int | None = None) -> None:
        """Write the model as an ONNX graph computing :meth:`predict` (needs ``pip install
        onnx``): Dense, Activation, BatchNorm (evaluation mode) and Dropout (dropped), with a
        symbolic batch dimension; checked by ``onnx.checker``. See :mod:`nncore.onnx_export`."""
        from .onnx_export import export_onnx

        export_onnx(self, path, opset=opset)

    def __getstate__(self) -> dict:
        """Pickle (and copy.deepcopy, joblib, cloudpickle) through the ``.nnc`` format: weights,
        buffers, compile settings and optimizer state, so a copy resumes training bitwise like
        the original. Callable metrics travel as themselves; the history is not kept."""
        if self._net is None:
            return {"config": self.get_config(), "metrics": self.metrics}
        return {"nnc": b"".join(_format.encode(self.state())), "metrics": self.metrics}

    def __setstate__(self, state: dict) -> None:
        if "nnc" in state:
            header, arrays = _format.decode(bytes(state["nnc"]), "<pickle>")
            model = Sequential.from_state({**header, "arrays": arrays})
        else:
            model = Sequential.from_config(state["config"])
        self.__dict__.update(model.__dict__)
        self.metrics = list(state.get("metrics", self.metrics))
        if self.optimizer is not None:
            self.optimizer._model = self  # the optimizer steps this model, not the temporary

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_dim={self.input_dim}, seed={self.seed})"
