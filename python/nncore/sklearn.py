"""scikit-learn estimators backed by nncore: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's contract (``__init__`` only stores arguments, fitted attributes end in
``_``, ``fit`` returns self) and so work in Pipeline, GridSearchCV, cross_val_score and clone, and
pickle (the network travels in nncore's own file format). Differences from
``sklearn.neural_network``:

- regularization is nncore's per-layer ``l1``/``l2`` penalty ``l2·ΣW²`` added to the mean loss
  (scikit-learn's ``alpha`` corresponds to ``l2 = alpha / (2·n_samples)``); ``dropout`` and
  ``batchnorm`` add those layers after each hidden Dense;
- ``batch_size`` defaults to 32 (``"auto"`` means min(200, n_samples), as in scikit-learn);
- stopping: training stops when the monitored loss (training loss, or the validation loss with
  ``early_stopping``) has not improved by ``tol`` for ``n_iter_no_change`` epochs; with
  ``early_stopping`` the best epoch's weights are restored. No ConvergenceWarning is issued;
  ``n_iter_`` says how many epochs ran;
- ``random_state=None`` draws a fresh seed per fit (scikit-learn semantics); an int makes fits
  bitwise reproducible for any ``n_threads``.

Needs scikit-learn: ``pip install nncore[sklearn]``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "nncore.sklearn needs scikit-learn (>= 1.6): pip install nncore[sklearn]"
    ) from e

from .callbacks import EarlyStopping

_ACTIVATIONS = {"logistic": "sigmoid", "identity": "linear"}


class _Stopper(EarlyStopping):
    """Early stopping by scikit-learn's MLP rule: stops when ``key`` has not improved by ``tol``
    for ``patience`` epochs; the best value (and, with ``keep_best``, the weights restored at the
    end) follows every decrease."""

    _best_follows_any_gain = True
    _skip_nonfinite = True

    def __init__(self, key, patience, tol, keep_best):
        super().__init__(key, "min", patience, tol, restore_best=keep_best)


class _BaseMLP(BaseEstimator):
    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        batchnorm=False,
        dropout=0.0,
        l1=0.0,
        l2=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        optimizer_kwargs=None,
        batch_size=32,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        class_weight=None,
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.l1 = l1
        self.l2 = l2
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.optimizer_kwargs = optimizer_kwargs
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------------------ helpers
    def _check_params(self):
        hls = self.hidden_layer_sizes
        if isinstance(hls, (int, np.integer)):
            hls = (int(hls),)
        hls = tuple(hls)
        for h in hls:
            if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
                raise ValueError(
                    f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}"
                )
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.early_stopping and not 0.0 < float(self.validation_fraction) < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )
        if not isinstance(self.n_iter_no_change, (int, np.integer)) or self.n_iter_no_change < 1:
            raise ValueError(
                f"n_iter_no_change must be a positive integer, got {self.n_iter_no_change!r}"
            )
        if not float(self.tol) >= 0:
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}")
        if float(self.learning_rate) <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        return hls

    def _build(self, n_in, n_out, loss, seed):
        from . import optim as _optim
        from ._mlp import build_mlp

        hidden = self._check_params()
        opt = self.optimizer
        if isinstance(opt, str):
            opt = _optim.get(opt, lr=float(self.learning_rate), **(self.optimizer_kwargs or {}))
        return build_mlp(
            n_in,
            n_out,
            hidden,
            _ACTIVATIONS.get(self.activation, self.activation),
            batchnorm=bool(self.batchnorm),
            dropout=float(self.dropout),
            l1=float(self.l1),
            l2=float(self.l2),
            seed=seed,
            optimizer=opt,
            loss=loss,
        )

    def _seed(self):
        if isinstance(self.random_state, (int, np.integer)) and not isinstance(
            self.random_state, bool
        ):
            return int(self.random_state) & 0x7FFFFFFF
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _batch_size(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, (int, np.integer))
            or self.batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be a positive integer or 'auto', got {self.batch_size!r}"
            )
        return min(int(self.batch_size), n)

    def _fit_model(self, X, y_enc, n_out, loss, sample_weight, class_weight):
        import nncore as nc

        seed = self._seed()
        model = self._build(X.shape[1], n_out, loss, seed)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if np.all(sw == 1.0):  # unit weights are no weights (bitwise the same fit)
                sw = None
        val = None
        if self.early_stopping:
            X, y_enc, sw, val = self._validation_split(X, y_enc, sw, loss, seed)
        use_val = val is not None
        stopper = _Stopper(
            "val_loss" if use_val else "loss",
            int(self.n_iter_no_change),
            float(self.tol),
            keep_best=use_val,
        )
        ctx = nc.num_threads(int(self.n_threads)) if self.n_threads else nullcontext()
        with ctx:
            hist = model.fit(
                X,
                y_enc,
                epochs=int(self.max_iter),
                batch_size=self._batch_size(X.shape[0]),
                seed=seed,
                callbacks=[stopper],
                verbose=int(self.verbose),
                sample_weight=sw,
                class_weight=class_weight,
                validation_data=val,
            )
        self.model_ = model
        self.history_ = dict(hist.history)
        self.loss_curve_ = list(hist.history.get("loss", []))
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else float("nan")
        if use_val:
            self.validation_loss_curve_ = list(hist.history.get("val_loss", []))
            self.best_loss_ = float(stopper.best)
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _validation_split(self, X, y_enc, sw, loss, seed):
        """(X, y, sw) to train on and the held-out validation_data for early stopping (None
        when the split leaves either part empty). Stratified for classifiers when every class
        allows it."""
        from ._split import holdout_indices

        n, frac = X.shape[0], float(self.validation_fraction)
        strat = y_enc if loss == "cross_entropy" else None
        try:
            tr, va = holdout_indices(n, frac, seed, stratify=strat)
        except ValueError:
            tr, va = holdout_indices(n, frac, seed)
        if len(va) == 0 or len(tr) == 0:
            return X, y_enc, sw, None
        val = (X[va], y_enc[va]) if sw is None else (X[va], y_enc[va], sw[va])
        return X[tr], y_enc[tr], None if sw is None else sw[tr], val

    def _predict_raw(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        ctx: Any = nullcontext()
        if self.n_threads:
            import nncore as nc

            ctx = nc.num_threads(int(self.n_threads))
        with ctx:
            return np.asarray(self.model_.predict(X), dtype=np.float64)

    # --------------------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            from ._serialize import to_bytes

            state = dict(state)
            state["model_"] = _Serialized(to_bytes(state["model_"]))
        return state

    def __setstate__(self, state):
        m = state.get("model_")
        if isinstance(m, _Serialized):
            from ._serialize import from_bytes

            state = dict(state)
            state["model_"] = from_bytes(m.data)
        super().__setstate__(state)


class _Serialized:
    def __init__(self, data: bytes):
        self.data = data


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (softmax cross-entropy) trained by nncore.

    Any label type (strings, non-contiguous integers) is encoded through ``classes_``.
    ``predict_proba`` returns float64 probabilities with columns in ``classes_`` order.
    ``class_weight``: None, "balanced" or {label: weight}.

    Fitted attributes: ``classes_``, ``n_features_in_`` (and ``feature_names_in_``), ``model_``
    (the :class:`nncore.Sequential`), ``history_``, ``loss_curve_``, ``loss_``, ``n_iter_`` and,
    with early stopping, ``validation_loss_curve_``/``best_loss_``.
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        y_enc = enc.transform(y).astype(np.int32)
        if len(self.classes_) < 2:
            raise ValueError(
                f"MLPClassifier needs at least 2 classes in y; got one class ({self.classes_[0]!r})"
            )
        cw = self.class_weight
        if isinstance(cw, dict):
            missing = [c for c in cw if c not in set(self.classes_.tolist())]
            if missing:
                raise ValueError(f"class_weight names labels not in y: {missing!r}")
            cw = {int(enc.transform([c])[0]): float(w) for c, w in cw.items()}
        elif cw is not None and cw != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}")
        return self._fit_model(X, y_enc, len(self.classes_), "cross_entropy", sample_weight, cw)

    def predict_proba(self, X):
        p = self._predict_raw(X)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(np.clip(self.predict_proba(X), 1e-300, None))

    def predict(self, X):
        p = self._predict_raw(X)
        return self.classes_[np.argmax(p, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (mean squared error) trained by nncore; y may have
    several columns. ``predict`` returns float64 of y's shape (1-D for 1-D y). ``class_weight``
    is ignored (it exists so both estimators share parameters)."""

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=True, multi_output=True
        )
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        self.n_outputs_ = Y.shape[1]
        return self._fit_model(X, Y.astype(np.float32), Y.shape[1], "mse", sample_weight, None)

    def predict(self, X):
        p = self._predict_raw(X)
        return p[:, 0] if self._y_1d else p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
