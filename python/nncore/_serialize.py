"""Models to and from bytes in nncore's own file format (nncore.io), for pickling estimators and
shipping fold models between joblib workers without pickling the C++ network."""

from __future__ import annotations

import os
import tempfile


def to_bytes(model) -> bytes:
    """The bytes :meth:`Sequential.save` would write (checksummed nncore format)."""
    from .io import save

    fd, path = tempfile.mkstemp(suffix=".nnc")
    os.close(fd)
    try:
        save(model, path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def from_bytes(data: bytes):
    """The model that :func:`to_bytes` serialized (weights, buffers, compile settings and
    optimizer state)."""
    from .io import load

    fd, path = tempfile.mkstemp(suffix=".nnc")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return load(path)
    finally:
        os.unlink(path)
