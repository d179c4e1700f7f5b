"""Intersphinx inventories read from local files only, so the docs build (``-W``) is the same with
or without a network: each project is linked when its ``objects.inv`` is found on this machine and
left out quietly when not. The files are not kept in git (they are other projects' data).

Where an inventory is looked for, first match wins:

1. ``docs/_inventories/<project>.inv``, written by ``python tools/fetch_inventories.py`` on a
   machine with internet access (numpy, scikit-learn, PyTorch and Python);
2. the HTML documentation that Debian packages install: ``python3-doc`` (Python) and
   ``python-sklearn-doc`` (scikit-learn; an older release, whose names the current one keeps).

Links always point at the projects' online documentation.
"""

from __future__ import annotations

import sys
from pathlib import Path

# project -> (online documentation the links point at, system files that hold its inventory)
PROJECTS = {
    "python": (
        "https://docs.python.org/3",
        [f"/usr/share/doc/python{sys.version_info[0]}.{sys.version_info[1]}/html/objects.inv"],
    ),
    "numpy": ("https://numpy.org/doc/stable", []),
    "sklearn": (
        "https://scikit-learn.org/stable",
        ["/usr/share/doc/python-sklearn-doc/html/objects.inv"],
    ),
    "torch": ("https://docs.pytorch.org/docs/stable", []),
}


def cache_dir(docs: Path) -> Path:
    """Where tools/fetch_inventories.py stores the downloaded inventories."""
    return docs / "_inventories"


def mapping(docs: Path) -> tuple[dict, list]:
    """(intersphinx_mapping for the projects whose inventory is here, names of the others)."""
    found, missing = {}, []
    for name, (url, system) in PROJECTS.items():
        candidates = [cache_dir(docs) / f"{name}.inv", *map(Path, system)]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            missing.append(name)
        else:
            found[name] = (url, str(path))
    return found, missing


def xref_aliases(found: dict) -> dict:
    """numpydoc type aliases overriding its defaults whose roles warn when unresolved (``:term:``
    and ``:ref:`` into Python's or numpy's docs): those are kept only when that inventory is
    here, and otherwise become plain py-domain references, which resolve quietly or not at all."""
    out = {}
    if "python" not in found:
        out.update({"bool": ":class:`python:bool`", "boolean": ":class:`python:bool`"})
        out.update({k: f":class:`python:{k}`" for k in ("iterable", "sequence", "generator")})
    else:
        out["path-like"] = ":term:`path-like <python:path-like object>`"
    if "numpy" not in found:
        out.update({"array-like": "numpy.ndarray", "array_like": "numpy.ndarray"})
        out["scalar"] = ":class:`numpy.generic`"
    return out
