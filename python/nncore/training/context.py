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
    """Make ``ctx`` (or None) the context that ``fit`` and ``evaluate`` run in.

    Parameters
    ----------
    ctx : nncore.distributed.Context or None
        The context, or None for local training.
    scoped : bool, default False
        Entered by a ``with`` block, so using it is what the user asked for (no deprecation
        warning).
    """
    _ACTIVE[:] = [ctx, bool(scoped and ctx is not None)]


def active():
    """The context set by ``nncore.distributed.init()``.

    Returns
    -------
    nncore.distributed.Context or None
        The context, or None.
    """
    return _ACTIVE[0]


def resolve(distributed, what: str):
    """The context a ``fit`` or ``evaluate`` call runs in.

    Parameters
    ----------
    distributed : nncore.distributed.Context or None
        The call's ``distributed=`` argument.
    what : str
        ``"fit"`` or ``"evaluate"``, for the messages.

    Returns
    -------
    nncore.distributed.Context or None
        ``distributed`` when given, else the scoped one; the one a bare ``init()`` set is
        returned with a DeprecationWarning.

    Raises
    ------
    TypeError
        When ``distributed`` is not a context.
    """
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
    """``ctx`` scoped for the duration, then what was there before.

    A distributed fit uses it so that its callbacks' ``evaluate`` calls are collective too.

    Parameters
    ----------
    ctx : nncore.distributed.Context
        The context.

    Yields
    ------
    None
        Inside the block, ``ctx`` is the scoped context.
    """
    old = list(_ACTIVE)
    _ACTIVE[:] = [ctx, True]
    try:
        yield
    finally:
        _ACTIVE[:] = old
