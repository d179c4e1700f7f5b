"""After ``fork``: tells the user, once, that nncore runs single-threaded on the forking thread.

GCC's OpenMP runtime cannot start threads again on the thread that forked (see cpp/src/fork.cpp),
so the core runs that thread's calls on one thread (same results, slower). ``check()`` is called
at the start of model calls; it costs one attribute read until a fork happens.
"""

from __future__ import annotations

import os
import warnings

from . import _core

MESSAGE = (
    "nncore: this process was forked from a thread that had run nncore's OpenMP threads; GCC's "
    "OpenMP runtime cannot start threads again on that thread after fork, so nncore runs "
    "single-threaded here (same results, slower). To keep threads in worker processes use "
    'multiprocessing.set_start_method("spawn") (or "forkserver", or a concurrent.futures '
    'ProcessPoolExecutor with mp_context=multiprocessing.get_context("spawn")), or call nncore '
    "from a new thread in the child, which can use threads again."
)


class _State:
    pending = False  # a fork happened and the warning was not given yet


def _after_fork_in_child() -> None:
    _State.pending = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def check(stacklevel: int = 3) -> None:
    if not _State.pending:
        return
    if _core.fork_single_threaded():
        _State.pending = False
        warnings.warn(MESSAGE, RuntimeWarning, stacklevel=stacklevel)


def refuse_threads(n: int) -> None:
    """Raises when ``n > 1`` threads are asked for on a thread that cannot start them."""
    if n > 1 and _core.fork_single_threaded():
        raise RuntimeError(f"cannot use {n} threads on this thread: {MESSAGE.split('; ', 1)[1]}")
