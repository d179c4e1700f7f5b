"""Sphinx configuration of nncore's documentation site.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (needs ``pip install ".[docs]"`` and a
built nncore: installed, or ``tools/dev_build.sh`` and this file's ``python/`` fallback). The API
reference pages are written from docs/_ext/public_api.py when this file loads; sphinx-gallery
runs examples/ into auto_examples/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
# The gallery runs in this process. On a machine whose cores are busy with other work, OpenMP
# threads that spin while waiting make nncore 15-40x slower (measured on the 2-core VM under
# load); passive waiting keeps the build time stable. It must be set before OpenMP loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
try:  # an installed nncore wins; the working tree (after tools/dev_build.sh) otherwise
    import nncore  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "python"))
    import nncore  # noqa: F401

os.environ.setdefault("MPLBACKEND", "Agg")  # plots go to files

import api_pages  # noqa: E402
import inventories  # noqa: E402

api_pages.write(HERE / "api" / "modules")

project = "nncore"
author = "nncore developers"
copyright = "nncore developers"
release = version = nncore.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # this site's own (docs/_ext)
    "local_mathjax",
    "figure_axes",
    "cli_reference",
    "run_session",
    "bench_results",
]

exclude_patterns = ["_build", "_gallery", "_generated", "**/sg_execution_times.rst"]
templates_path = ["_templates"]
html_theme = "pydata_sphinx_theme"
html_title = f"nncore {release}"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# top-level pages without sub-pages: no empty "Section Navigation" column
html_sidebars = {page: [] for page in ["index", "quickstart", "cli", "faq", "changelog"]}

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False

# Links to Python, numpy, scikit-learn and PyTorch, from local inventories only (offline builds
# pass -W the same way): see docs/_ext/inventories.py and tools/fetch_inventories.py.
intersphinx_mapping, intersphinx_missing = inventories.mapping(HERE)
intersphinx_timeout = 5
# The types of numpydoc's Parameters/Returns sections become links where a target exists.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "dtype": "numpy.dtype",
    "RandomState": "numpy.random.RandomState",
    "Sequential": "nncore.Sequential",
    "Layer": "nncore.layers.Layer",
    "Callback": "nncore.callbacks.Callback",
    "History": "nncore.callbacks.History",
    "LRScheduler": "nncore.lr_scheduler.LRScheduler",
    "Optimizer": "nncore.optim.Optimizer",
    **inventories.xref_aliases(intersphinx_mapping),
}
numpydoc_xref_ignore = "all"  # words not in the aliases (of, shape, default, ...) stay text


def _stage_gallery(src: Path, dst: Path) -> Path:
    """Copy the gallery's own files (the header and examples/plot_*.py, not subfolders such as
    examples/cpp_inference, which sphinx-gallery would otherwise take for a gallery section as
    soon as it holds a README.txt) into docs/_gallery. Unchanged files are left alone, so
    sphinx-gallery's content hashes still skip examples that did not change."""
    dst.mkdir(exist_ok=True)
    wanted = {p.name: p for p in [src / "GALLERY_HEADER.rst", *sorted(src.glob("plot_*.py"))]}
    for old in dst.iterdir():
        if old.name not in wanted:
            old.unlink()
    for name, path in wanted.items():
        target = dst / name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            target.write_bytes(path.read_bytes())
    return dst


sphinx_gallery_conf = {
    "examples_dirs": str(_stage_gallery(ROOT / "examples", HERE / "_gallery")),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # matplotlib's scraper plus a record of what each axis draws (docs/_ext/figure_axes.py),
    # which tools/check_site.py reads to fail on an empty panel
    "image_scrapers": ("figure_axes.scraper",),
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    # "Examples using X" on each API page (the minigallery in docs/_templates/autosummary)
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("nncore",),
}


# Docstrings of modules that other work is rewriting use a few plain-text forms that are markup in
# reStructuredText. Until those sources are fixed, each is rewritten here; a fix whose text is no
# longer found is reported, so this list shrinks as the sources are cleaned up.
_DOCSTRING_FIXES: dict[str, list] = {}


def _fix_docstring(app, what, name, obj, options, lines):
    for old, new in _DOCSTRING_FIXES.get(name, ()):
        text = "\n".join(lines)
        if old in text:
            lines[:] = text.replace(old, new).split("\n")


def _check_fixes_needed(app):
    import importlib
    import inspect

    from sphinx.util import logging

    for name, fixes in _DOCSTRING_FIXES.items():
        try:
            obj = importlib.import_module(name)
        except ImportError:
            mod, _, attr = name.rpartition(".")
            obj = getattr(importlib.import_module(mod), attr, None)
        doc = inspect.getdoc(obj) or ""
        for old, _ in fixes:
            if old not in doc:
                logging.getLogger(__name__).warning(
                    f"conf.py: the docstring of {name} no longer contains {old!r}: "
                    "remove that fix from _DOCSTRING_FIXES"
                )


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Members a class inherits from another library (scikit-learn's metadata-routing
    methods) are documented there, not here."""
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module and not module.startswith("nncore"):
        return True
    return None


def _report_inventories(app):
    from sphinx.util import logging

    if intersphinx_missing:
        logging.getLogger(__name__).info(
            "intersphinx: no local inventory for %s, not linked (python "
            "tools/fetch_inventories.py fetches them)",
            ", ".join(intersphinx_missing),
        )


def setup(app):
    app.connect("builder-inited", _report_inventories)
    app.connect("autodoc-process-docstring", _fix_docstring)
    app.connect("autodoc-skip-member", _skip_foreign_member)
    app.connect("builder-inited", _check_fixes_needed)
