"""Sequential: a stack of layers run by the C++ core, with a Keras-style ``compile``/``fit`` and
PyTorch-style ``forward``/``backward``/``train_step`` for user-written loops.

``fit`` hands whole runs of batches to C++ (other Python threads run meanwhile) and comes back
to Python between them, for callbacks, schedules, progress and Ctrl-C.
"""

# Developer note: this is the public face only. It checks what the user gives
# (nncore.training.inputs), keeps the compile settings and hands the work on. The C++ network
# belongs to the model's engine (nncore._engine); every kind of fit (arrays, streamed chunks, MPI
# shards, a Python loss) runs through the one epoch driver (nncore.training.driver), which hands
# whole runs of batches to C++ with the GIL released.

from __future__ import annotations

from typing import Any

import numpy as np

from . import (
    _custom_loss,
    _deprecation,
    _format,
    _losses,
    _mc_dropout,
    _state,
    _torch_export,
    onnx_export,
    progress,
    quantize,
)
from . import metrics as _metrics
from . import optim as _optim
from ._engine import Engine, core_specs
from ._summary import summary_text
from ._validation import (
    check_bool,
    check_positive_int,
    check_sample_weight,
    check_seed,
    check_verbose,
    check_weights,
    check_X,
)
from .callbacks import History
from .diagnostics import DiagnosticsRecorder
from .distributed import evaluate as _distributed_evaluate
from .distributed import fit as _distributed_fit
from .layers import Input, Layer, layer_from_config
from .streaming import fit_source, is_source
from .training import ArraySource, Driver, callback_list, context, inputs, scoring, steps

LOSSES = _losses.LOSSES


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
        layers = list(layers or [])
        if layers and isinstance(layers[0], Input):  # Keras's Sequential([Input(shape), ...])
            input_dim = inputs.width_of_input(layers.pop(0), input_dim)
        for layer in layers:
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
        self.loss_options: dict = {}
        self.metrics: list = []
        self.optimizer: Any = None  # an nncore.optim.Optimizer once compiled
        self.history: History | None = None
        self.stop_training = False
        self.epochs_done = 0
        # The internal engine owning the core network, once built: the one interface the rest
        # of the package uses (nncore._engine); not part of the public API.
        self.engine: Any = None  # an Engine
        if input_dim is not None and self.layers:
            self.build()

    # ----------------------------------------------------------------------------- building
    def add(self, layer: Layer) -> Sequential:
        """Append a layer (before the model is built).

        Parameters
        ----------
        layer : Layer or Input
            An nncore layer: Dense, Activation, BatchNorm, LayerNorm, Dropout, Residual,
            Embedding or TabularInput; or, before any layer, an :class:`Input` giving
            ``input_dim``, as in Keras.

        Returns
        -------
        Sequential
            self, so calls chain.

        Raises
        ------
        TypeError
            When ``layer`` is not an nncore layer, or is an Input after a layer.
        RuntimeError
            When the model is already built.
        """
        if isinstance(layer, Input):  # Keras's first entry
            if self.layers or self.built:
                raise TypeError("an Input gives the input width: it comes before any layer")
            self.input_dim = inputs.width_of_input(layer, self.input_dim)
            return self
        if not isinstance(layer, Layer):
            raise TypeError(
                "expected an nncore layer (Dense, Activation, BatchNorm, LayerNorm, Dropout, "
                f"Residual, Embedding, TabularInput), got {layer!r}"
            )
        if self.built:
            raise RuntimeError("cannot add layers to a built model")
        self.layers.append(layer)
        return self

    @property
    def built(self) -> bool:
        """True once the core network exists (after ``build``, ``compile`` with an input size,
        or the first ``fit``)."""
        return getattr(self, "engine", None) is not None

    def build(self, input_dim: int | None = None, *, _init: bool = True) -> Sequential:
        """Create the network in the core and initialise its weights (done on first use).

        Parameters
        ----------
        input_dim : int, optional
            Number of input features, when the constructor was not given it.

        Returns
        -------
        Sequential
            self, so calls chain.

        Raises
        ------
        ValueError
            When ``input_dim`` is unknown, differs from the model's, or the model has no
            layers.
        """
        # _init=False is for loading: the weights stay zero until the file's are copied in.
        if input_dim is not None:
            check_positive_int(input_dim, "input_dim")
            if self.input_dim is not None and input_dim != self.input_dim:
                raise ValueError(f"input_dim {input_dim} differs from the model's {self.input_dim}")
            self.input_dim = input_dim
        if self.input_dim is None:
            raise ValueError("input_dim is unknown: pass input_dim= to Sequential or build()")
        if not self.layers:
            raise ValueError("the model has no layers")
        specs, stripped = core_specs(self.layers, self.loss)
        self.engine = Engine(
            self.input_dim, specs, self.seed, stripped, previous=self.engine, init=_init
        )
        self._configure()
        return self

    def _configure(self):
        self.engine.configure(self.loss, self.loss_options)
        if self.optimizer is not None:
            self.optimizer.attach(self)

    def compile(
        self,
        optimizer="adam",
        loss: Any = "mse",
        metrics=None,
        *,
        huber_delta: float | None = None,
        loss_options: dict | None = None,
    ) -> Sequential:
        """Choose the optimizer, the loss and the metrics that fit and evaluate report.

        Parameters
        ----------
        optimizer : str or Optimizer, default "adam"
            A name, ``"sgd"``, ``"adam"``, ``"adamw"``, ... (torch.optim's defaults, except
            SGD's lr: 0.01, as Keras's; see :mod:`nncore.optim`), or an instance such as
            ``nncore.optim.Adam(lr=1e-3)``.
        loss : str or callable, default "mse"
            ``"mse"``, ``"mae"``, ``"huber"``, ``"cross_entropy"`` (integer labels or one-hot
            rows; the model outputs logits, ``predict`` returns softmax probabilities),
            ``"binary_cross_entropy"`` (on logits; ``predict`` returns sigmoid probabilities),
            ``"focal"`` (multi-class, integer labels, softmax), ``"binary_focal"``
            (torchvision's sigmoid focal loss, targets in [0, 1]) or ``"quantile"`` (pinball
            loss; one output per quantile). A callable ``fn(y_pred, y_true) -> (loss, grad)``
            on numpy arrays runs through a slower path, one Python call per batch.
        metrics : list of str or callable, optional
            Reported by fit (on validation data) and evaluate, e.g. ``["accuracy"]``; see
            :mod:`nncore.metrics`. A metric that does not fit the loss's task is refused.
        huber_delta : float, optional
            Deprecated: write ``loss_options={"delta": ...}``.
        loss_options : dict, optional
            Every option of the loss, in this one dict: ``delta`` (huber, default 1.0),
            ``label_smoothing`` (cross_entropy, PyTorch's definition), ``gamma`` (focal,
            binary_focal), ``alpha`` (binary_focal; < 0: none), ``output_weight``
            (binary_cross_entropy/binary_focal: one weight per output column, torch's
            ``BCEWithLogitsLoss(weight=)``), ``quantiles`` (one, or one per output). Class
            weights go to ``fit(class_weight=...)``; the option ``class_weight`` is
            deprecated.

        Returns
        -------
        Sequential
            self, so ``model = model.compile(...)`` chains.

        Raises
        ------
        ValueError
            On an unknown loss, loss option or metric, or a metric that does not fit the loss.
        TypeError
            When ``optimizer`` is neither a name nor an nncore optimizer.

        See Also
        --------
        fit : Train the compiled model.

        Examples
        --------
        >>> import nncore as nc
        >>> model = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(3)], input_dim=4, seed=0)
        >>> model = model.compile(
        ...     optimizer=nc.optim.Adam(lr=1e-3),
        ...     loss="cross_entropy",
        ...     metrics=["accuracy"],
        ...     loss_options={"label_smoothing": 0.1},
        ... )
        >>> model.loss, model.metrics
        ('cross_entropy', ['accuracy'])
        """
        name: Any
        if callable(loss):
            if loss_options:
                raise ValueError("loss_options are for the built-in losses, not a callable")
            name, options = loss, {}
        elif not isinstance(loss, str):
            raise ValueError(f"loss must be a string or a callable, got {loss!r}")
        else:
            name = _losses.canonical(loss)
            options = _losses.compile_options(name, loss_options, huber_delta)
        metric_list = (
            []
            if metrics is None
            else list(metrics if isinstance(metrics, (list, tuple)) else [metrics])
        )
        for m in metric_list:
            _metrics.for_task(m, scoring.task_of(name, self._output_width()))
        opt = _optim.get(optimizer)
        if not isinstance(
            opt, _optim.Optimizer
        ):  # hardening: not an nncore optimizer (e.g. 5, None)
            raise TypeError(
                f"optimizer must be a name such as 'adam' or an nncore.optim optimizer, got {optimizer!r}"
            )
        old_loss = self.loss
        self.loss, self.metrics, self.optimizer, self.loss_options = name, metric_list, opt, options
        try:
            stripped = core_specs(self.layers, self.loss)[1]
        except ValueError:
            self.loss = old_loss
            raise
        if self.engine is not None and stripped == self.engine.stripped:
            self._configure()
        elif self.input_dim is not None:
            self.build()
        return self

    def _output_width(self) -> int | None:
        """The number of outputs as the layers' specs give it (before the network is built)."""
        if self.engine is not None:
            return self.engine.output_dim
        width = self.input_dim
        for layer in self.layers:
            width = layer.output_width(width)
        return width

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
        distributed=None,
    ) -> History:
        """Train the model for ``epochs`` passes over (X, y).

        Each epoch shuffles the rows (seeded by ``seed`` and the epoch number, so a run is
        reproducible and resumable), runs the batches in C++ and records in the history the mean
        data loss (``loss``), the regularization term (``reg_loss``), the training ``accuracy``
        when it is a compiled metric (averaged over the epoch's steps, as Keras does), the
        learning rate (``lr``), the epoch time, the last step's gradient norm (``grad_norm``)
        and, with validation data, ``val_loss`` and ``val_<metric>``.
        Ctrl-C stops at a batch boundary; the history so far is kept in ``model.history``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a source of chunks
            The inputs (converted to float32). With ``y=None`` it may be a source of
            ``(X_chunk, y_chunk)`` pairs: a re-iterable, a callable returning an iterator per
            epoch, or a dask array with ``y`` (see :mod:`nncore.streaming`).
        y : array-like, optional
            The targets, as the compiled loss takes them: integer labels (or one-hot or
            probability rows) for cross_entropy and focal; values in [0, 1], one column per
            output, for binary_cross_entropy and binary_focal; values of shape (n_samples,) or
            (n_samples, n_outputs) for the regression losses.
        epochs : int, default 1
            Passes over the data (0: none).
        batch_size : int, default 32
            Rows per optimizer step; the last batch of an epoch may be smaller (with BatchNorm,
            a last batch of one row is dropped).
        shuffle : bool, default True
            Shuffle the rows before each epoch.
        seed : int, optional
            Seeds the shuffles and ``validation_split`` (default: the model's seed).
        validation_split : float, default 0.0
            The fraction of the rows held out for validation: drawn at random, and stratified
            for classification (unlike Keras, which takes the last rows).
        validation_data : tuple, optional
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``, evaluated after each
            epoch; not together with ``validation_split``.
        callbacks : list of Callback, or one Callback, optional
            Called at the start and end of training and of each epoch (see
            :mod:`nncore.callbacks`); EarlyStopping, ModelCheckpoint, ...
        schedulers : list of LRScheduler, optional
            :mod:`nncore.lr_scheduler` schedules, stepped per batch or per epoch as their
            ``interval`` says.
        verbose : int, default 0
            0 prints nothing; 1 a progress bar per epoch (plain lines off a terminal); 2 one
            line per epoch.
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights of the loss.
        class_weight : "balanced", dict or array-like, optional
            Class weights for cross_entropy or focal with integer labels: row i weighs
            ``class_weight[y_i]`` times its sample weight (a dict maps classes to weights,
            missing ones weigh 1); ``"balanced"`` weighs class c by
            ``n_samples / (n_classes * count_c)``.
        diagnostics : bool, default False
            Record per-layer gradient and weight health into the history (see
            :mod:`nncore.diagnostics`).
        steps_per_epoch : int, optional
            Chunks per epoch, when X is a source of chunks (required for a one-shot iterator).
        distributed : Context, optional
            Train one model over all MPI ranks of this context, each rank passing its own rows
            (see :func:`nncore.distributed.init`). Inside ``with nncore.distributed.init() as
            ctx:`` that context is used without it.

        Returns
        -------
        History
            The per-epoch logs (``history.history["loss"]``, ...), also kept as
            ``model.history``.

        Raises
        ------
        RuntimeError
            When the model is not compiled.
        ValueError
            When X, y or an argument is invalid; the message says which and where.
        TypeError
            When y is missing and X is not a source of chunks, or ``shuffle`` is not a bool.

        See Also
        --------
        evaluate : The loss and metrics on other data.
        predict : The outputs.
        train_step : One step, for a loop written by hand.

        Examples
        --------
        >>> import numpy as np
        >>> import nncore as nc
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 4)).astype(np.float32)
        >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
        >>> model = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(2)], input_dim=4, seed=0)
        >>> model = model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
        >>> history = model.fit(X, y, epochs=3, batch_size=32, validation_split=0.25)
        >>> sorted(history.history)
        ['accuracy', 'grad_norm', 'loss', 'lr', 'reg_loss', 'time', 'val_accuracy', 'val_loss']
        >>> len(history.history["loss"]), model.epochs_done
        (3, 3)
        """
        verbose = check_verbose(verbose)
        kw: dict[str, Any] = dict(epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose)
        kw.update(shuffle=inputs.check_shuffle(shuffle), callbacks=callbacks, schedulers=schedulers)
        ctx = context.resolve(distributed, "fit")
        if ctx is not None:
            return _distributed_fit(
                ctx, self, X, y, **kw, validation_split=validation_split,
                validation_data=validation_data, sample_weight=sample_weight,
                class_weight=class_weight, diagnostics=diagnostics,
            )  # fmt: skip
        if is_source(X, y):
            return fit_source(
                self, X, y, **kw, steps_per_epoch=steps_per_epoch, validation_data=validation_data
            )
        if y is None:
            raise TypeError(
                "fit needs y, unless X is a source of (X, y) chunks (see nncore.streaming)"
            )
        if steps_per_epoch is not None:
            raise ValueError("steps_per_epoch applies only when X is a source of chunks")
        inputs.require_compiled(self)
        X, y, sw = inputs.fit_inputs(self, X, y, sample_weight, class_weight)
        epochs = check_positive_int(epochs, "epochs", minimum=0)
        batch_size = check_positive_int(batch_size, "batch_size")
        seed = check_seed(self.seed if seed is None else seed, "seed")  # hardening
        (X, y, sw), val = inputs.validation_rows(
            self, X, y, sw, seed, validation_split, validation_data
        )
        first = [DiagnosticsRecorder(X, y)] if diagnostics else []

        def start(_run):
            return (*callback_list(self, callbacks, epochs, verbose, first), val)

        source = ArraySource(X, y, sw, batch_size, bool(shuffle), seed, epochs)
        step = steps.step_for(self, batch_size)
        return Driver(self, source, step, schedulers=schedulers, start=start).fit(epochs)

    # ----------------------------------------------------------------------------- inference
    def predict(
        self,
        X,
        *,
        batch_size: int | None = None,
        verbose=0,
        fold_batchnorm: bool | None = None,
        mc_samples: int | None = None,
        seed: int | None = None,
        return_std: bool = False,
    ):
        """The model's outputs for X, in evaluation mode.

        By default a folded plan runs: each evaluation-mode BatchNorm is folded into the
        preceding Dense's weights and bias, activations into the matrix product and Dropout is
        skipped, so each Dense is one matrix product (5-10 % faster at every batch size). It
        equals the layer-by-layer evaluation up to float32 rounding. Networks the plan cannot
        express run layer by layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs (converted to float32).
        batch_size : int, optional
            Accepted for Keras code and checked; the core runs the rows in blocks of bounded
            size whatever it is, with the same result.
        verbose : int or "auto", default 0
            Not 0: one line with the rows and the time when done (``"auto"`` is 1).
        fold_batchnorm : bool, optional
            False runs layer by layer, with the same bits as ``forward(X, training=False)``
            and :meth:`evaluate`; None or True runs the folded plan.
        mc_samples : int, optional
            Monte-Carlo dropout: the mean of the outputs over this many dropout masks
            (batchnorm stays in evaluation mode); runs layer by layer.
        seed : int, optional
            The Monte-Carlo masks' seed (default: the model's). The same arguments give the
            same bits on every thread count and instruction set.
        return_std : bool, default False
            With ``mc_samples``, also return the outputs' standard deviation over the masks.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            Softmax probabilities for cross_entropy and focal, sigmoid probabilities for
            binary_cross_entropy and binary_focal, the raw outputs otherwise. With
            ``return_std``, the pair ``(mean, std)``.

        Raises
        ------
        ValueError
            When X does not fit the model, or ``seed``/``return_std`` come without
            ``mc_samples``, or ``fold_batchnorm=True`` with ``mc_samples``.

        Examples
        --------
        >>> import numpy as np
        >>> import nncore as nc
        >>> model = nc.Sequential(
        ...     [nc.Dense(8, "relu"), nc.Dropout(0.5), nc.Dense(3)], input_dim=4, seed=0
        ... ).compile(loss="cross_entropy")
        >>> X = np.ones((2, 4), np.float32)
        >>> proba = model.predict(X)
        >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
        ((2, 3), True)
        >>> mean, std = model.predict(X, mc_samples=20, return_std=True)
        >>> mean.shape, std.shape
        ((2, 3), (2, 3))
        """
        X = inputs.check_input(self, X)
        with progress.reported("predict", X.shape[0], verbose, batch_size):
            if mc_samples is None:
                if return_std or seed is not None:
                    raise ValueError("seed and return_std need mc_samples (Monte-Carlo dropout)")
                return self.engine.predict(X, fold_batchnorm is None or bool(fold_batchnorm))
            if fold_batchnorm:
                raise ValueError("fold_batchnorm skips dropout: it cannot be used with mc_samples")
            return _mc_dropout.mc_predict(
                self.engine,
                X,
                lambda out: scoring.transform(self.loss, out),
                _mc_dropout.check_mc_samples(mc_samples),
                self.seed if seed is None else seed,
                bool(return_std),
            )

    def evaluate(
        self, X, y, *, batch_size=None, verbose=0, sample_weight=None, distributed=None
    ) -> dict:
        """The mean data loss and each compiled metric on (X, y), in evaluation mode.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like
            The targets, as for :meth:`fit`.
        batch_size : int, optional
            Accepted for Keras code and checked; the rows run in blocks of bounded size
            whatever it is, with the same scores.
        verbose : int or "auto", default 0
            Not 0: one line with the rows, the time and the scores when done.
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights of the loss (the metrics are not weighted).
        distributed : Context, optional
            Evaluate collectively over the MPI ranks of this context: every rank passes its
            own rows and gets the scores of all ranks' rows (see
            :func:`nncore.distributed.evaluate`). Inside ``with nncore.distributed.init() as
            ctx:`` that context is used without it.

        Returns
        -------
        dict
            ``{"loss": float, <metric>: float, ...}``; the loss without the l1/l2 term.

        Raises
        ------
        RuntimeError
            When the model is not compiled.
        ValueError
            When X or y does not fit the model.

        Examples
        --------
        >>> import numpy as np
        >>> import nncore as nc
        >>> X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(int)
        >>> model = nc.Sequential([nc.Dense(2)], input_dim=3, seed=0)
        >>> model = model.compile(loss="cross_entropy", metrics=["accuracy"])
        >>> scores = model.evaluate(X, y)
        >>> sorted(scores), isinstance(scores["loss"], float)
        (['accuracy', 'loss'], True)
        """
        if self.loss is None:
            raise RuntimeError("the model is not compiled: call model.compile(...) first")
        ctx = context.resolve(distributed, "evaluate")
        if ctx is None:
            X, y, sample_weight = inputs.evaluate_inputs(self, X, y, sample_weight)
        rows = X.shape[0] if ctx is None else None  # the ranks' rows are counted in C++
        with progress.reported("evaluate", rows, verbose, batch_size) as logs:
            if ctx is None:
                logs.update(steps.evaluate(self, X, y, sample_weight))
            else:
                logs.update(_distributed_evaluate(self, X, y, sample_weight=sample_weight, ctx=ctx))
            return dict(logs)

    # ----------------------------------------------------------------------- user-written loops
    def train_step(self, x, y, *, sample_weight=None) -> float:
        """One forward, backward and optimizer update on a batch, in one C++ call.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
            The batch's inputs.
        y : array-like
            Its targets, in the form the compiled loss takes (see :meth:`fit`).
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights of the loss.

        Returns
        -------
        float
            The batch's data loss (before the update). ``model.last_step`` then holds the
            regularization term, the gradient norm and whether the gradient was finite.

        Raises
        ------
        RuntimeError
            When the model is not compiled.
        ValueError
            When x or y do not fit the model.
        """
        inputs.require_compiled(self)
        x = inputs.check_input(self, x)
        y = inputs.check_y(self, y, x.shape[0])
        sw = check_sample_weight(sample_weight, x.shape[0])
        if callable(self.loss):
            _custom_loss.no_weights(sw)
            info = _custom_loss.train_batch(self.engine, self.loss, x, y)
        else:
            info = self.engine.train_step(x, y, sw)
        self.last_step = info
        return float(info["loss"])

    def forward(self, x, *, training: bool = False, step: int | None = None) -> np.ndarray:
        """The network's output for x, for user-written training loops.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
            The inputs.
        training : bool, default False
            Training mode: batchnorm uses batch statistics and dropout is active; call
            :meth:`backward` next.
        step : int, optional
            Which dropout masks to draw. Without it every training forward draws new masks,
            and the first after an optimizer step draws those :meth:`train_step` would use;
            ``step=k`` draws the masks of step k, so two calls with the same ``k`` repeat them.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), float32
            The outputs: logits when the loss folds in a softmax or sigmoid.
        """
        # Dropout keeps element i of layer l when philox(seed, step, l | draw << 16, i) clears
        # the rate (cpp/include/nncore/dropout.h); l counts the layers in order, a Residual block
        # before its own layers. Without ``step``, step is the number of optimizer steps taken
        # and draw counts the training forwards since the last one; step=k uses draw 0.
        x = inputs.check_input(self, x)
        if step is not None:
            step = check_seed(step, "step")
        return self.engine.forward(x, training, step)  # checked there: bool("no") is True

    __call__ = forward

    def loss_fn(self, output, y, *, sample_weight=None):
        """The compiled loss of an output of :meth:`forward`, and its gradient.

        Parameters
        ----------
        output : array-like of shape (n_samples, n_outputs)
            What :meth:`forward` returned.
        y : array-like
            The targets, in the form the compiled loss takes.
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights of the loss.

        Returns
        -------
        loss : float
            The mean data loss (without the l1/l2 term).
        grad : ndarray of shape (n_samples, n_outputs), float32
            d loss / d output, to pass to :meth:`backward`.

        Raises
        ------
        RuntimeError
            When the model is not compiled.
        """
        if self.loss is None:
            raise RuntimeError("the model is not compiled: call model.compile(...) first")
        out = check_X(output, n_features=self._output_width(), name="output")
        y = inputs.check_y(self, y, out.shape[0])
        sw = check_sample_weight(sample_weight, out.shape[0])
        if callable(self.loss):
            _custom_loss.no_weights(sw)
            return _custom_loss.call(self.loss, out, y)
        loss, grad = self.engine.loss(out, y, sw)
        return float(loss), grad

    def backward(self, grad) -> np.ndarray:
        """Accumulate the parameter gradients (+=) of the last :meth:`forward`.

        The l1/l2 term is not included (see :meth:`penalty`).

        Parameters
        ----------
        grad : array-like of shape (n_samples, n_outputs)
            d loss / d output, e.g. from :meth:`loss_fn`.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
            d loss / d x.

        Raises
        ------
        RuntimeError
            When no forward ran before.
        """
        if self.engine is None:
            raise RuntimeError("call forward() before backward()")
        g = check_X(grad, n_features=self.engine.output_dim, name="grad")
        return self.engine.backward(g)

    def zero_grad(self) -> None:
        """Zero every gradient (one ``memset`` over the gradient arena); a no-op before build."""
        if self.engine is not None:
            self.engine.zero_grad()

    def penalty(self) -> float:
        """The l1/l2 regularization term of the current weights.

        Returns
        -------
        float
            ``Σ l1·Σ|W| + l2·ΣW²`` over the layers (0.0 before build).
        """
        return self.engine.penalty() if self.engine is not None else 0.0

    # ----------------------------------------------------------------------------- parameters
    def parameters(self) -> Parameters:
        """The model's parameters, as writable views: writes take effect in the next forward.

        Returns
        -------
        Parameters
            A dict from name to float32 view (``"0.weight"`` is (out, in) as in PyTorch).

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        if self.engine is None:
            raise RuntimeError(
                "the model is not built yet: give input_dim or call build()/fit() first"
            )
        owner = _ViewOwner(self.engine.arena("params"))
        self.engine.expose(owner)
        p = Parameters(self.engine.views("params", np.asarray(owner)))
        p.model = self
        return p

    def gradients(self) -> dict:
        """The gradients accumulated by :meth:`backward` and :meth:`train_step`.

        Returns
        -------
        dict
            Parameter name -> float32 view of its gradient.
        """
        return self.engine.views("grads")

    def buffers(self) -> dict:
        """The state that is not trained (batchnorm running statistics).

        Returns
        -------
        dict
            Buffer name -> float32 view.
        """
        return self.engine.views("buffers")

    def to_torch(self):
        """An equivalent PyTorch model (needs PyTorch; see :mod:`nncore.torch_interop`).

        Returns
        -------
        torch.nn.Sequential
            The same layers, with the weights and BatchNorm running statistics copied.
        """
        return _torch_export.to_torch(self)

    def get_weights(self) -> list:
        """Copies of all parameters and buffers, in layer order (Keras style).

        Returns
        -------
        list of ndarray
            What :meth:`set_weights` takes back.
        """
        return [v.copy() for v in {**self.parameters(), **self.buffers()}.values()]

    def set_weights(self, weights) -> None:
        """Overwrite all parameters and buffers.

        Parameters
        ----------
        weights : list of array-like
            In :meth:`get_weights`' order and shapes; every array is checked before any is
            written.

        Raises
        ------
        ValueError
            When the number of arrays or a shape differs.
        """
        views = list({**self.parameters(), **self.buffers()}.items())
        # all arrays are checked before any is written (hardening: _validation.check_weights)
        weights = check_weights(weights, [(name, v.shape) for name, v in views])
        for (_name, v), w in zip(views, weights):
            v[...] = w
        self.engine.params_changed()

    def state_dict(self) -> dict:
        """Copies of the parameters and buffers by name, as PyTorch's ``state_dict`` (names as
        :meth:`parameters` and :meth:`buffers` give them).

        Unlike PyTorch's, the arrays are copies: training on does not change a state_dict kept
        for later.

        Returns
        -------
        dict of str to ndarray
            ``"0.weight"``, ``"0.bias"``, ..., then the BatchNorm running statistics.

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        return _state.state_dict(self)

    def load_state_dict(self, state_dict, strict: bool = True):
        """Overwrite parameters and buffers from a name -> array mapping (PyTorch's
        ``load_state_dict``): every array is checked (shape, finite) before any is written.

        Parameters
        ----------
        state_dict : mapping of str to array-like
            From :meth:`state_dict`, or a PyTorch ``nn.Sequential``'s whose modules line up
            with the layers, since names are layer indexes (an ``nn.ReLU`` module is an
            :class:`Activation` layer here; its BatchNorm's ``num_batches_tracked`` is
            ignored; :func:`nncore.from_torch` converts a whole model instead).
        strict : bool, default True
            Missing or unexpected keys raise; False loads the keys both have.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, as PyTorch returns.

        Raises
        ------
        ValueError
            When ``strict`` and keys differ, or a shape differs or a value is not finite.
        TypeError
            When ``state_dict`` is not a mapping.

        Examples
        --------
        >>> import numpy as np
        >>> import nncore as nc
        >>> a = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
        >>> b = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=1)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> x = np.ones((1, 4), np.float32)
        >>> bool(np.array_equal(a.predict(x), b.predict(x)))
        True
        """
        return _state.load_state_dict(self, state_dict, check_bool(strict, "strict"))

    @property
    def num_params(self) -> int:
        """The number of trainable parameters (0 before build)."""
        return 0 if self.engine is None else self.engine.num_params

    # --------------------------------------------------------------------------- description
    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts.

        Parameters
        ----------
        print_fn : callable or None, default print
            Called with the table; None prints nothing.

        Returns
        -------
        str
            The table.

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        if self.engine is None:
            raise RuntimeError(
                "the model is not built yet: give input_dim or call build()/fit() first"
            )
        s = summary_text(self)
        if print_fn is not None:
            print_fn(s)
        return s

    def get_config(self) -> dict:
        """The architecture and the compile settings, as plain data.

        Returns
        -------
        dict
            ``{"layers", "input_dim", "seed"}`` and, once compiled with a named loss,
            ``"compile"``; :meth:`from_config` rebuilds an untrained model from it.
        """
        cfg: dict[str, Any] = {
            "layers": [layer.get_config() for layer in self.layers],
            "input_dim": self.input_dim,
            "seed": self.seed,
        }
        if isinstance(self.loss, str):  # a callable loss is not saved (see _custom_loss)
            cfg["compile"] = {
                "loss": self.loss,
                "metrics": [m for m in self.metrics if isinstance(m, str)],
            }
            if self.loss_options:
                cfg["compile"]["loss_options"] = dict(self.loss_options)
        return cfg

    @classmethod
    def from_config(cls, config: dict, *, optimizer="adam") -> Sequential:
        """A new, untrained model from :meth:`get_config`'s dict.

        Parameters
        ----------
        config : dict
            What :meth:`get_config` returned.
        optimizer : str or Optimizer, default "adam"
            Used when the config holds compile settings (a config does not hold the
            optimizer).

        Returns
        -------
        Sequential
            The model, compiled when the config holds compile settings.
        """
        model = cls(
            [layer_from_config(c) for c in config["layers"]],
            input_dim=config.get("input_dim"),
            seed=config.get("seed", 0),
        )
        comp = config.get("compile")
        if comp is not None:
            with _deprecation.quiet():  # a file may hold a spelling deprecated since it was saved
                model.compile(
                    optimizer=optimizer,
                    loss=comp["loss"],
                    metrics=comp.get("metrics"),
                    loss_options=_losses.config_options(comp),
                )
        return model

    # ---------------------------------------------------------------------------------- state
    def state(self) -> dict:
        """Everything needed to rebuild the model exactly, as plain data.

        Returns
        -------
        dict
            ``{"config", "optimizer", "step", "epochs_done", "arrays"}``: ``arrays`` holds
            copies of the weights, the buffers and the optimizer's state (as
            ``optimizer.<name>``), ``optimizer`` its name and hyper-parameters.
            :func:`nncore.io.dumps` writes this.

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        return _state.state_of(self)

    @classmethod
    def from_state(cls, state: dict) -> Sequential:
        """The model :meth:`state` described, so training resumes bitwise where it stopped.

        Parameters
        ----------
        state : dict
            What :meth:`state` returned: architecture, compile settings, weights, buffers, step
            counts and optimizer state.

        Returns
        -------
        Sequential
            The model.

        Raises
        ------
        ValueError
            When the state does not fit together (TypeError or KeyError for wrong types).
        """
        return _state.from_state(cls, state)

    def save(self, path) -> None:
        """Write the model (architecture, weights, buffers, optimizer state) to a file.

        Parameters
        ----------
        path : str, path-like or binary file object
            The file, written atomically, in nncore's checksummed format (see
            :mod:`nncore.io`); or an object opened with ``"wb"`` (a ``BytesIO``, a socket's
            file), written to as it is. :func:`nncore.load` reads either.

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        _format.write_model(path, _format.encode(self.state()))

    def save_weights(self, path) -> None:
        """Write the weights and buffers, without the optimizer's state (Keras's
        ``save_weights``), in the format of :meth:`save`; :meth:`load_weights` reads them back.

        Parameters
        ----------
        path : str, path-like or binary file object
            As for :meth:`save` (written atomically). :func:`nncore.load` reads the file too,
            as a model whose optimizer (the same kind and settings) starts afresh.

        Raises
        ------
        RuntimeError
            When the model is not built yet.
        """
        _state.save_weights(self, path)

    def load_weights(self, path, *, max_bytes: int = _format.DEFAULT_MAX_BYTES) -> None:
        """Copy the weights and buffers of a model file into this model (Keras's
        ``load_weights``); the optimizer's state and the step counts stay as they are.

        The file is checked as :func:`nncore.load` checks it, so an untrusted file is safe, and
        nothing is written unless all of it fits.

        Parameters
        ----------
        path : str, path-like or binary file object
            A file from :meth:`save_weights` or :meth:`save` (or a ModelCheckpoint's).
        max_bytes : int, default 2 GiB
            Larger files are refused before they are read.

        Raises
        ------
        ModelFileError
            When the file is not a valid model file.
        ValueError
            When the file's model has other layers, inputs or weight shapes than this one (an
            unbuilt model is built for the file's inputs).
        OSError
            When the file cannot be opened.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import nncore as nc
        >>> def make(seed):
        ...     return nc.Sequential([nc.Dense(8, "relu"), nc.Dense(2)], input_dim=4, seed=seed)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "best.weights.nnc")
        >>> trained = make(0)
        >>> trained.save_weights(path)
        >>> other = make(1)
        >>> other.load_weights(path)
        >>> x = np.ones((2, 4), np.float32)
        >>> bool(np.array_equal(other.predict(x), trained.predict(x)))
        True
        >>> tmp.cleanup()
        """
        _state.load_weights(self, path, max_bytes)

    def quantize(self, X_calibration=None, *, activations="static", keep_last_fp32=True):
        """An int8 copy of this model for inference.

        BatchNorm is folded into each Dense, weights become int8 per output channel,
        activations u8 per tensor. See :mod:`nncore.quantize`.

        Parameters
        ----------
        X_calibration : array-like of shape (n_samples, n_features), optional
            Rows whose activation ranges fix the static scales (required with
            ``activations="static"``; unused with ``"dynamic"``).
        activations : {"static", "dynamic"}, default "static"
            Activation ranges from the calibration rows, or from each predicted block of up to
            4096 rows.
        keep_last_fp32 : bool, default True
            Keep the last layer in fp32 (False: int8 too).

        Returns
        -------
        QuantizedModel
            The int8 model; the fp32 model is unchanged.

        Raises
        ------
        ValueError
            On an unknown ``activations``, missing calibration rows, or a layer other than Dense,
            BatchNorm, Activation and Dropout.
        TypeError
            When ``keep_last_fp32`` is not a bool.
        RuntimeError
            When the model is not built.
        """
        return quantize.quantize(
            self, X_calibration, activations=activations, keep_last_fp32=keep_last_fp32
        )

    def export_onnx(self, path, *, opset: int | None = None) -> None:
        """Write the model as an ONNX graph computing :meth:`predict` (needs ``pip install onnx``).

        The graph has a symbolic batch dimension and is checked by ``onnx.checker``; see
        :mod:`nncore.onnx_export` for the layers it supports.

        Parameters
        ----------
        path : str or path-like
            The file to write.
        opset : int, optional
            The ONNX operator set (default: the newest this onnx supports, at most 21).
        """
        onnx_export.export_onnx(self, path, opset=opset)

    def __getstate__(self) -> dict:
        """Pickle (and copy.deepcopy, joblib, cloudpickle) through the ``.nnc`` format: weights,
        buffers, compile settings and optimizer state, so a copy resumes training bitwise like
        the original. Callable metrics travel as themselves; the history is not kept."""
        if self.engine is None:
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
        if self.optimizer is not None:  # the optimizer steps this model, not the temporary
            self.optimizer.attach(self, moved_from=model)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_dim={self.input_dim}, seed={self.seed})"
