"""Writes the API reference's module pages (docs/api/modules/*.rst, not kept in git) from
public_api, so a module added or split by a refactor appears without editing the docs. Each page
shows the module docstring and an autosummary table whose stubs autosummary generates."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import public_api

# Modules that are machinery behind the public face (the epoch driver and its parts): listed in a
# section of their own at the end of the reference, for contributors.
INTERNAL = ("nncore.training",)


def synopsis(modname: str, literals: bool = False) -> str:
    """The first sentence of the module's docstring: plain text (the module index shows it), or
    with ``literals`` its inline literals kept and roles turned into literals (the API index)."""
    doc = importlib.import_module(modname).__doc__ or ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    role = r":\w+:`~?([^`<]*?)(?: <[^>]*>)?`"
    para = re.sub(role, r"``\1``" if literals else r"\1", para)  # :class:`X` -> X
    if not literals:
        para = para.replace("``", "")
    end = re.search(r"\.(\s|$)", para)
    return para[: end.start() + 1] if end else para


def _autosummary(entries: list, toctree: bool) -> list:
    # Entries relative to ``nncore``: autosummary prefixes every entry with the current module.
    opts = ["   :toctree: ../generated"] if toctree else []
    rel = [n[len("nncore.") :] for n in entries]
    return [".. autosummary::", *opts, "   :nosignatures:", "", *[f"   {n}" for n in rel], ""]


def _page(modname: str, names: list) -> str:
    title = f"``{modname}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {modname}", "   :no-members:"]
    lines += [f"   :synopsis: {synopsis(modname)}", ""]
    own = [n for n in names if n.rsplit(".", 1)[0] == modname]
    elsewhere = [n for n in names if n not in own]
    lines += [".. currentmodule:: nncore", ""]
    if own:
        lines += _autosummary(own, toctree=True)
    if elsewhere:  # one stub per object: these are documented at the top level
        lines += ["Also in this module, documented under ``nncore``:", ""]
        lines += _autosummary(elsewhere, toctree=False)
    return "\n".join(lines)


def write(outdir: Path) -> list:
    """Write one page per public module; returns the module names in reference order."""
    outdir.mkdir(parents=True, exist_ok=True)
    pages = public_api.canonical_names()
    for old in outdir.glob("*.rst"):
        if old.stem not in pages:
            old.unlink()  # a module that no longer exists
    for modname, names in pages.items():
        path = outdir / f"{modname}.rst"
        text = _page(modname, names)
        if not path.exists() or path.read_text() != text:  # unchanged pages stay cached
            path.write_text(text)
    public = [m for m in pages if not m.startswith(INTERNAL)]
    internal = [m for m in pages if m.startswith(INTERNAL)]
    index = ["API reference", "=============", ""]
    index += [
        "Every public module of nncore, its functions and classes. The reference is built from",
        "the docstrings; a name documented at the top level (``nncore.Dense``) is listed under",
        "its module as well.",
        "",
        ".. toctree::",
        "   :hidden:",
        "   :maxdepth: 1",
        "",
        *[f"   modules/{m}" for m in pages],
        "",
        *_module_table(public),
    ]
    if internal:
        index += ["Training internals", "------------------", ""]
        index += [
            "The epoch driver behind ``fit`` and what plugs into it; for contributors (user",
            "code calls ``fit``, ``evaluate`` and ``nncore.streaming``, not these).",
            "",
            *_module_table(internal),
        ]
    text = "\n".join(index)
    api_index = outdir.parent / "index.rst"
    if not api_index.exists() or api_index.read_text() != text:
        api_index.write_text(text)
    return list(pages)


def _module_table(modules: list) -> list:
    """A list of modules: each name links to its page, followed by its first sentence (a list,
    not an autosummary table: the long module names and summaries overflowed a table's width)."""
    return [*[f"- :mod:`{m}`: {synopsis(m, literals=True)}" for m in modules], ""]
