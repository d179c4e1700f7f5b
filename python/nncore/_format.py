"""The bytes of nncore's ``.nnc`` model format: a model's state dict to byte chunks and back
(every field validated on the way in, and the model it describes checked by the core's loader
against the arrays present before anything is built), the bounded JSON reading both loaders share
limits with, and the atomic file writer. :mod:`nncore.io` documents the layout and builds models
from it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import math
import os
import re
import stat
import struct
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from . import _core

MAGIC = b"NNCORE\x00\x01"
# Version 2 adds int8 models (nncore.quantize: a "quantization" header and two arrays); every
# other model is still written as version 1, which older nncore reads. Both are read.
VERSION = 2
MIN_VERSION = 1
_ALLOWED_DTYPES = {"<f4": np.float32, "<i8": np.int64}
# The limits both loaders enforce (nncore/model.h, ModelFileLimits): one set of numbers.
LIMITS: dict[str, int] = _core.model_file_limits()
_MAX_HEADER = LIMITS["max_header_bytes"]  # bytes of JSON; a real header is a few KiB
_MAX_DEPTH = LIMITS["max_json_depth"]  # containers in containers (~250 nested Residual blocks)
_MAX_NODES = LIMITS["max_json_nodes"]  # values in the header
_MAX_NDIM = 8
_MAX_DIM = 2**62  # one array dimension (a product of larger ones could overflow numpy)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_ALIGN = 64  # each array starts on a 64-byte boundary of the data section


class ModelFileError(ValueError):
    """A file that is not a valid nncore model (truncated, corrupted, foreign, wrong version).

    A subclass of ValueError, raised by :func:`nncore.load`, :func:`nncore.io.loads` and
    :func:`nncore.io.read`; its message names the file and what is wrong with it.

    Examples
    --------
    >>> import nncore as nc
    >>> try:
    ...     nc.io.loads(b"not a model")
    ... except nc.ModelFileError as e:
    ...     print(e)
    <bytes>: too short to be an nncore model file (11 bytes)
    >>> issubclass(nc.ModelFileError, ValueError)
    True
    """


def encode(state: dict[str, Any]) -> list[bytes]:
    """The file's bytes, as chunks (header, arrays, checksum), for a state dict
    ``{"config", "optimizer", "step", "epochs_done", "arrays": {name: array}}``."""
    buffers = state["arrays"].get("buffers")
    # load() refuses such a file (corrupt statistics); say so now instead of writing it
    if buffers is not None and not np.isfinite(buffers).all():
        raise ValueError(
            "cannot save: the model's buffers (batchnorm running statistics) hold non-finite "
            "values, e.g. after training on inputs whose squares overflow float32"
        )
    entries, blobs, offset = [], [], 0
    for name, a in state["arrays"].items():
        a = np.ascontiguousarray(a)
        dt = a.dtype.newbyteorder("<").str
        if dt not in _ALLOWED_DTYPES:
            raise TypeError(f"cannot save array {name} of dtype {a.dtype}")
        raw = a.astype(dt, copy=False).tobytes()
        pad = (-offset) % _ALIGN
        blobs.append(b"\x00" * pad)
        offset += pad
        entries.append(
            {
                "name": name,
                "dtype": dt,
                "shape": list(a.shape),
                "offset": offset,
                "nbytes": len(raw),
            }
        )
        blobs.append(raw)
        offset += len(raw)
    header = {k: v for k, v in state.items() if k != "arrays"}
    header["arrays"] = entries
    hbytes = json.dumps(header, default=_json_default).encode("utf-8")
    why = json_limit_error(hbytes)
    if why or len(hbytes) > _MAX_HEADER:  # save writes only what load reads
        raise ValueError(
            f"cannot save: the model's description has {why or f'a header over {_MAX_HEADER >> 20} MiB'}"
        )
    version = VERSION if "quantization" in state else MIN_VERSION
    head = MAGIC + struct.pack("<IQ", version, len(hbytes)) + hbytes
    digest = hashlib.sha256(head)
    for b in blobs:
        digest.update(b)
    return [head, *blobs, digest.digest()]


def _json_default(o: object) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def check_count(v: object, what: str, name: str) -> int:
    """A non-negative integer field of the header, or ModelFileError."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ModelFileError(f"{name}: {what} must be a non-negative integer, got {v!r}")
    return v


def decode(data: bytes, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Validate a model file's bytes and return (header dict, {array name: array}).

    Everything is checked before it is used: the magic, version and checksum, the JSON header
    (its length, nesting and types) and each array's dtype, shape and bounds. Nothing is unpickled
    and no code from the data runs. ``name`` (a path, or ``<bytes>``) starts every message."""
    if len(data) < len(MAGIC) + 12 + 32:
        raise ModelFileError(f"{name}: too short to be an nncore model file ({len(data)} bytes)")
    if data[: len(MAGIC)] != MAGIC:
        raise ModelFileError(f"{name}: not an nncore model file (bad magic bytes)")
    version, hlen = struct.unpack_from("<IQ", data, len(MAGIC))
    if not MIN_VERSION <= version <= VERSION:
        raise ModelFileError(
            f"{name}: format version {version} is not supported "
            f"(this nncore reads {MIN_VERSION} to {VERSION})"
        )
    if hlen > _MAX_HEADER:  # before hashing: over the limit whatever the checksum says
        raise ModelFileError(f"{name}: header length {hlen} exceeds the file size or the limit")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{name}: checksum mismatch (the file is truncated or corrupted)")
    start = len(MAGIC) + 12
    if hlen > _MAX_HEADER or start + hlen > len(body):
        raise ModelFileError(f"{name}: header length {hlen} exceeds the file size or the limit")
    header = read_json(body[start : start + hlen], name)
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise ModelFileError(f"{name}: header lacks the array table")
    section = memoryview(body)[start + hlen :]
    arrays = {}
    for entry in header["arrays"]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("dtype"), str)
            or entry["dtype"] not in _ALLOWED_DTYPES
            or not isinstance(entry.get("shape"), list)
            or len(entry["shape"]) > _MAX_NDIM
        ):
            raise ModelFileError(f"{name}: malformed array entry {str(entry)[:200]}")
        dt = _ALLOWED_DTYPES[entry["dtype"]]
        shape = tuple(check_count(d, "an array dimension", name) for d in entry["shape"])
        if any(d > _MAX_DIM for d in shape):
            raise ModelFileError(f"{name}: array {entry['name']!r} has a dimension over 2**62")
        off = check_count(entry.get("offset"), "an array offset", name)
        nbytes = check_count(entry.get("nbytes"), "an array size", name)
        # Python integers: an absurd shape cannot overflow into a small, plausible size.
        if off + nbytes > len(section) or math.prod(shape) * np.dtype(dt).itemsize != nbytes:
            raise ModelFileError(
                f"{name}: array {entry['name']!r} is out of bounds or inconsistent"
            )
        try:
            a = np.frombuffer(section[off : off + nbytes], dtype=dt).reshape(shape)
        except ValueError as e:  # a shape numpy cannot index, e.g. [2**32, 2**32, 0]
            raise ModelFileError(f"{name}: array {entry['name']!r}: {e}") from None
        arrays[entry["name"]] = a.copy()
    check_model(data, name)
    return header, arrays


def json_size(text: bytes) -> tuple[int, int]:
    """(values, nesting depth) of the JSON text, counted in linear time on the text with its
    strings blanked, before anything allocates one object per value (exact for valid JSON)."""
    if b"\\" in text:  # escapes: a quote may be inside a string
        bare = _STRING.sub(b'""', text)
    else:  # no escapes: strings are exactly the odd pieces between quotes
        bare = b"".join(text.split(b'"')[0::2])
    commas = bare.count(b",")
    if commas + 1 > _MAX_NODES:  # each comma starts one more value: over, whatever the rest
        return commas + 1, 0
    bare = bare.translate(None, b" \t\n\r")
    opens = bare.count(b"[") + bare.count(b"{")
    # every value but the root follows a comma or opens a non-empty container
    nodes = 1 + commas + opens - bare.count(b"[]") - bare.count(b"{}")
    if nodes > _MAX_NODES:  # then the depth is not needed (and may be long to count)
        return nodes, 0
    brackets = np.frombuffer(bare.translate(None, _NOT_BRACKET), dtype=np.uint8)
    if not brackets.size:
        return nodes, 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return nodes, int(np.cumsum(steps).max())


def json_limit_error(text: bytes) -> str | None:
    """Which limit of both loaders the JSON text breaks, or None."""
    nodes, depth = json_size(text)
    if nodes > _MAX_NODES:
        return f"more than {_MAX_NODES} values"
    if depth > _MAX_DEPTH:
        return f"nesting deeper than {_MAX_DEPTH}"
    return None


def read_json(text: bytes, name: str) -> Any:
    """The JSON value in ``text``, read only when its nesting depth and number of values are
    within the limits the C++ loader enforces; else ModelFileError."""
    why = json_limit_error(text)
    if why:
        raise ModelFileError(f"{name}: unreadable header ({why})")
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise ModelFileError(f"{name}: unreadable header ({type(e).__name__}: {e})") from None


def check_model(data: bytes, name: str) -> None:
    """The core's own check of the model a file describes (nncore/model.h's loader, the layer
    factory that builds Network): every layer's hyper-parameters, and the parameter and buffer
    counts they imply against the arrays present, with nothing allocated in proportion to a
    declared size. So Python builds nothing from an unchecked header."""
    try:
        _core.check_model_bytes(data, name)
    except _core.CppModelError as e:
        raise ModelFileError(str(e)) from None


def write_model(target: Any, chunks: Iterable[bytes]) -> None:
    """Write a model file's chunks to a path (atomically, :func:`write_atomic`) or to a binary
    file object (``write``; what becomes of it, such as closing, is its owner's business), as
    ``torch.save`` takes either.

    Parameters
    ----------
    target : str, os.PathLike or binary file object
        Where the file goes.
    chunks : iterable of bytes
        The contents, written in order.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        When a file object was opened in text mode.
    """
    if not hasattr(target, "write"):
        write_atomic(target, chunks)
        return
    if isinstance(target, io.TextIOBase):
        raise TypeError("the file object is in text mode: open it with 'wb'")
    for c in chunks:
        target.write(c)


def write_atomic(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write byte chunks to ``path`` atomically: a temporary file in the same directory, flushed
    to disk (fsync) and renamed over ``path``, so readers see the old file or the new one, never
    half of one. The temporary file is removed when anything fails.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced if it exists).
    chunks : iterable of bytes
        The contents, written in order.

    Returns
    -------
    None

    Raises
    ------
    IsADirectoryError
        When ``path`` is a directory (before anything is written).
    FileNotFoundError
        When ``path``'s directory does not exist.
    OSError
        When the directory cannot be written; any exception the ``chunks`` iterable raises
        propagates (and ``path`` is left untouched).

    Examples
    --------
    >>> import os, tempfile
    >>> from nncore.io import write_atomic
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "out.bin")
    >>> write_atomic(path, [b"ab", b"cd"])
    >>> with open(path, "rb") as f:
    ...     f.read()
    b'abcd'
    >>> tmp.cleanup()
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        # Checked first: the temporary file would otherwise be written whole (beside the
        # directory, in its parent) before the rename onto the directory failed.
        raise IsADirectoryError(
            errno.EISDIR, "cannot write a file over a directory: give a file name in it", path
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # else mkstemp's error names its temporary file, not path
        raise FileNotFoundError(
            errno.ENOENT, f"no directory {directory} to write the file in (create it first)", path
        )
    fd, tmp = tempfile.mkstemp(prefix=".nncore-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ------------------------------------------------------------------------------------- reading
DEFAULT_MAX_BYTES: int = LIMITS["default_max_file_bytes"]


def check_max_bytes(max_bytes: object) -> None:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"max_bytes must be a non-negative integer, got {max_bytes!r}")


def read_regular(name: str, max_bytes: int) -> bytes:
    """A regular file's bytes, at most ``max_bytes``: no device (``/dev/zero``), FIFO or socket,
    whatever a symlink points to. O_NONBLOCK so opening a FIFO does not wait for a writer, and
    fstat on the open descriptor, so what is checked is what is read."""
    check_max_bytes(max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except IsADirectoryError:
        raise ModelFileError(f"{name}: is a directory, not an nncore model file") from None
    st = os.fstat(fd)
    try:
        if stat.S_ISDIR(st.st_mode):
            raise ModelFileError(f"{name}: is a directory, not an nncore model file")
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(f"{name}: is not a regular file (a device, FIFO or socket)")
        if st.st_size > max_bytes:
            raise ModelFileError(
                f"{name}: {st.st_size} bytes is more than the limit of {max_bytes} "
                "(raise it with max_bytes=)"
            )
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read(st.st_size + 1)  # one more: a file that grows is refused, not read on
    if len(data) != st.st_size:
        raise ModelFileError(f"{name}: the file changed size while being read")
    return data


def read_file_object(f: Any, name: str, max_bytes: int) -> bytes:
    """A binary file object's bytes from where it stands, at most ``max_bytes`` (one more is
    asked for, so a larger stream is refused without reading it all)."""
    check_max_bytes(max_bytes)
    data = f.read(max_bytes + 1)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: the file object is in text mode: open it with 'rb'")
    if len(data) > max_bytes:
        raise ModelFileError(
            f"{name}: more than the limit of {max_bytes} bytes (raise it with max_bytes=)"
        )
    return bytes(data)


def read_source(source: Any, max_bytes: int) -> tuple[bytes, str]:
    """(bytes, name) of a model file given as a path or a binary file object opened with "rb"
    (read from where it stands)."""
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<file object>"))
        return read_file_object(source, name, max_bytes), name
    name = os.fspath(source)
    return read_regular(name, max_bytes), name


@contextlib.contextmanager
def model_errors(name: str) -> Iterator[None]:
    """Turns what building a model from a decoded file raises into a ModelFileError naming the
    file: a file that passed the checks can still describe pieces that do not fit together."""
    try:
        yield
    except ModelFileError:
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
        MemoryError,
    ) as e:
        raise ModelFileError(
            f"{name}: invalid model description ({type(e).__name__}: {' '.join(str(e).split())[:300]})"
        ) from None
