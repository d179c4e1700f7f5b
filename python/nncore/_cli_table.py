"""Mixed-type tables for the command line: ``--categorical auto`` (string columns -> integer codes
read by :class:`nncore.TabularInput`) and ``--impute mean|median|zero`` (with
``--missing-indicator``). :class:`TablePrep` is fitted on the training rows only and saved in the
model's sidecar, so ``predict`` encodes, imputes and standardizes exactly as training did; a
category unseen in training reads the embedding's reserved "unknown" row."""

from __future__ import annotations

import numpy as np

from ._cli_csv import CSVError, read_csv
from .preprocessing import OrdinalEncoder, SimpleImputer, Standardizer

# Cells that mean "no value" (compared lower-cased, stripped).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
_F32_MAX = float(np.finfo(np.float32).max)


class TableError(ValueError):
    """A problem with the table, printed by the CLI as one line."""


def read_cells(path: str, target: str | None, sep=None, encoding="utf-8", decimal="."):
    """(cells: str array (n, d) of the feature columns, target cells or None, feature names,
    the file line of each row)."""
    try:
        table = read_csv(path, sep, encoding, decimal)
    except CSVError as e:
        raise TableError(str(e)) from None
    header, cells = table.header, table.cells
    if target is not None and target not in header:
        raise TableError(f"{path}: no target column {target!r} (columns: {', '.join(header)})")
    keep = [j for j, h in enumerate(header) if h != target]
    if not keep:
        raise TableError(f"{path}: no feature columns besides the target")
    y = None if target is None else cells[:, header.index(target)]
    return cells[:, keep], y, [header[j] for j in keep], table.lines


def _line(lines, i: int) -> int:
    return int(lines[i]) if lines is not None else i + 2  # without lines: header, then rows


def is_missing(col: np.ndarray) -> np.ndarray:
    """True where a cell spells "no value" (see MISSING)."""
    return np.isin(np.char.lower(col.astype(str)), list(MISSING))


def _numbers(col: np.ndarray, lines=None):
    """(float64 values with NaN where missing, index of the first cell that is not a number).
    ``lines`` (the file line of each cell) names the line of a value float32 cannot hold."""
    if col.dtype.kind == "f":  # already numbers (an .npz table): NaN is missing
        out = col.astype(np.float64)
        inf = np.flatnonzero(np.isinf(out))
        return out, (int(inf[0]) if inf.size else None)
    out = np.full(col.shape[0], np.nan)
    present = ~is_missing(col)
    try:  # one vectorized parse; the cell-by-cell loop below only finds the culprit
        out[present] = col[present].astype(np.float64)
    except ValueError:
        for k in np.flatnonzero(present).tolist():
            v = _float(col[k])
            if v is None:
                return out, k
            out[k] = v
    nonfinite = np.flatnonzero(present & ~np.isfinite(out))
    if nonfinite.size:
        return out, int(nonfinite[0])
    big = np.flatnonzero(np.abs(np.nan_to_num(out)) > _F32_MAX)
    if big.size:  # a number, but not one fit takes (float32)
        i = int(big[0])
        raise TableError(
            f"feature value {str(col[i])!r} on line {_line(lines, i)} does not fit float32 "
            "(|x| <= 3.4e38), as fit requires"
        )
    return out, None


def _float(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def numeric_table(cells: np.ndarray, lines=None) -> np.ndarray:
    """The float64 values of an all-numeric table of cells (NaN where missing): a quarter of the
    memory of the cells and parsed once, not once per fold."""
    if cells.dtype.kind == "f":
        return cells
    cols = [_numbers(cells[:, j], lines)[0] for j in range(cells.shape[1])]
    return np.stack(cols, axis=1) if cols else np.zeros((cells.shape[0], 0))


def column_kinds(
    cells: np.ndarray, names: list, categorical: str, impute: str = "none", lines=None
) -> list:
    """True for each column that is categorical: one holding a cell that is neither a number nor
    missing (only with categorical='auto'; otherwise such a cell is an error). Checks the whole
    table once, so the errors name file lines and no fold can fail later: a missing numeric cell
    without ``impute``, a value float32 cannot hold."""
    kinds = []
    for j, name in enumerate(names):
        vals, bad = _numbers(cells[:, j], lines)
        if bad is not None and categorical != "auto":
            raise TableError(
                f"non-numeric feature value {str(cells[bad, j])!r} in column {name!r}, line "
                f"{_line(lines, bad)} (--categorical auto encodes text columns"
                f"{'' if ',' not in str(cells[bad, j]) else ', --decimal , reads decimal commas'})"
            )
        if bad is None and impute == "none" and np.isnan(vals).any():
            i = int(np.argmax(np.isnan(vals)))
            raise TableError(
                f"missing value {str(cells[i, j])!r} in column {name!r}, line "
                f"{_line(lines, i)} (pass --impute mean|median|zero)"
            )
        kinds.append(bad is not None)
    return kinds


def embed_width(cardinality: int) -> int:
    """fastai's rule of thumb, round(1.6 · cardinality^0.56), capped at 16 for small tables."""
    return int(min(16, max(2, round(1.6 * (cardinality + 1) ** 0.56))))


class TablePrep:
    """Numeric columns: impute (optional), standardize, then the 0/1 missing indicators;
    categorical columns: integer codes. Output columns: numeric, indicators, codes."""

    def __init__(self, names: list, kinds: list, impute: str = "none", indicator: bool = False):
        self.names, self.kinds = list(names), [bool(k) for k in kinds]
        self.impute, self.indicator = impute, bool(indicator)

    @property
    def numeric(self) -> list:
        return [j for j, k in enumerate(self.kinds) if not k]

    @property
    def categorical(self) -> list:
        return [j for j, k in enumerate(self.kinds) if k]

    def _numeric_values(self, cells: np.ndarray, lines=None) -> np.ndarray:
        if cells.dtype.kind == "f":
            return self._float_values(cells, lines)
        cols = []
        for j in self.numeric:
            vals, bad = _numbers(cells[:, j], lines)
            if bad is not None:
                raise self._not_a_number(cells, bad, j, lines)
            if self.impute == "none" and np.isnan(vals).any():
                raise self._missing(cells, int(np.argmax(np.isnan(vals))), j, lines)
            cols.append(vals)
        return np.stack(cols, axis=1) if cols else np.zeros((cells.shape[0], 0))

    def _float_values(self, cells: np.ndarray, lines=None) -> np.ndarray:
        """_numeric_values of a table that holds numbers already (.npz, digits), all columns at
        once: the same values and the same first error as the column-by-column parse."""
        vals = cells[:, self.numeric].astype(np.float64)
        inf = np.isinf(vals)
        nan = np.isnan(vals) if self.impute == "none" else np.zeros_like(inf)
        bad_cols = np.flatnonzero((inf | nan).any(axis=0))
        if bad_cols.size:
            k = int(bad_cols[0])
            j = self.numeric[k]
            if inf[:, k].any():
                raise self._not_a_number(cells, int(np.argmax(inf[:, k])), j, lines)
            raise self._missing(cells, int(np.argmax(nan[:, k])), j, lines)
        return vals

    def _not_a_number(self, cells, i: int, j: int, lines) -> TableError:
        return TableError(
            f"non-numeric value {str(cells[i, j])!r} in the numeric column {self.names[j]!r}, "
            f"line {_line(lines, i)}"
        )

    def _missing(self, cells, i: int, j: int, lines) -> TableError:
        return TableError(
            f"missing value {str(cells[i, j])!r} in column {self.names[j]!r}, line "
            f"{_line(lines, i)} (the model was trained without --impute)"
        )

    def _categories(self, cells: np.ndarray) -> np.ndarray:
        cat = cells[:, self.categorical].astype(str)
        # every spelling of "missing" is one category
        return np.where(is_missing(cat), "", cat)

    def fit(self, cells: np.ndarray) -> TablePrep:
        num = self._numeric_values(cells)
        self.imputer = None
        if self.impute != "none" and num.shape[1]:
            self.imputer = SimpleImputer(self.impute, add_indicator=self.indicator).fit(num)
            filled = np.where(np.isnan(num), self.imputer.statistics_, num)
        else:
            filled = num
        self.scaler = Standardizer().fit(filled) if filled.shape[1] else None
        self.encoder = OrdinalEncoder("reserve")
        self.encoder.categories_ = []  # no categorical column: nothing to fit
        if self.categorical:
            self.encoder.fit(self._categories(cells))
        return self

    def transform(self, cells: np.ndarray, lines=None) -> np.ndarray:
        """The model's input for ``cells``; ``lines`` (file lines of the rows) go in errors."""
        num = self._numeric_values(cells, lines)
        parts = []
        if self.imputer is not None:
            imputed = self.imputer.transform(num).astype(np.float64)
            num, ind = imputed[:, : num.shape[1]], imputed[:, num.shape[1] :]
        else:
            ind = np.zeros((num.shape[0], 0))
        if self.scaler is not None:
            parts.append(self.scaler.transform(num))
        parts.append(ind.astype(np.float32))
        if self.categorical:
            parts.append(self.encoder.transform(self._categories(cells)))
        return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)

    @property
    def width(self) -> int:
        n_ind = 0 if self.imputer is None else len(self.imputer.indicator_columns_)
        return len(self.numeric) + n_ind + len(self.categorical)

    def input_layer(self, embed_dim: int | None = None):
        """The TabularInput for :meth:`transform`'s output, or None without categorical columns."""
        from .embedding import TabularInput

        if not self.categorical:
            return None
        first = self.width - len(self.categorical)
        cards = {first + k: c for k, c in enumerate(self.encoder.cardinalities())}
        dims = {c: embed_dim or embed_width(card) for c, card in cards.items()}
        return TabularInput(list(range(first)), cards, dims, unknown="reserve")

    def describe(self) -> str:
        text = f"{len(self.numeric)} numeric"
        if self.categorical:
            cards = ", ".join(
                f"{self.names[j]} ({c})"
                for j, c in zip(self.categorical, self.encoder.cardinalities())
            )
            text += f", {len(self.categorical)} categorical: {cards}"
        if self.imputer is not None:
            text += f"; imputed by {self.impute}"
            if self.indicator:
                text += f" (+{len(self.imputer.indicator_columns_)} missing indicators)"
        return text

    def to_json(self) -> dict:
        d = {
            "names": self.names,
            "kinds": ["categorical" if k else "numeric" for k in self.kinds],
            "impute": self.impute,
            "indicator": self.indicator,
            "categories": [c.tolist() for c in self.encoder.categories_],
        }
        if self.imputer is not None:
            d["impute_values"] = self.imputer.statistics_.tolist()
            d["indicator_columns"] = self.imputer.indicator_columns_.tolist()
        if self.scaler is not None:
            d["mean"], d["scale"] = self.scaler.mean_.tolist(), self.scaler.scale_.tolist()
        return d

    @classmethod
    def from_json(cls, d: dict) -> TablePrep:
        p = cls(d["names"], [k == "categorical" for k in d["kinds"]], d["impute"], d["indicator"])
        p.encoder = OrdinalEncoder("reserve")
        p.encoder.categories_ = [np.array(c, dtype=str) for c in d["categories"]]
        p.imputer = None
        if "impute_values" in d:
            p.imputer = SimpleImputer(d["impute"], add_indicator=d["indicator"])
            p.imputer.statistics_ = np.asarray(d["impute_values"], np.float64)
            p.imputer.indicator_columns_ = np.asarray(d["indicator_columns"], np.int64)
        p.scaler = None
        if "mean" in d:
            p.scaler = Standardizer()
            p.scaler.mean_ = np.asarray(d["mean"], np.float64)
            p.scaler.scale_ = np.asarray(d["scale"], np.float64)
        return p
