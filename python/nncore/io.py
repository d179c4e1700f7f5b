"""Saving and loading models: nncore's ``.nnc`` format (no pickle, nothing executed on load).

Layout of a file (all integers little-endian):

    bytes 0..7    magic  b"NNCORE\\x00\\x01"
    bytes 8..11   format version (uint32, currently 1)
    bytes 12..19  header length H (uint64)
    next H bytes  header: UTF-8 JSON {"config": model config, "compile": ..., "optimizer": ...,
                  "step": int, "epochs_done": int, "arrays": [{"name", "dtype", "shape", "offset",
                  "nbytes"}]}; offsets count from the start of the data section
    data section  the arrays' raw little-endian bytes, each 64-byte aligned
    last 32 bytes SHA-256 of everything before them

:func:`dumps` / :func:`loads` turn a model into these bytes and back; :func:`save` writes them to
a temporary file in the target directory, flushes it to disk and renames it over the target, so a
crash never leaves a half-written model. :func:`load` and :func:`loads` check the magic, version,
checksum, JSON and every array's dtype/shape/bounds before building the model. The header holds
:meth:`Sequential.state` (its arrays in the data section).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _format
from ._format import MAGIC, VERSION, ModelFileError, write_atomic
from .model import Sequential

__all__ = [
    "MAGIC",
    "VERSION",
    "ModelFileError",
    "dumps",
    "load",
    "loads",
    "read",
    "save",
    "write_atomic",
]


def dumps(model: Sequential) -> bytes:
    """The bytes :func:`save` writes for ``model`` (built): the whole checksummed file."""
    return b"".join(_format.encode(model.state()))


def loads(data: bytes) -> Sequential:
    """The model in ``data`` (bytes from :func:`dumps` or a file's contents), validated as
    :func:`load` validates a file."""
    return _build(*_format.decode(bytes(data), "<bytes>"), "<bytes>")


def save(model: Sequential, path: str | os.PathLike[str]) -> None:
    """Save ``model`` (built) to ``path`` atomically; see the module docstring for the format."""
    model.save(path)


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Validate a model file and return (header dict, {name: array}).

    Everything is checked before it is used: the size of the file against memory, the magic,
    version and checksum, the JSON header (its length, nesting and types) and each array's dtype,
    shape and bounds. Nothing is unpickled and no code from the file runs."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise ModelFileError(f"{name}: is a directory, not an nncore model file")
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        mem = _physical_memory()
        if mem and size > mem:
            raise ModelFileError(f"{name}: {size} bytes is larger than this machine's memory")
        data = f.read()
    return _format.decode(data, name)


def load(path: str | os.PathLike[str]) -> Sequential:
    """Load a model saved with :meth:`Sequential.save` (weights, buffers, compile settings and
    optimizer state, so training resumes exactly where it stopped).

    Raises ModelFileError (a ValueError) for anything that is not a valid model file, OSError when
    the file cannot be opened and MemoryError when the model it describes cannot fit in memory."""
    return _build(*read(path), os.fspath(path))


def _build(header: dict[str, Any], arrays: dict[str, np.ndarray], name: str) -> Sequential:
    """The model a validated header and its arrays describe; any inconsistency between them is a
    ModelFileError naming the file."""
    try:
        _format.check_count(header.get("step", 0), "step", name)
        _format.check_count(header.get("epochs_done", 0), "epochs_done", name)
        return Sequential.from_state({**header, "arrays": arrays})
    except ModelFileError:
        raise
    except MemoryError:
        raise
    except (
        KeyError,
        TypeError,
        AttributeError,
        ValueError,
        IndexError,
        OverflowError,
        RecursionError,
        RuntimeError,
    ) as e:
        raise ModelFileError(
            f"{name}: invalid model description ({type(e).__name__}: {str(e)[:300]})"
        ) from None
