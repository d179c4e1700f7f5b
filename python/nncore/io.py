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

``save`` writes to a temporary file in the target directory, flushes it to disk and renames it
over the target, so a crash never leaves a half-written model. ``load`` checks the magic, version,
checksum, JSON and every array's dtype/shape/bounds before building the model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile

import numpy as np

MAGIC = b"NNCORE\x00\x01"
VERSION = 1
_ALLOWED_DTYPES = {"<f4": np.float32, "<i8": np.int64}


class ModelFileError(ValueError):
    """A file that is not a valid nncore model (truncated, corrupted, foreign, wrong version)."""


def _arrays(model) -> dict:
    net = model._net
    arrays = {"params": np.asarray(net.params_array()), "buffers": np.asarray(net.buffers_array())}
    opt = model.optimizer
    if opt is not None and hasattr(opt, "state_dict"):
        for k, v in opt.state_dict().get("state", {}).items():
            arrays["optimizer." + k] = np.asarray(v, dtype=np.float32)
    return arrays


def write_atomic(path, chunks) -> None:
    """Write byte chunks to ``path`` atomically (temporary file + fsync + rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
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


def save(model, path) -> None:
    """Save ``model`` (built) to ``path``; see the module docstring for the format."""
    write_atomic(path, _encode(model))


def _encode(model) -> list:
    """The file's bytes as chunks (header, padded arrays, checksum)."""
    if model._net is None:
        raise RuntimeError("cannot save a model that is not built yet")
    arrays = _arrays(model)
    entries, blobs, offset = [], [], 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        dt = a.dtype.newbyteorder("<").str
        if dt not in _ALLOWED_DTYPES:
            raise TypeError(f"cannot save array {name} of dtype {a.dtype}")
        raw = a.astype(dt, copy=False).tobytes()
        pad = (-offset) % 64
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
    opt = model.optimizer
    header = {
        "config": model.get_config(),
        "optimizer": None
        if opt is None
        else {k: v for k, v in opt.state_dict().items() if k != "state"},
        "step": int(model._net.step),
        "epochs_done": int(model.epochs_done),
        "arrays": entries,
    }
    hbytes = json.dumps(header, default=_json_default).encode("utf-8")
    head = MAGIC + struct.pack("<IQ", VERSION, len(hbytes)) + hbytes
    digest = hashlib.sha256(head)
    for b in blobs:
        digest.update(b)
    return [head, *blobs, digest.digest()]


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


_MAX_HEADER = 64 << 20  # bytes of JSON; a real header is a few KiB
_MAX_NDIM = 8


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _int(v, what: str, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ModelFileError(f"{name}: {what} must be a non-negative integer, got {v!r}")
    return v


def read(path):
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
    return _decode(data, name)


def _decode(data: bytes, name: str):
    """(header, arrays) of a model file's bytes, validated as :func:`read` describes."""
    if len(data) < len(MAGIC) + 12 + 32:
        raise ModelFileError(f"{name}: too short to be an nncore model file ({len(data)} bytes)")
    if data[: len(MAGIC)] != MAGIC:
        raise ModelFileError(f"{name}: not an nncore model file (bad magic bytes)")
    version, hlen = struct.unpack_from("<IQ", data, len(MAGIC))
    if version != VERSION:
        raise ModelFileError(
            f"{name}: format version {version} is not supported (this nncore reads {VERSION})"
        )
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{name}: checksum mismatch (the file is truncated or corrupted)")
    start = len(MAGIC) + 12
    if hlen > _MAX_HEADER or start + hlen > len(body):
        raise ModelFileError(f"{name}: header length {hlen} exceeds the file size or the limit")
    try:
        header = json.loads(body[start : start + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise ModelFileError(f"{name}: unreadable header ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise ModelFileError(f"{name}: header lacks the array table")
    section = memoryview(body)[start + hlen :]
    arrays = {}
    for e in header["arrays"]:
        if (
            not isinstance(e, dict)
            or not isinstance(e.get("name"), str)
            or e.get("dtype") not in _ALLOWED_DTYPES
            or not isinstance(e.get("shape"), list)
            or len(e["shape"]) > _MAX_NDIM
        ):
            raise ModelFileError(f"{name}: malformed array entry {str(e)[:200]}")
        dt = _ALLOWED_DTYPES[e["dtype"]]
        shape = tuple(_int(d, "an array dimension", name) for d in e["shape"])
        off = _int(e.get("offset"), "an array offset", name)
        nbytes = _int(e.get("nbytes"), "an array size", name)
        # Python integers: an absurd shape cannot overflow into a small, plausible size.
        if off + nbytes > len(section) or math.prod(shape) * np.dtype(dt).itemsize != nbytes:
            raise ModelFileError(f"{name}: array {e['name']!r} is out of bounds or inconsistent")
        arrays[e["name"]] = (
            np.frombuffer(section[off : off + nbytes], dtype=dt).reshape(shape).copy()
        )
    return header, arrays


def load(path):
    """Load a model saved with :meth:`Sequential.save` (weights, buffers, compile settings and
    optimizer state, so training resumes exactly where it stopped).

    Raises ModelFileError (a ValueError) for anything that is not a valid model file, OSError when
    the file cannot be opened and MemoryError when the model it describes cannot fit in memory."""
    header, arrays = read(path)
    return _load_checked(header, arrays, os.fspath(path))


def _load_checked(header, arrays, name):
    try:
        return _build(header, arrays, name)
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


def _build(header, arrays, name):
    from . import optim as _optim
    from .model import Sequential

    config = header.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{name}: header lacks the model configuration")
    model = Sequential.from_config(config)
    comp = config.get("compile")
    optd = header.get("optimizer")
    if comp is not None:
        opt = "sgd"
        if optd is not None:
            opt = _optim.get(optd["name"], **optd.get("hparams", {}))
        model.compile(
            optimizer=opt,
            loss=comp["loss"],
            metrics=comp.get("metrics"),
            huber_delta=comp.get("huber_delta", 1.0),
        )
    model.build()
    net = model._net
    for key, target in (("params", net.params_array()), ("buffers", net.buffers_array())):
        a = arrays.get(key)
        if a is None or a.shape != target.shape or a.dtype != np.float32:
            raise ModelFileError(f"{name}: array {key!r} does not match the architecture")
        if not np.isfinite(a).all() and key == "buffers":
            raise ModelFileError(f"{name}: array {key!r} holds non-finite values")
        target[:] = a
    net.params_changed()
    net.step = _int(header.get("step", 0), "step", name)
    model.epochs_done = _int(header.get("epochs_done", 0), "epochs_done", name)
    if (
        optd is not None
        and model.optimizer is not None
        and hasattr(model.optimizer, "load_state_dict")
    ):
        state = {k[len("optimizer.") :]: v for k, v in arrays.items() if k.startswith("optimizer.")}
        model.optimizer.load_state_dict(dict(optd, state=state))
    return model


# In-memory round trip for pickle/deepcopy (Sequential.__getstate__/__setstate__): the same bytes
# and checks as a file. Kept in one place so a public dumps/loads can route through it.
def _to_bytes(model) -> bytes:
    return b"".join(_encode(model))


def _from_bytes(data: bytes, name: str = "<pickled nncore model>"):
    return _load_checked(*_decode(bytes(data), name), name)
