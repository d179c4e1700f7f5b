"""MathJax served from the site itself, so math renders offline (and in the CI's headless
browser): MathJax 3 comes from the PyPI package ``sphinx-mathjax-offline`` (in the ``docs`` extra)
and is copied into ``_static/mathjax``; nothing is fetched from a CDN.

Without that package: under CI (``CI`` set) or ``NNCORE_DOCS_STRICT=1`` the build stops with an
error; otherwise it prints a note and keeps Sphinx's CDN default, so a local build still works and
its math renders when the browser is online.
"""

from __future__ import annotations

import os
import shutil
from importlib import metadata
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

DIST = "sphinx-mathjax-offline"
ENTRY = "tex-chtml.js"
# tex-chtml.js plus what it loads on demand (TeX extensions, the CommonHTML fonts, the menu)
PARTS = [ENTRY, "input/tex", "output/chtml", "ui", "a11y"]
logger = logging.getLogger(__name__)


def mathjax_dir() -> Path | None:
    """The MathJax 3 directory shipped by sphinx-mathjax-offline, or None."""
    try:
        files = metadata.files(DIST) or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == ENTRY and f.parent.name == "mathjax":
            path = Path(f.locate())
            return path.parent if path.is_file() else None
    return None


def _strict() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("NNCORE_DOCS_STRICT") == "1"


def configure(app, config):
    src = mathjax_dir()
    app._local_mathjax = src
    if src is not None:
        config.mathjax_path = f"mathjax/{ENTRY}"
        return
    message = f"MathJax for offline use is missing: pip install {DIST} (or pip install '.[docs]')"
    if _strict():
        raise ExtensionError(message + "; the site's math would show as raw TeX offline")
    logger.info(f"note: {message}; math loads from a CDN in this build")


def copy_mathjax(app, exc):
    src = getattr(app, "_local_mathjax", None)
    if exc is not None or src is None or app.builder.format != "html":
        return
    dst = Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        s, d = src / part, dst / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.is_file():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)


def setup(app):
    app.connect("config-inited", configure)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True}
