"""What counts as nncore's public API: one definition shared by the API reference (docs/conf.py
writes one page per public module from it) and the docstring census (tests/test_docs.py).

Public modules are nncore and every submodule whose dotted path has no component starting with
"_" (so a module that becomes a package with private parts keeps working), minus the command
line. A module's public names are its ``__all__`` when it has one, else the functions and classes
defined in it (or in its private submodules) whose names do not start with "_". Each object is
documented once, under its canonical name: ``nncore.NAME`` when the top level exports it, else
``<module>.NAME``. Not covered: constants and other data attributes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

# Modules that are no API: the command line is documented by ``nncore --help`` and the guide.
NOT_API = {"nncore.cli", "nncore.__main__"}

# The order of the API reference; modules found that are not listed here follow alphabetically.
ORDER = [
    "nncore",
    "nncore.layers",
    "nncore.model",
    "nncore.optim",
    "nncore.lr_scheduler",
    "nncore.callbacks",
    "nncore.data",
    "nncore.datasets",
    "nncore.metrics",
    "nncore.model_selection",
    "nncore.preprocessing",
    "nncore.sklearn",
    "nncore.diagnostics",
    "nncore.plot",
    "nncore.progress",
    "nncore.io",
]


def _is_public_path(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_modules() -> list:
    """Dotted names of the public modules, in reference order."""
    pkg = importlib.import_module("nncore")
    found = {"nncore"}
    for info in pkgutil.walk_packages(pkg.__path__, "nncore.", onerror=lambda _name: None):
        if _is_public_path(info.name) and info.name not in NOT_API:
            found.add(info.name)
    ordered = [m for m in ORDER if m in found]
    return ordered + sorted(found - set(ordered))


def _is_api_object(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _defined_under(obj, modname: str) -> bool:
    owner = getattr(obj, "__module__", "") or ""
    return owner == modname or (
        owner.startswith(modname + ".") and not _is_public_path(owner[len(modname) + 1 :])
    )


def public_names(modname: str) -> list:
    """The module's public functions and classes, as (name, object) pairs in source order."""
    mod = importlib.import_module(modname)
    if hasattr(mod, "__all__"):
        names = [n for n in mod.__all__ if not n.startswith("_")]
    else:
        names = [
            n
            for n, obj in vars(mod).items()
            if not n.startswith("_") and _is_api_object(obj) and _defined_under(obj, modname)
        ]
    out = []
    for n in names:
        obj = getattr(mod, n)
        if _is_api_object(obj):
            out.append((n, obj))
    return out


def importable_modules(skip_missing: bool = False) -> list:
    """public_modules(); with ``skip_missing`` those that fail to import for want of an optional
    dependency (``nncore.sklearn`` without scikit-learn) are left out instead of raising."""
    out = []
    for m in public_modules():
        try:
            importlib.import_module(m)
        except ImportError:
            if not skip_missing:
                raise
            continue
        out.append(m)
    return out


def canonical_names(skip_missing: bool = False) -> dict:
    """{public module: [canonical dotted name of each public name]}."""
    top = {id(obj): f"nncore.{n}" for n, obj in public_names("nncore")}
    out = {}
    for m in importable_modules(skip_missing):
        out[m] = [
            f"{m}.{n}" if m == "nncore" else top.get(id(obj), f"{m}.{n}")
            for n, obj in public_names(m)
        ]
    return out


def _members(cls) -> list:
    """A class's own public methods and properties (inherited ones are counted where defined,
    and members inherited from other libraries, e.g. scikit-learn's, are not ours)."""
    out = []
    for n, raw in vars(cls).items():
        if n.startswith("_"):
            continue
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if inspect.isfunction(raw) or isinstance(raw, property):
            out.append((n, raw))
    return out


def owner_module(obj, modules: list) -> str:
    """The public module a definition belongs to: the longest public module name that prefixes
    the object's ``__module__`` (so ``nncore.model_selection._split.KFold`` counts under
    ``nncore.model_selection``)."""
    owner = getattr(obj, "__module__", "") or ""
    best = "nncore"
    for m in modules:
        if (owner == m or owner.startswith(m + ".")) and len(m) > len(best):
            best = m
    return best


def census(skip_missing: bool = False) -> dict:
    """{module: (number of public names, [qualified names without a docstring])}, each object
    counted once, under the module that defines it. A method without a docstring of its own
    inherits the one of the method it overrides (as ``inspect.getdoc`` and the reference do)."""
    modules = importable_modules(skip_missing)
    seen, result = set(), {m: [0, []] for m in modules}
    for m in modules:
        for name, obj in public_names(m):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            where = owner_module(obj, modules)
            entries = [(f"{where}.{name}", obj.__doc__)]
            if inspect.isclass(obj):
                entries += [
                    (f"{where}.{name}.{n}", _member_doc(obj, n, o)) for n, o in _members(obj)
                ]
            for qual, doc in entries:
                result[where][0] += 1
                if not (doc or "").strip():
                    result[where][1].append(qual)
    return {m: (n, missing) for m, (n, missing) in result.items()}


def _member_doc(cls, name: str, member):
    """The member's docstring, else that of the first base class's member it overrides."""
    if (member.__doc__ or "").strip():
        return member.__doc__
    for base in cls.__mro__[1:]:
        other = vars(base).get(name)
        if other is not None and (getattr(other, "__doc__", None) or "").strip():
            return other.__doc__
    return None
