"""Where the C++ inference API (nncore/model.h, the static core, the CMake config) is installed:
inside the package, as ``nncore/include`` and ``nncore/lib`` (``python -m nncore --cmake-dir``
and ``--include`` print these).

    cmake -S my_app -B build -Dnncore_DIR="$(python -m nncore --cmake-dir)"
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def include_dir() -> Path:
    """The directory to add to the include path.

    Returns
    -------
    pathlib.Path
        The directory holding ``nncore/model.h``.

    Raises
    ------
    FileNotFoundError
        When the C++ API is not installed with this nncore (a source checkout).
    """
    return _check(_PKG / "include", "nncore/model.h")


def cmake_dir() -> Path:
    """The directory holding ``nncoreConfig.cmake``, for CMake's ``-Dnncore_DIR=``.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    FileNotFoundError
        When the C++ API is not installed with this nncore (a source checkout).
    """
    return _check(_PKG / "lib" / "cmake" / "nncore", "nncoreConfig.cmake")


def _check(path: Path, member: str) -> Path:
    if not (path / member).is_file():
        raise FileNotFoundError(
            f"the C++ API is not installed with this nncore ({path / member} is missing): it comes "
            "with an installed package (pip install .); a source checkout's build tree has its "
            "own config, e.g. -Dnncore_DIR=build/dev"
        )
    return path
