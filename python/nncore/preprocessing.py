"""Feature preprocessing fitted on training rows only: :class:`Standardizer`,
:class:`OrdinalEncoder` (categories -> integer codes for :class:`nncore.TabularInput`) and
:class:`SimpleImputer` (missing values). numpy only; fit/transform as scikit-learn's."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Standardizer", "OrdinalEncoder", "SimpleImputer"]


class Standardizer:
    """Per-feature (x - mean) / std fitted on training rows (a constant feature keeps scale 1).

    Statistics are computed in float64; :meth:`transform` returns float32, nncore's dtype. After
    :meth:`fit`: ``mean_`` and ``scale_``, arrays of shape (features,).

    Raises
    ------
    AttributeError
        From :meth:`transform`, when the standardizer is not fitted.
    ValueError
        When ``X`` is not numeric or (in :meth:`transform`) its width differs from the fitted
        one.

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

    def fit(self, X: Any) -> Standardizer:
        """Learn each feature's mean and standard deviation from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.

        Returns
        -------
        Standardizer
            self, fitted.
        """
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
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
        z: np.ndarray = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return z.astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.

        Returns
        -------
        ndarray, float32
            ``transform(X)`` of the fitted transformer.
        """
        return self.fit(X).transform(X)


def _columns(X: Any, name: str) -> np.ndarray:
    arr = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (samples, columns), got {arr.ndim}-D")
    return arr


class OrdinalEncoder:
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

    def __init__(self, unknown: str = "error"):
        if unknown not in ("error", "reserve"):
            raise ValueError(
                f"OrdinalEncoder: unknown must be 'error' or 'reserve', got {unknown!r}"
            )
        self.unknown = unknown

    def fit(self, X: Any) -> OrdinalEncoder:
        """Learn each column's categories.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Training rows (any values; compared as strings).

        Returns
        -------
        OrdinalEncoder
            self, fitted.
        """
        arr = _columns(X, "OrdinalEncoder.fit")
        self.categories_ = [np.unique(arr[:, j].astype(str)) for j in range(arr.shape[1])]
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
                f"OrdinalEncoder: X has {arr.shape[1]} columns, fitted on {len(self.categories_)}"
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

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.

        Returns
        -------
        ndarray, float32
            ``transform(X)`` of the fitted transformer.
        """
        return self.fit(X).transform(X)


class SimpleImputer:
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
        if strategy not in ("mean", "median", "zero"):
            raise ValueError(
                f"SimpleImputer: strategy must be 'mean', 'median' or 'zero', got {strategy!r}"
            )
        self.strategy, self.add_indicator = strategy, bool(add_indicator)

    def fit(self, X: Any) -> SimpleImputer:
        """Learn each column's replacement value.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; NaN marks a missing value.

        Returns
        -------
        SimpleImputer
            self, fitted.

        Raises
        ------
        ValueError
            When X is not 2-D or has infinite values.
        """
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"SimpleImputer: expected a 2-D array, got {arr.ndim}-D")
        if np.isinf(arr).any():
            raise ValueError("SimpleImputer: X has infinite values (only NaN counts as missing)")
        missing = np.isnan(arr)
        stats = np.zeros(arr.shape[1])
        for j in range(arr.shape[1]):
            col = arr[~missing[:, j], j]
            if col.size and self.strategy != "zero":
                stats[j] = col.mean() if self.strategy == "mean" else np.median(col)
        self.statistics_ = stats
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
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.statistics_):
            raise ValueError(
                f"SimpleImputer: expected {len(self.statistics_)} columns, got shape {arr.shape}"
            )
        missing = np.isnan(arr)
        out = np.where(missing, self.statistics_, arr)
        if self.indicator_columns_.size:
            out = np.hstack([out, missing[:, self.indicator_columns_]])
        return out.astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.

        Returns
        -------
        ndarray, float32
            ``transform(X)`` of the fitted transformer.
        """
        return self.fit(X).transform(X)
