"""Threads, ISA and build information."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from . import _core

__version__ = "0.1.0"  # the package version (nncore.__version__; pyproject.toml repeats it)


def set_num_threads(n: int) -> None:
    """Use ``n`` OpenMP threads in nncore's kernels, for this process.

    Results do not depend on the thread count: the same seed gives bitwise identical weights with
    any ``n``.

    Parameters
    ----------
    n : int
        Threads to use; ``n <= 0`` goes back to the default, which is ``OMP_NUM_THREADS`` or all
        cores, and follows threadpoolctl limits.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        When ``n`` is not an int (bools are refused) or is larger than 4096.

    Examples
    --------
    >>> import nncore as nc
    >>> nc.set_num_threads(1)
    >>> nc.get_num_threads()
    1
    >>> nc.set_num_threads(0)  # back to the default
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"number of threads must be an integer, got {n!r}")
    if n > 4096:
        raise ValueError(f"number of threads must be <= 4096, got {n}")
    from ._fork import refuse_threads

    refuse_threads(n)
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads nncore's kernels use now.

    Returns
    -------
    int
        The number set by :func:`set_num_threads` or :func:`num_threads`, else the default
        (``OMP_NUM_THREADS`` or all cores).

    Examples
    --------
    >>> import nncore as nc
    >>> nc.get_num_threads() >= 1
    True
    """
    return _core.num_threads()


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Context manager that runs its block with ``n`` threads, then restores the previous setting
    (a default that follows ``OMP_NUM_THREADS`` stays a default).

    Parameters
    ----------
    n : int
        Threads inside the block, as for :func:`set_num_threads`.

    Returns
    -------
    context manager
        Yields None.

    Raises
    ------
    ValueError
        On entry, when ``n`` is not an int or is larger than 4096.

    Examples
    --------
    >>> import nncore as nc
    >>> before = nc.get_num_threads()
    >>> with nc.num_threads(1):
    ...     print(nc.get_num_threads())
    1
    >>> nc.get_num_threads() == before
    True
    """
    before = _core.num_threads_setting()  # 0 keeps following OMP_NUM_THREADS / threadpoolctl
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(before)


def config() -> dict[str, Any]:
    """What this nncore runs with: ISA in use (and the ones available), its GEMM micro-kernel,
    threads, OpenMP, compiler, build type.

    Returns
    -------
    dict
        Keys ``version`` (str), ``isa`` (``"avx512"``, ``"avx2"``, ``"neon"`` or ``"scalar"``),
        ``isa_available`` (list of str), ``isa_forced_by_env`` (the ``NNCORE_ISA`` value or
        None), ``gemm_kernel`` (str), ``gemm_blocking`` (dict: the ``mc``, ``nc``, ``kc``
        cache blocks, the ``group_cols`` columns of packed B each row block's slivers pass over
        at a time (L2-sized), whether they were ``"derived"`` from the cache sizes or
        ``"forced"``, and the ``caches`` they were derived from, in bytes), ``threads`` and ``cores`` (int),
        ``openmp`` (bool), ``compiler`` and ``build_type`` (str).

    Examples
    --------
    >>> import nncore as nc
    >>> info = nc.config()
    >>> sorted(info)  # doctest: +NORMALIZE_WHITESPACE
    ['build_type', 'compiler', 'cores', 'gemm_blocking', 'gemm_kernel', 'isa',
     'isa_available', 'isa_forced_by_env', 'openmp', 'threads', 'version']
    >>> info["isa"] in info["isa_available"]
    True
    """
    kernel = _core.gemm_kernel(_core.isa())

    return {
        "version": __version__,
        "isa": _core.isa(),
        "isa_available": list(_core.supported_isas()),
        "isa_forced_by_env": os.environ.get("NNCORE_ISA") or None,
        "gemm_kernel": kernel["name"],
        "gemm_blocking": {
            k: kernel[k] for k in ("mc", "nc", "kc", "group_cols", "blocking", "caches")
        },
        "threads": _core.num_threads(),
        "cores": _core.num_cores(),
        "openmp": bool(_core.have_openmp()),
        "compiler": _core.compiler,
        "build_type": _core.build_type,
    }
