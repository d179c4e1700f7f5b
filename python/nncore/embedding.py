"""Categorical inputs: :class:`Embedding` and :class:`TabularInput`, the first layer of a model
whose X holds integer codes in some columns (one float32 matrix; the core's ``embedding`` layer).

Both are the same core layer kind: code columns read rows of learned tables (N(0, 1) at start, as
``torch.nn.Embedding``), numeric columns pass through first. Its input is the raw X, so it can only
be a model's first layer. Its gradient with respect to X is 0 for the code columns (codes are
piecewise constant) and dy for the numeric ones; ``Sequential.backward`` returns that.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ._validation import check_finite, check_X
from .layers import LAYER_TYPES, Layer

__all__ = ["Embedding", "TabularInput", "MAX_CARDINALITY"]

# float32 holds every integer exactly only up to 2**24: larger codes would alias.
MAX_CARDINALITY = 2**24
_UNKNOWN = ("error", "reserve")


def _count(value, what: str) -> int:
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or not 1 <= int(value) <= MAX_CARDINALITY
    ):
        raise ValueError(f"{what} must be an integer in [1, 2**24], got {value!r}")
    return int(value)


def _column(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a column index (an integer >= 0), got {value!r}")
    return int(value)


def _unknown(value, title: str) -> str:
    if value not in _UNKNOWN:
        raise ValueError(f"{title}: unknown must be 'error' or 'reserve', got {value!r}")
    return value


class CodesInput(Layer):
    """What both input layers share: checking X's codes in Python, before the core sees them."""

    unknown: str

    def layout(self, n_features: int) -> tuple[list[int], list[int], list[int]]:
        """Which columns of an input of ``n_features`` columns are numeric and which are codes.

        Parameters
        ----------
        n_features : int
            Columns of the input.

        Returns
        -------
        tuple of three lists of int
            The numeric columns, the code columns and the cardinality of each code column.
        """
        raise NotImplementedError

    def check_input(self, X, n_features: int | None, name: str) -> np.ndarray:
        """X as C-contiguous float32, with every column outside the code columns finite and every
        code valid (or, with unknown='reserve', anything: invalid codes read the reserved row)."""
        arr = check_X(X, n_features=n_features, name=name, finite=False)
        numeric, cols, cards = self.layout(arr.shape[1])
        other = np.ones(arr.shape[1], bool)
        other[cols] = False
        if other.all():
            check_finite(arr, name)
        elif other.any():
            rest = np.flatnonzero(other)
            ok = np.isfinite(arr[:, rest])
            if not ok.all():
                i, j = np.argwhere(~ok)[0]
                raise ValueError(
                    f"{name}: contains {arr[i, rest[j]]} at row {i}, column {rest[j]} (not a "
                    "categorical column); NaN and inf are not allowed"
                )
        if self.unknown == "reserve":
            return arr
        for c, card in zip(cols, cards):
            v = arr[:, c]
            with np.errstate(invalid="ignore"):
                ok = (v >= 0) & (v < card) & (v == np.floor(v))
            if not ok.all():
                row = int(np.argmin(ok))
                raise ValueError(
                    f"{name}: categorical column {c} holds {float(v[row])!r} at row {row}: not a "
                    f"code in [0, {card}) (cardinality {card}). Codes are integers 0 .. "
                    "cardinality - 1; pass unknown='reserve' to map unknown codes to a reserved row"
                )
        return arr

    def table_names(self, n_features: int) -> list[str]:
        """The parameter (without the layer prefix) each code column reads, in output order.

        Parameters
        ----------
        n_features : int
            Columns of the input.

        Returns
        -------
        list of str
            One table name per code column (``"weight"``, or ``"weight_0"``, ...).
        """
        raise NotImplementedError


class Embedding(CodesInput):
    """Embedding of integer codes: every column of X is a code in [0, cardinality) and reads a
    row of one shared (cardinality, dim) table; (n, k) -> (n, k·dim), column by column.

    For one column this is ``torch.nn.Embedding(cardinality, dim)`` on ``x[:, 0].long()``; for k
    columns it is the same module on ``x.long()`` flattened to (n, k·dim) (Keras' Embedding +
    Flatten). The table starts N(0, 1) as torch's. Use :class:`TabularInput` for one table per
    column or numeric columns next to codes. It must be the model's first layer.

    Parameters
    ----------
    cardinality : int
        Number of codes, in [1, 2**24] (float32 holds integers exactly up to 2**24).
    dim : int
        Width of each code's vector.
    unknown : {"error", "reserve"}
        What a code outside [0, cardinality), a fraction or NaN does: raise ValueError naming the
        column, row and value, or read an extra, last table row (it starts at zero).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Embedding(10, 3), nc.Dense(1)], input_dim=2)
    >>> model.predict(np.array([[0, 9], [3, 3]], np.float32)).shape
    (2, 1)
    >>> model.parameters()["0.weight"].shape
    (10, 3)
    """

    @staticmethod
    def from_config(cfg: dict) -> Layer:
        """What ``layer_from_config`` calls for an ``embedding`` config.

        Parameters
        ----------
        cfg : dict
            The layer's config, as ``get_config`` wrote it.

        Returns
        -------
        Embedding or TabularInput
            A TabularInput when the config names its columns, else an Embedding.
        """
        return from_config(cfg)

    def __init__(self, cardinality: int, dim: int, *, unknown: str = "error"):
        self.cardinality = _count(cardinality, "Embedding: cardinality")
        self.dim = _count(dim, "Embedding: dim")
        self.unknown = _unknown(unknown, "Embedding")

    def spec(self) -> dict:
        return {
            "type": "embedding",
            "cardinality": [self.cardinality],
            "dim": [self.dim],
            "reserve": self.unknown == "reserve",
        }

    def layout(self, n_features):
        return [], list(range(n_features)), [self.cardinality] * n_features

    def table_names(self, n_features):
        return ["weight"] * n_features

    def output_width(self, width):
        return None if width is None else width * self.dim

    def __repr__(self) -> str:
        return f"Embedding({self.cardinality}, {self.dim}, unknown={self.unknown!r})"


class TabularInput(CodesInput):
    """The input of a mixed table: numeric columns and integer-coded categorical columns of one
    float32 X. Output: the numeric columns (in the order given), then each categorical column's
    embedding (in the order of ``categorical``), concatenated. Each categorical column has its
    own table of ``cardinality`` rows (N(0, 1) at start). It must be the model's first layer.

    Parameters
    ----------
    numeric : list of int or None
        Columns passed through as they are. None: every column not in ``categorical``, in order.
        Columns in neither list are ignored.
    categorical : dict {column: cardinality}
        The code columns and their number of codes (codes are 0 .. cardinality - 1).
    embed_dim : int or dict {column: int}
        Width of each column's vectors; a dict gives one per column. Default 8 (a common choice
        for tabular data; e.g. min(50, (cardinality + 1) // 2) is another rule).
    unknown : {"error", "reserve"}
        What a code outside [0, cardinality), a fraction or NaN does: raise ValueError naming the
        column, row and value, or read an extra, last row of that column's table (it starts at
        zero, so an unseen category adds nothing until trained).

    Raises
    ------
    ValueError
        For a cardinality or dim that is not a positive integer, a column in both lists or
        repeated, an empty ``categorical``, and (when the model is built) a column out of range.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> inp = nc.TabularInput(numeric=[0, 2], categorical={1: 4, 3: 7}, embed_dim={1: 2, 3: 3})
    >>> model = nc.Sequential([inp, nc.Dense(1)], input_dim=4)
    >>> model.forward(np.array([[0.5, 3, -1.0, 6]], np.float32)).shape
    (1, 1)
    """

    def __init__(
        self,
        numeric=None,
        categorical: Mapping | None = None,
        embed_dim: int | Mapping = 8,
        *,
        unknown: str = "error",
    ):
        if not isinstance(categorical, Mapping) or not categorical:
            raise ValueError(
                "TabularInput: categorical must be a non-empty dict {column: cardinality}, "
                f"got {categorical!r}"
            )
        cols = [_column(c, "TabularInput: a categorical column") for c in categorical]
        self.categorical = {
            c: _count(categorical[k], f"TabularInput: cardinality of column {c}")
            for c, k in zip(cols, categorical)
        }
        if len(self.categorical) != len(cols):
            raise ValueError(f"TabularInput: a categorical column is repeated in {cols}")
        if numeric is None:
            self.numeric = None
        else:
            if isinstance(numeric, (str, bytes)) or not hasattr(numeric, "__iter__"):
                raise ValueError(
                    f"TabularInput: numeric must be a list of column indices, got {numeric!r}"
                )
            self.numeric = [_column(c, "TabularInput: a numeric column") for c in numeric]
            if len(set(self.numeric)) != len(self.numeric):
                raise ValueError(f"TabularInput: a numeric column is repeated in {self.numeric}")
            both = sorted(set(self.numeric) & set(self.categorical))
            if both:
                raise ValueError(f"TabularInput: column {both[0]} is both numeric and categorical")
        if isinstance(embed_dim, Mapping):
            keys = {_column(c, "TabularInput: an embed_dim column") for c in embed_dim}
            if keys != set(self.categorical):
                raise ValueError(
                    "TabularInput: embed_dim as a dict needs exactly the categorical columns "
                    f"{sorted(self.categorical)}, got {sorted(keys)}"
                )
            self.embed_dim: int | dict = {
                int(c): _count(d, f"TabularInput: embed_dim of column {c}")
                for c, d in embed_dim.items()
            }
        else:
            self.embed_dim = _count(embed_dim, "TabularInput: embed_dim")
        self.unknown = _unknown(unknown, "TabularInput")

    def _dims(self) -> list[int]:
        d = self.embed_dim
        return [d[c] if isinstance(d, dict) else d for c in self.categorical]

    def spec(self) -> dict:
        s: dict = {"type": "embedding"}
        if self.numeric is not None:
            s["numeric"] = list(self.numeric)
        s["columns"] = list(self.categorical)
        s["cardinality"] = list(self.categorical.values())
        s["dim"] = self._dims()
        s["reserve"] = self.unknown == "reserve"
        return s

    def layout(self, n_features):
        cols = list(self.categorical)
        for c in cols + (self.numeric or []):
            if c >= n_features:
                raise ValueError(
                    f"TabularInput: column {c} is out of range for X with {n_features} columns"
                )
        numeric = self.numeric
        if numeric is None:
            numeric = [c for c in range(n_features) if c not in self.categorical]
        return numeric, cols, list(self.categorical.values())

    def output_width(self, width):
        if self.numeric is None and width is None:
            return None
        n_num = len(self.numeric) if self.numeric is not None else width - len(self.categorical)
        return n_num + sum(self._dims())

    def table_names(self, n_features):
        k = len(self.categorical)
        return ["weight"] if k == 1 else [f"weight_{t}" for t in range(k)]

    @classmethod
    def _from_config(cls, cfg: dict) -> TabularInput:
        cols = [int(c) for c in cfg["columns"]]
        dims = [int(d) for d in cfg["dim"]]
        return cls(
            numeric=cfg.get("numeric"),
            categorical=dict(zip(cols, (int(c) for c in cfg["cardinality"]))),
            embed_dim=dims[0] if len(set(dims)) == 1 else dict(zip(cols, dims)),
            unknown="reserve" if cfg.get("reserve") else "error",
        )

    def __repr__(self) -> str:
        return (
            f"TabularInput(numeric={self.numeric!r}, categorical={self.categorical!r}, "
            f"embed_dim={self.embed_dim!r}, unknown={self.unknown!r})"
        )


def from_config(cfg: dict) -> Layer:
    """The layer an ``embedding`` config describes (TabularInput when it names its columns)."""
    if "columns" in cfg:
        return TabularInput._from_config(cfg)
    return Embedding(
        int(cfg["cardinality"][0]),
        int(cfg["dim"][0]),
        unknown="reserve" if cfg.get("reserve") else "error",
    )


LAYER_TYPES["embedding"] = Embedding  # layer_from_config picks TabularInput when columns are named
