"""The command line's CSV reader: bytes -> header, a (rows, columns) array of stripped cells and
the file line of each row. It picks the separator (``--sep auto``), decodes (``--encoding``),
reads decimal commas (``--decimal ,``) and names file lines in every error; it does not parse
numbers (``nncore._cli_table`` does)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

import numpy as np

SEPARATORS = (",", ";", "\t", "|")  # what --sep auto tries
SEP_NAMES = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
_SNIFF_LINES = 50
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")


class CSVError(ValueError):
    """A problem with the file, one line naming it and, where it applies, the file line."""


@dataclass
class CSVTable:
    header: list[str]
    cells: np.ndarray  # str (rows, columns), stripped
    lines: np.ndarray  # int64 (rows,): the file line each row starts on (the header is line 1)
    sep: str


def parse_sep(text: str) -> str | None:
    """The separator that ``--sep`` names (None: detect), or ValueError."""
    if text in SEP_NAMES:
        return SEP_NAMES[text]
    if len(text) != 1 or text in "\"'\r\n" or text.isalnum() or text in ".-+":
        raise ValueError(
            f"--sep must be one character (not a quote, digit, letter, '.', '-' or '+') or one "
            f"of {', '.join(SEP_NAMES)}, got {text!r}"
        )
    return text


def check_encoding(name: str) -> str:
    """``name`` if Python knows the codec, or ValueError (checked before any file is read)."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(
            f"--encoding: unknown encoding {name!r} (e.g. utf-8, latin-1, cp1252)"
        ) from None
    return name


def _decode(path: str, raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise CSVError(
            f"{path}: line {line} is not valid {encoding} (byte 0x{raw[e.start]:02x}): pass "
            "--encoding with the file's encoding, e.g. --encoding latin-1 or cp1252"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text  # a byte-order mark is not a name


def _records(text: str, sep: str):
    """(first file line, fields) of each non-blank record; a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    end = 0
    for row in reader:
        start, end = end + 1, reader.line_num
        if any(c.strip() for c in row):
            yield start, row


def sniff_sep(text: str) -> str:
    """The separator of SEPARATORS that splits the most sampled lines into as many fields as the
    header (two or more; ties: more fields); ',' when none splits half of them so. Field counts,
    unlike ``csv.Sniffer``'s character frequencies, are not fooled by decimal commas in a ';'
    file, and one malformed line does not hide the separator (its error names the line)."""
    sample = "\n".join(text.splitlines()[: _SNIFF_LINES + 1])
    best, best_key = ",", (0.5, 1)
    for sep in SEPARATORS:
        try:
            rows = [r for _, r in _records(sample, sep)]
        except csv.Error:
            continue
        # the sample's last record may be cut inside a quoted field: ignore it
        body = rows[1:-1] if len(rows) > 2 else rows[1:]
        width = len(rows[0]) if rows else 0
        share = sum(len(r) == width for r in body) / max(len(body), 1)
        if width > 1 and (share, width) > best_key:
            best, best_key = sep, (share, width)
    return best


def read_csv(path: str, sep: str | None = None, encoding: str = "utf-8", decimal: str = "."):
    """The :class:`CSVTable` of ``path``; CSVError with the file line for what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CSVError(f"{path}: no such file") from None
    except OSError as e:
        raise CSVError(f"{path}: cannot read ({e.strerror})") from None
    text = _decode(path, raw, encoding)
    if sep is None:
        sep = sniff_sep(text)
    if decimal == "," and sep == ",":
        raise CSVError(f"{path}: --decimal , needs another separator than ',' (--sep ';')")
    try:
        records = list(_records(text, sep))
    except csv.Error as e:
        raise CSVError(f"{path}: cannot read CSV ({e})") from None
    if len(records) < 2:
        raise CSVError(f"{path}: expected a header row and at least one data row")
    header = [h.strip() for h in records[0][1]]
    if len(header) == 1:
        others = [s for s in SEPARATORS if s != sep and s in header[0]]
        if others:
            shown = "tab" if others[0] == "\t" else others[0]
            raise CSVError(
                f"{path}: the header reads as one column {header[0][:40]!r} with separator "
                f"{sep!r}: pass --sep '{shown}'"
            )
    for line, r in records[1:]:
        if len(r) != len(header):
            raise CSVError(
                f"{path}: line {line} has {len(r)} fields, the header has {len(header)}"
                f" (separator {'tab' if sep == chr(9) else repr(sep)}; --sep sets it)"
            )
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise CSVError(f"{path}: the header names column {dup[0]!r} more than once")
    cells = np.array([[c.strip() for c in r] for _, r in records[1:]], dtype=str)
    if decimal == ",":
        cells = _decimal_commas(cells)
    lines = np.array([line for line, _ in records[1:]], dtype=np.int64)
    return CSVTable(header, cells.reshape(len(lines), len(header)), lines, sep)


def _decimal_commas(cells: np.ndarray) -> np.ndarray:
    out = cells.copy()
    for idx, cell in np.ndenumerate(cells):
        if "," in cell and _DECIMAL_COMMA.match(cell):
            out[idx] = cell.replace(",", ".")
    return out


def decimal_commas(col: np.ndarray) -> bool:
    """True when some cells are numbers written with a decimal comma and every other cell is an
    integer or empty (a numeric column that ``--decimal ,`` would read)."""
    cells = [c for c in col.tolist() if c]
    return any("," in c for c in cells) and all(
        _DECIMAL_COMMA.match(c) or c.lstrip("+-").isdigit() for c in cells
    )
