"""Feature preprocessing fitted on training rows only: :class:`Standardizer`,
:class:`OrdinalEncoder` (categories -> integer codes for :class:`nncore.TabularInput`) and
:class:`SimpleImputer` (missing values). numpy only; fit/transform as scikit-learn's."""

from __future__ import annotations

import inspect
import warnings
from typing import Any, TypeVar

import numpy as np

__all__ = ["Standardizer", "OrdinalEncoder", "SimpleImputer"]

_T = TypeVar("_T", bound="_Transformer")


class _Transformer:
    """scikit-learn's transformer protocol without scikit-learn: ``get_params`` / ``set_params``
    read the constructor's parameters (so ``sklearn.base.clone``, ``Pipeline`` and the searches
    take these classes), ``fit`` and ``fit_transform`` accept and ignore ``y``."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, as scikit-learn's ``get_params``.

        Parameters
        ----------
        deep : bool
            Accepted for scikit-learn; these transformers hold no nested estimators.

        Returns
        -------
        dict
            Parameter name -> value.
        """
        names = [
            n
            for n, p in inspect.signature(type(self).__init__).parameters.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        return {n: getattr(self, n) for n in names}

    def set_params(self: _T, **params: Any) -> _T:
        """Set constructor parameters (their values are checked by the next :meth:`fit`).

        Parameters
        ----------
        **params
            Parameter name -> value.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For a name the constructor does not take.
        """
        current = self.get_params()
        unknown = sorted(set(params) - set(current))
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: invalid parameter {unknown[0]!r}; valid parameters "
                f"are {sorted(current)}"
            )
        for name, value in params.items():
            setattr(self, name, value)  # checked by the next fit, as in scikit-learn
        return self

    n_features_in_: int  # after fit: the width of the fitted X, as in scikit-learn
    _input_tags: dict[str, bool] = {"allow_nan": True}  # scikit-learn's InputTags fields

    def __sklearn_tags__(self) -> Any:
        # Called by scikit-learn (>= 1.6, whose Pipeline and searches ask every step), so the
        # import costs nothing to a numpy-only user.
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float32"]),
            input_tags=InputTags(**self._input_tags),
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def fit(self: _T, X: Any, y: Any = None) -> _T:  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    def transform(self, X: Any) -> np.ndarray:  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : ignored
            Accepted for scikit-learn's ``Pipeline``.

        Returns
        -------
        ndarray, float32
            ``transform(X)`` of the fitted transformer.
        """
        return self.fit(X).transform(X)


def _refuse_sparse(X: Any, who: str) -> None:
    if type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{who}: sparse input is not supported; pass X.toarray()")


def _check_2d(arr: np.ndarray, who: str) -> None:
    if arr.ndim != 2:
        raise ValueError(
            f"{who}: expected a 2-D array (samples, features), got {arr.ndim}-D. Reshape your "
            "data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample"
        )


def _fitted_rows(X: Any, width: int, who: str) -> np.ndarray:
    """X as a 2-D float64 array of the fitted width (transform's input)."""
    arr = _float_rows(X, who)
    if arr.shape[1] != width:
        raise ValueError(
            f"{who}: X has {arr.shape[1]} features, but {who.split('.')[0]} is expecting "
            f"{width} features as input (X has shape {arr.shape})"
        )
    return arr


def _float_rows(X: Any, who: str) -> np.ndarray:
    """X as a 2-D float64 array; the messages are scikit-learn's where it has one."""
    _refuse_sparse(X, who)
    raw = np.asarray(X)
    if raw.dtype.kind == "c":
        raise ValueError(f"{who}: Complex data not supported")
    try:
        arr = raw.astype(np.float64, copy=False)  # no copy of float64 input: nothing writes it
    except (TypeError, ValueError) as e:
        raise type(e)(f"{who}: X must be numeric: {e}") from None
    _check_2d(arr, who)
    return arr


def _check_not_empty(arr: np.ndarray, who: str) -> None:
    # the wording scikit-learn's estimator checks look for
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{who}: X has no rows or no features: {arr.shape[0]} sample(s) and {arr.shape[1]} "
            f"feature(s) (shape={arr.shape}) while a minimum of 1 is required."
        )


def _numeric_rows(X: Any, who: str) -> np.ndarray:
    """X as a 2-D float64 array with at least one row and no infinite values (NaN allowed)."""
    arr = _float_rows(X, who)
    _check_not_empty(arr, who)
    if np.isinf(arr).any():
        raise ValueError(f"{who}: X has infinite values (only NaN counts as missing)")
    return arr


class Standardizer(_Transformer):
    """Per-feature (x - mean) / std fitted on training rows (a constant feature keeps scale 1).

    Statistics are computed in float64; :meth:`transform` returns float32, nncore's dtype. After
    :meth:`fit`: ``mean_`` and ``scale_``, arrays of shape (features,). As in scikit-learn's
    StandardScaler, NaN counts as missing: left out of the statistics and kept by
    :meth:`transform` (a column with no value gets mean 0 and scale 1).

    Raises
    ------
    AttributeError
        From :meth:`transform`, when the standardizer is not fitted.
    ValueError
        When ``X`` is not a non-empty 2-D numeric array, has infinite values, or (in
        :meth:`transform`) its width differs from the fitted one.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.preprocessing import Standardizer
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    >>> scaler = Standardizer().fit(X)
    >>> scaler.mean_, scaler.scale_.round(4)
    (array([ 3., 10.]), array([1.633, 1.   ]))
    >>> Z = scaler.transform(X)
    >>> Z.dtype
    dtype('float32')
    >>> Z.round(4)
    array([[-1.2247,  0.    ],
           [ 0.    ,  0.    ],
           [ 1.2247,  0.    ]], dtype=float32)
    """

    mean_: np.ndarray
    scale_: np.ndarray

    def fit(self, X: Any, y: Any = None) -> Standardizer:
        """Learn each feature's mean and standard deviation from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; NaN marks a missing value.
        y : ignored
            Accepted for scikit-learn's ``Pipeline``.

        Returns
        -------
        Standardizer
            self, fitted.
        """
        X = _numeric_rows(X, "Standardizer.fit")
        if not np.isnan(X).any():
            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
        else:
            with warnings.catch_warnings():  # a column with no value: mean 0, scale 1 below
                warnings.simplefilter("ignore", RuntimeWarning)
                self.mean_ = np.nan_to_num(np.nanmean(X, axis=0), nan=0.0)
                std = np.nan_to_num(np.nanstd(X, axis=0), nan=0.0)
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Standardize ``X`` with the learned statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to transform.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
            ``(X - mean_) / scale_``, C-contiguous.
        """
        z: np.ndarray = (
            _fitted_rows(X, len(self.mean_), "Standardizer.transform") - self.mean_
        ) / self.scale_
        return z.astype(np.float32)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Undo :meth:`transform`: ``Z * scale_ + mean_``, in float64.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_features)
            Standardized rows, for example a regression model's predictions of a standardized
            target.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
            The rows in the original units.
        """
        z = _fitted_rows(Z, len(self.mean_), "Standardizer.inverse_transform")
        x: np.ndarray = z * self.scale_ + self.mean_
        return x


def _columns(X: Any, name: str) -> np.ndarray:
    _refuse_sparse(X, name)
    arr = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    if arr.dtype.kind == "c":
        raise ValueError(f"{name}: Complex data not supported")
    _check_2d(arr, name)
    _check_not_empty(arr, name)
    return arr


class OrdinalEncoder(_Transformer):
    """Each column's categories (any values: strings, numbers) -> integer codes 0 .. k-1 in
    sorted order of their text, learned from training rows (scikit-learn's OrdinalEncoder, numpy
    only). The codes feed :class:`nncore.TabularInput` with ``categorical=cardinalities()``.

    Parameters
    ----------
    unknown : {"error", "reserve"}
        A value not seen by :meth:`fit`: raise ValueError naming the column and the value, or
        get the code k (the column's cardinality), which ``TabularInput(unknown="reserve")``
        reads as its reserved row.

    Attributes
    ----------
    categories_ : list of arrays of str
        The sorted categories of each column (as text).

    Examples
    --------
    >>> from nncore.preprocessing import OrdinalEncoder
    >>> enc = OrdinalEncoder(unknown="reserve").fit([["red", "s"], ["blue", "m"], ["red", "m"]])
    >>> enc.categories_[0].tolist(), enc.cardinalities()
    (['blue', 'red'], [2, 2])
    >>> enc.transform([["red", "xl"], ["green", "s"]])
    array([[1., 2.],
           [2., 1.]], dtype=float32)
    """

    categories_: list[np.ndarray]
    _input_tags = {"allow_nan": True, "string": True, "categorical": True}

    def __init__(self, unknown: str = "error"):
        self.unknown = unknown  # checked by fit, as scikit-learn checks parameters

    def fit(self, X: Any, y: Any = None) -> OrdinalEncoder:
        """Learn each column's categories.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Training rows (any values; compared as strings).
        y : ignored
            Accepted for scikit-learn's ``Pipeline``.

        Returns
        -------
        OrdinalEncoder
            self, fitted.
        """
        if self.unknown not in ("error", "reserve"):
            raise ValueError(
                f"OrdinalEncoder: unknown must be 'error' or 'reserve', got {self.unknown!r}"
            )
        arr = _columns(X, "OrdinalEncoder.fit")
        self.categories_ = [np.unique(arr[:, j].astype(str)) for j in range(arr.shape[1])]
        self.n_features_in_ = arr.shape[1]
        return self

    def cardinalities(self) -> list[int]:
        """The number of categories of each column.

        Returns
        -------
        list of int
            One count per column (``len(categories_[j])``).
        """
        return [len(c) for c in self.categories_]

    def transform(self, X: Any) -> np.ndarray:
        """Replace each value by its category's code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Rows with the fitted columns.

        Returns
        -------
        ndarray of shape (n_samples, n_columns), float32
            The codes, in nncore's input dtype (exact up to 2**24 codes).

        Raises
        ------
        ValueError
            When X has another number of columns than the fitted data, or (with
            ``unknown="error"``) a category not seen in ``fit``.
        """
        arr = _columns(X, "OrdinalEncoder.transform")
        if arr.shape[1] != len(self.categories_):
            raise ValueError(
                f"OrdinalEncoder.transform: X has {arr.shape[1]} features, but OrdinalEncoder is "
                f"expecting {len(self.categories_)} features as input (the fitted columns)"
            )
        out = np.empty(arr.shape, np.float32)
        for j, cats in enumerate(self.categories_):
            v = arr[:, j].astype(str)
            code = np.searchsorted(cats, v)
            known = (code < len(cats)) & (cats[np.minimum(code, len(cats) - 1)] == v)
            if not known.all():
                if self.unknown == "error":
                    bad = str(v[np.argmin(known)])
                    raise ValueError(
                        f"OrdinalEncoder: column {j} has the unknown category {bad!r} "
                        "(use unknown='reserve')"
                    )
                code = np.where(known, code, len(cats))
            out[:, j] = code
        return out


class SimpleImputer(_Transformer):
    """Missing values (NaN) replaced by each column's mean, median or zero, learned from training
    rows (scikit-learn's SimpleImputer, numpy only). A column with no value at all gets 0.

    Parameters
    ----------
    strategy : {"mean", "median", "zero"}
    add_indicator : bool
        Append one 0/1 column per column that had missing values in :meth:`fit` (1 where the
        value was missing), after the imputed columns.

    Attributes
    ----------
    statistics_ : array (columns,)
        The value that replaces NaN in each column.
    indicator_columns_ : array of int
        The columns that get an indicator (those with NaN in fit; empty without add_indicator).

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.preprocessing import SimpleImputer
    >>> imp = SimpleImputer("median", add_indicator=True).fit([[1.0, 2.0], [np.nan, 4.0], [3.0, 9.0]])
    >>> imp.statistics_.tolist(), imp.indicator_columns_.tolist()
    ([2.0, 4.0], [0])
    >>> imp.transform([[np.nan, np.nan]])
    array([[2., 4., 1.]], dtype=float32)
    """

    statistics_: np.ndarray
    indicator_columns_: np.ndarray

    def __init__(self, strategy: str = "mean", *, add_indicator: bool = False):
        # checked by fit, as scikit-learn checks parameters (clone and set_params copy them as is)
        self.strategy, self.add_indicator = strategy, add_indicator

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Learn each column's replacement value.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; NaN marks a missing value.
        y : ignored
            Accepted for scikit-learn's ``Pipeline``.

        Returns
        -------
        SimpleImputer
            self, fitted.

        Raises
        ------
        ValueError
            When X is not a non-empty 2-D numeric array or has infinite values.
        """
        if self.strategy not in ("mean", "median", "zero"):
            raise ValueError(
                f"SimpleImputer: strategy must be 'mean', 'median' or 'zero', got {self.strategy!r}"
            )
        if not isinstance(self.add_indicator, (bool, np.bool_)):
            raise ValueError(
                f"SimpleImputer: add_indicator must be a bool, got {self.add_indicator!r}"
            )
        arr = _numeric_rows(X, "SimpleImputer.fit")
        missing = np.isnan(arr)
        stats = np.zeros(arr.shape[1])
        for j in range(arr.shape[1]):
            col = arr[~missing[:, j], j]
            if col.size and self.strategy != "zero":
                stats[j] = col.mean() if self.strategy == "mean" else np.median(col)
        self.statistics_ = stats
        self.n_features_in_ = arr.shape[1]
        self.indicator_columns_ = (
            np.flatnonzero(missing.any(axis=0)) if self.add_indicator else np.zeros(0, np.int64)
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Replace the missing values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the fitted columns; NaN marks a missing value.

        Returns
        -------
        ndarray of shape (n_samples, n_features [+ n_indicators]), float32
            X imputed, followed by the missing-indicator columns when ``add_indicator``.

        Raises
        ------
        ValueError
            When X has another number of columns than the fitted data.
        """
        arr = _fitted_rows(X, len(self.statistics_), "SimpleImputer.transform")
        missing = np.isnan(arr)
        out = np.where(missing, self.statistics_, arr)
        if self.indicator_columns_.size:
            out = np.hstack([out, missing[:, self.indicator_columns_]])
        return out.astype(np.float32)
