"""What MLPClassifier and MLPRegressor share: parameter validation, the first-pass/warm-start/
incremental logic, the weight initialisation and the fitted attributes, as scikit-learn 1.9's
``BaseMultilayerPerceptron`` defines them (re-implemented, not copied)."""

from __future__ import annotations

import contextlib
import weakref
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._engine import CHUNK, Engine, core_loss
from ._stochastic import StochasticSolver

# One Engine per network (building one reads the layer table from the core), keyed weakly by
# the network: not on the estimator, whose __dict__ predict must leave unchanged.
_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

SKLEARN_ACTIVATIONS = {"identity", "logistic", "tanh", "relu"}
# nncore extras accepted by ``activation`` and ``solver`` besides scikit-learn's names.
EXTRA_ACTIVATIONS = {"leaky_relu", "elu", "selu", "gelu", "softplus", "silu"}
STOCHASTIC = {"sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad"}
_TO_CORE_ACT = {"identity": "linear", "logistic": "sigmoid"}


class BaseMLP(StochasticSolver, BaseEstimator):
    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(SKLEARN_ACTIVATIONS | EXTRA_ACTIVATIONS)],
        "solver": [StrOptions({"lbfgs"} | STOCHASTIC)],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        # nncore extras
        "batchnorm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_norm": [None, Interval(Real, 0, None, closed="neither")],
        "optimizer_kwargs": [None, dict],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------------------ fitting
    def _hidden(self) -> list:
        h = self.hidden_layer_sizes
        h = list(h) if hasattr(h, "__iter__") else [h]
        if np.any(np.array(h) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {h}.")
        return [int(v) for v in h]

    def _threads(self):
        if self.n_threads is None:
            return contextlib.nullcontext()
        import nncore as nc

        return nc.num_threads(int(self.n_threads))

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self._hidden()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        sw = self._extra_weights(Y, sample_weight)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        self.n_outputs_ = Y.shape[1]
        layer_units = [X.shape[1]] + hidden + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            eng = self._initialize(Y, layer_units, X.dtype)
        else:
            eng = self._engine()
        Xs = _training_matrix(X)
        eng.model.engine.set_batch_l2(
            eng.alpha
        )  # the network may have been used with another alpha
        with self._threads():
            if self.solver == "lbfgs":
                from ._lbfgs import fit_lbfgs

                fit_lbfgs(self, eng, Xs, Y, sw)
            else:
                self._fit_stochastic(eng, Xs, Y, sw, incremental)
        self.coefs_, self.intercepts_ = eng.read(X.dtype)
        self._synced = (list(self.coefs_), list(self.intercepts_))
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large"
                " values and need to be preprocessed."
            )
        return self

    def _extra_weights(self, Y, sample_weight):
        """Sample weights (float64) with nncore's extras folded in, or None."""
        return None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

    def _out_activation(self) -> str:
        raise NotImplementedError

    def _initialize(self, Y, layer_units, dtype) -> Engine:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        coefs, intercepts = [], []
        # Glorot-uniform, drawn from the estimator's random state in scikit-learn's order, so a
        # given random_state starts from scikit-learn's own initial weights.
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(self._random_state.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(self._random_state.uniform(-bound, bound, fan_out))
        eng = self._build(layer_units)
        eng.write(coefs, intercepts)
        self.coefs_, self.intercepts_ = eng.read(dtype)
        self._synced = (list(self.coefs_), list(self.intercepts_))
        self._best_params = eng.params_flat()
        if self.solver != "lbfgs":
            self.loss_curve_: list = []
            self._no_improvement_count = 0
            scores: list | None = None
            best_score: float | None = None
            best_loss: float | None = None
            if self.early_stopping:
                scores, best_score = [], -np.inf
            else:
                best_loss = np.inf
            self.validation_scores_ = scores
            self.best_validation_score_ = best_score
            self.best_loss_ = best_loss
        return eng

    def _build(self, layer_units) -> Engine:
        from .._mlp import build_mlp

        seed = 0
        if self.dropout:  # the dropout masks' seed; drawn only then, so the default fit draws
            seed = int(self._random_state.randint(0, 2**31 - 1))  # what scikit-learn draws
        model = build_mlp(
            layer_units[0],
            layer_units[-1],
            layer_units[1:-1],
            str(_TO_CORE_ACT.get(self.activation, self.activation)),
            batchnorm=bool(self.batchnorm),
            dropout=float(self.dropout),
            l1=float(self.l1),
            l2=float(self.l2),
            max_norm=self.max_norm,
            seed=seed,
            optimizer="sgd",
            loss=core_loss(self.out_activation_),
        )
        self.model_ = model
        return Engine(model, self.out_activation_, self.alpha, bool(self.l1 or self.l2))

    def _engine(self) -> Engine:
        """The engine over the current network with ``coefs_``/``intercepts_`` loaded into it
        when they were set or changed from outside (scikit-learn reads its weights from there)."""
        model = getattr(self, "model_", None)
        coefs, intercepts = self.coefs_, self.intercepts_
        eng = None
        if model is not None:
            # One Engine per network and settings, kept between calls (_ENGINES).
            key = (self.out_activation_, float(self.alpha), bool(self.l1 or self.l2))
            cached = _ENGINES.get(model)
            if cached is not None and cached[0] == key and cached[1].model is model:
                eng = cached[1]
            else:
                eng = Engine(model, self.out_activation_, self.alpha, bool(self.l1 or self.l2))
                _ENGINES[model] = (key, eng)
            if eng.shapes() != [np.shape(c)[::-1] for c in coefs]:
                eng = None
        if eng is None:
            units = [np.shape(coefs[0])[0]] + [np.shape(c)[1] for c in coefs]
            eng = self._build(units)
            eng.write(coefs, intercepts)
            return eng
        synced = getattr(self, "_synced", None)
        unchanged = (
            synced is not None
            and len(synced[0]) == len(coefs)
            and all(a is b for a, b in zip(synced[0] + synced[1], list(coefs) + list(intercepts)))
        )
        if not (unchanged and eng.same_as(coefs, intercepts)):
            eng.write(coefs, intercepts)
        return eng

    def _optimizer_extras(self) -> dict:
        return {}

    # ---------------------------------------------------------------------------- outputs
    def _plain_input(self, X) -> bool:
        """Whether X is a plain float ndarray that validate_data(X) would return as it is
        (when it holds no NaN/inf: the core checks that while it reads X)."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] >= 1
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
        )

    def _validate_predict_input(self, X):
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], reset=False, dtype=(np.float64, np.float32)
        )

    def _forward(self, X, check_input=True, eng=None, raw=False) -> np.ndarray:
        """The output activation's values in X's float dtype (from ``eng`` during a fit, whose
        network is ahead of ``coefs_``); with ``raw``, the core's float32 outputs before it.

        A plain float ndarray skips validate_data (a third of a small predict) and scikit-learn's
        finiteness test (a pass over X): the core converts, checks and runs X chunk by chunk in
        one read (``_core.infer_rows``). When it finds a NaN or infinity, or X is anything else,
        validate_data runs and warns or raises exactly as scikit-learn does."""
        unchecked = check_input and self._plain_input(X)
        if check_input and not unchecked:
            X = self._validate_predict_input(X)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        with self._threads():
            eng = eng or self._engine()
            z = eng.infer_rows(X)
            if z is None:
                if unchecked:
                    X = self._validate_predict_input(X)
                z = eng.outputs(X)
        return z if raw else eng.activate(z, dtype)

    def _score_fast(self, eng, X, y, sample_weight):
        """The validation score scikit-learn computes for early stopping (NaN when the
        predictions are not finite)."""
        y_pred = self._predict(X, check_input=False, eng=eng)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return float(self._score_function(y, y_pred, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --------------------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            from .._serialize import to_bytes

            state = dict(state)
            state["model_"] = _Serialized(to_bytes(state["model_"]))
            state.pop("_synced", None)
        return state

    def __setstate__(self, state):
        m = state.get("model_")
        if isinstance(m, _Serialized):
            from .._serialize import from_bytes

            state = dict(state)
            state["model_"] = from_bytes(m.data)
        super().__setstate__(state)


class _Serialized:
    def __init__(self, data: bytes):
        self.data = data


def _training_matrix(X):
    """X as the batches read it: dense float32 C-contiguous (one copy), or CSR as it is (each
    batch is densified on its own, so a sparse X never becomes dense as a whole)."""
    if sp.issparse(X):
        return X.tocsr()
    return np.ascontiguousarray(X, dtype=np.float32)


def check_fitted(est):
    check_is_fitted(est, ["coefs_", "intercepts_"])


__all__ = ["BaseMLP", "CHUNK", "check_fitted"]
