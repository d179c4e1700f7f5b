"""Saving and loading models: nncore's ``.nnc`` format (no pickle, nothing executed on load).

Layout of a file (all integers little-endian)::

    bytes 0..7    magic  b"NNCORE\\x00\\x01"
    bytes 8..11   format version (uint32): 1, or 2 for an int8 model (below); both are read
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

An int8 model (:meth:`Sequential.quantize`, version 2) is its fp32 model's file plus a header
field ``"quantization": {"scheme": "int8", "activations": "static" | "dynamic",
"keep_last_fp32": bool, ...}`` and, for static activations, the arrays
``quantization.input_scale`` (float32) and ``quantization.input_zero_point`` (int64), one per int8
layer. Its int8 weights are not stored: loading quantizes the fp32 weights again, with the same
bits. :func:`load` returns a :class:`nncore.quantize.QuantizedModel` for such a file.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _format
from ._format import MAGIC, VERSION, ModelFileError, write_atomic
from .model import Sequential
from .quantize import QuantizedModel

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
    """The bytes :func:`save` writes for ``model``: the whole checksummed file.

    Parameters
    ----------
    model : Sequential
        A built model (``input_dim`` given, or fitted once).

    Returns
    -------
    bytes
        Magic, version, header, arrays and SHA-256, as in the module docstring.

    Raises
    ------
    RuntimeError
        When the model is not built yet.
    ValueError
        When its BatchNorm running statistics hold non-finite values (:func:`load` would refuse
        the file).

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="mse")
    >>> data = nc.io.dumps(model)
    >>> data[:6]
    b'NNCORE'
    >>> x = np.ones((2, 4), np.float32)
    >>> bool(np.array_equal(nc.io.loads(data).predict(x), model.predict(x)))
    True
    """
    return b"".join(_format.encode(model.state()))


def loads(data: bytes) -> Sequential | QuantizedModel:
    """The model in ``data`` (bytes from :func:`dumps` or a file's contents), validated as
    :func:`load` validates a file.

    Parameters
    ----------
    data : bytes-like
        A whole model file's bytes.

    Returns
    -------
    Sequential
        The model, compiled as it was, with its weights, buffers and optimizer state.

    Raises
    ------
    ModelFileError
        For anything that is not a valid model file (truncated, corrupted, foreign, wrong
        version, inconsistent description); the message names ``<bytes>``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="mse")
    >>> nc.io.loads(nc.io.dumps(model)).layers[0].units
    3
    >>> nc.io.loads(nc.io.dumps(model)[:-1])
    Traceback (most recent call last):
    ...
    nncore._format.ModelFileError: <bytes>: checksum mismatch (the file is truncated or corrupted)
    """
    return _build(*_format.decode(bytes(data), "<bytes>"), "<bytes>")


def save(model: Sequential, path: str | os.PathLike[str]) -> None:
    """Save ``model`` to ``path`` atomically; see the module docstring for the format. The same as
    :meth:`Sequential.save`.

    Parameters
    ----------
    model : Sequential
        A built model.
    path : str, os.PathLike or binary file object
        The file to write (replaced if it exists; a crash leaves the old file or the new one,
        never half of one), or an object opened with ``"wb"``, written to as it is.

    Returns
    -------
    None

    Raises
    ------
    RuntimeError
        When the model is not built yet.
    ValueError
        When its BatchNorm running statistics hold non-finite values.
    OSError
        When the directory cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "model.nnc")
    >>> nc.io.save(model, path)
    >>> nc.load(path).input_dim
    4
    >>> tmp.cleanup()
    """
    model.save(path)


DEFAULT_MAX_BYTES: int = _format.DEFAULT_MAX_BYTES  # load(path, max_bytes=...)


def read(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Validate a model file and return (header dict, {name: array}).

    Everything is checked before it is used: that it is a regular file of at most ``max_bytes``,
    the magic, version and checksum, the JSON header (its length, nesting depth and number of
    values), each array's dtype, shape and bounds, and the model it describes against the arrays
    present (the C++ loader's own check). Nothing is unpickled and no code from the file runs.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.
    max_bytes : int, default 2 GiB
        Larger files are refused before they are read.

    Returns
    -------
    header : dict
        The JSON header less its array table: ``config``, ``optimizer``, ``step``,
        ``epochs_done`` (and ``compile`` when the model was compiled).
    arrays : dict of str to numpy.ndarray
        ``params``, ``buffers`` and the optimizer's state arrays (``optimizer.<name>``).

    Raises
    ------
    ModelFileError
        When ``path`` is a directory, a device, a FIFO or a socket, is larger than ``max_bytes``,
        or is not a valid model file.
    OSError
        When the file cannot be opened.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "model.nnc")
    >>> model.save(path)
    >>> header, arrays = nc.io.read(path)
    >>> header["step"], sorted(arrays)
    (0, ['buffers', 'optimizer.exp_avg', 'optimizer.exp_avg_sq', 'params'])
    >>> tmp.cleanup()
    """
    name = os.fspath(path)
    return _format.decode(_format.read_regular(name, max_bytes), name)


def load(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Sequential | QuantizedModel:
    """Load a model saved with :meth:`Sequential.save` (weights, buffers, compile settings and
    optimizer state, so training resumes exactly where it stopped).

    Safe for files from untrusted sources: nothing is unpickled or executed, every declared size
    is checked against the arrays the file holds and against fixed limits before anything is
    allocated, so memory and time stay proportional to the file's size, and every malformed file
    raises :class:`ModelFileError`. (``pickle.loads`` of an untrusted pickle is not safe: pickle
    runs code.)

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        A file written by :func:`save` or :meth:`Sequential.save`, or an object opened with
        ``"rb"`` holding one (read from where it stands; as ``torch.load`` takes either).
    max_bytes : int, default 2 GiB
        Larger files are refused before they are read (a file object's stream after
        ``max_bytes + 1`` bytes).

    Returns
    -------
    Sequential or QuantizedModel
        The model, compiled as it was when saved (a QuantizedModel for an int8 model).

    Raises
    ------
    ModelFileError
        (a ValueError) For anything that is not a valid model file; the message names the file.
    OSError
        When the file cannot be opened (missing, no permission).
    TypeError
        When given a file's bytes (use :func:`loads`) or a text-mode file object.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nncore as nc
    >>> model = nc.Sequential([nc.Dense(3, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="mse")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "model.nnc")
    >>> model.save(path)
    >>> restored = nc.load(path)
    >>> x = np.ones((2, 4), np.float32)
    >>> bool(np.array_equal(restored.predict(x), model.predict(x)))
    True
    >>> tmp.cleanup()
    """
    if isinstance(path, (bytes, bytearray, memoryview)) and b"\0" in bytes(path):  # contents
        raise TypeError(
            "load takes a file path or a binary file object, not a file's contents: for the "
            "bytes of a model file use nncore.io.loads(data)"
        )
    data, name = _format.read_source(path, max_bytes)
    return _build(*_format.decode(data, name), name)


def _build(
    header: dict[str, Any], arrays: dict[str, np.ndarray], name: str
) -> Sequential | QuantizedModel:
    """The model a validated header and its arrays describe; any inconsistency between them is a
    ModelFileError naming the file."""
    with _format.model_errors(name):
        _format.check_count(header.get("step", 0), "step", name)
        _format.check_count(header.get("epochs_done", 0), "epochs_done", name)
        model = Sequential.from_state({**header, "arrays": arrays})
        if header.get("quantization") is not None:
            return QuantizedModel.from_state({**header, "arrays": arrays}, model)
        return model
