"""The distributed context ``fit`` and ``evaluate`` hand to the driver: set by
``nncore.distributed.init()`` (as the README documents) and read once per call, then passed on
explicitly; nothing below the public face looks it up."""

from __future__ import annotations

from typing import Any

_ACTIVE: list[Any] = [None]


def activate(ctx) -> None:
    """Make ``ctx`` (or None) the context that ``fit`` and ``evaluate`` run in."""
    _ACTIVE[0] = ctx


def active():
    """The context set by ``nncore.distributed.init()``, or None."""
    return _ACTIVE[0]
