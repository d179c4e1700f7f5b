"""Threads, ISA and build information."""

from __future__ import annotations

import contextlib
import os

from . import _core


def set_num_threads(n: int) -> None:
    """Use ``n`` OpenMP threads in nncore's kernels (``n <= 0``: back to the default, which is
    ``OMP_NUM_THREADS`` or all cores, and follows threadpoolctl limits)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"number of threads must be an integer, got {n!r}")
    if n > 4096:
        raise ValueError(f"number of threads must be <= 4096, got {n}")
    from ._fork import refuse_threads

    refuse_threads(n)
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads nncore's kernels use now."""
    return _core.num_threads()


@contextlib.contextmanager
def num_threads(n: int):
    """Context manager: ``with nncore.num_threads(1): ...``."""
    before = _core.num_threads_setting()  # 0 keeps following OMP_NUM_THREADS / threadpoolctl
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(before)


def config() -> dict:
    """What this nncore runs with: ISA in use (and the ones available), its GEMM micro-kernel,
    threads, OpenMP, compiler, build type."""
    from . import __version__

    return {
        "version": __version__,
        "isa": _core.isa(),
        "isa_available": list(_core.supported_isas()),
        "isa_forced_by_env": os.environ.get("NNCORE_ISA") or None,
        "gemm_kernel": _core.gemm_kernel(),
        "threads": _core.num_threads(),
        "cores": _core.num_cores(),
        "openmp": bool(_core.have_openmp()),
        "compiler": _core.compiler,
        "build_type": _core.build_type,
    }
