"""Models to and from bytes in nncore's own file format, for pickling estimators and shipping
fold models between joblib workers without pickling the C++ network (see :mod:`nncore.io`)."""

from __future__ import annotations

from .model import Sequential


def to_bytes(model: Sequential) -> bytes:
    """The bytes :meth:`Sequential.save` would write (checksummed nncore format)."""
    from .io import dumps

    return dumps(model)


def from_bytes(data: bytes) -> Sequential:
    """The model that :func:`to_bytes` serialized (weights, buffers, compile settings and
    optimizer state)."""
    from .io import loads

    model = loads(data)
    if not isinstance(model, Sequential):  # an int8 model's bytes: not what was pickled here
        raise TypeError("the bytes hold a quantized model, not a Sequential")
    return model
