"""The distributed context ``fit`` and ``evaluate`` run in, resolved once per call and then
passed on explicitly (nothing below the public face looks it up): the one given as
``distributed=ctx``, else the one a ``with nncore.distributed.init(...) as ctx:`` block holds.
A bare ``init()`` without ``with`` still makes every call collective for one release, with a
``DeprecationWarning``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .. import _deprecation

# [context or None, whether a ``with`` block (or a distributed fit) scopes it]
_ACTIVE: list[Any] = [None, False]


def activate(ctx, *, scoped: bool = False) -> None:
    """Make ``ctx`` (or None) the context that ``fit`` and ``evaluate`` run in; ``scoped``:
    entered by a ``with`` block, so using it is what the user asked for."""
    _ACTIVE[:] = [ctx, bool(scoped and ctx is not None)]


def active():
    """The context set by ``nncore.distributed.init()``, or None."""
    return _ACTIVE[0]


def resolve(distributed, what: str):
    """The context ``what`` (``"fit"``, ``"evaluate"``) runs in, or None: ``distributed`` when
    given, else the scoped one; the one a bare ``init()`` set warns that this is deprecated."""
    if distributed is not None:
        if not (hasattr(distributed, "comm") and hasattr(distributed, "watchdog")):
            raise TypeError(
                "distributed must be the context nncore.distributed.init() returns, got "
                f"{distributed!r}"
            )
        return distributed
    ctx, scoped = _ACTIVE
    if ctx is not None and not scoped:
        _deprecation.warn(
            f"a {what} made collective by a bare nncore.distributed.init()",
            "scope the distributed part: `with nncore.distributed.init(...) as ctx:` "
            f"(or pass {what}(..., distributed=ctx))",
            stacklevel=4,
        )
    return ctx


@contextlib.contextmanager
def scope(ctx) -> Iterator[None]:
    """``ctx`` scoped for the duration (a distributed fit: its callbacks' ``evaluate`` calls are
    collective too), then what was there before."""
    old = list(_ACTIVE)
    _ACTIVE[:] = [ctx, True]
    try:
        yield
    finally:
        _ACTIVE[:] = old
