"""How nncore retires an old spelling: it keeps working for one more release and says, in a
``DeprecationWarning`` pointed at the caller's line, what to write instead. One function, so
every message reads alike and tests can match on it."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

_QUIET = [0]  # > 0 inside quiet(): reading a saved file is not the user writing old spellings


def warn(old: str, new: str, *, stacklevel: int = 3, category: type = DeprecationWarning) -> None:
    """Warn that ``old`` is deprecated (removed in the next release); ``new`` says what to
    write instead. ``stacklevel`` counts from the caller of this function (3: the user's line
    when a public function calls this directly)."""
    if _QUIET[0]:
        return
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; {new}",
        category,
        stacklevel=stacklevel,
    )


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No deprecation warnings inside (a model file written by an earlier version is read
    through the old spellings; its reader did not write them)."""
    _QUIET[0] += 1
    try:
        yield
    finally:
        _QUIET[0] -= 1
