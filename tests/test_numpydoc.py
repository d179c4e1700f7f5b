"""numpydoc's validation over every public name of nncore (issue #37): each public function,
class, method and property has a docstring whose Parameters section names exactly the
signature's parameters, in order, each described, and a Returns section when it returns something.
Skips without numpydoc (``pip install numpydoc``; the ``[test]`` extra and ``.ci/run`` install it).
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import public_api  # noqa: E402

# The numpydoc error codes that fail this test: what a reader of a reference page needs to call
# the function right. The others (ES01 extended summary, SA01 See Also, EX01 examples on every
# method, SS05/SS06 summary wording, GL02 blank lines, RT02/RT03 returns style, ...) are style.
CHECKED = {
    "GL08": "no docstring",
    "SS01": "no summary line",
    "PR01": "a parameter of the signature is not documented",
    "PR02": "a documented parameter is not in the signature (misnamed or stale)",
    "PR03": "the documented parameters are not in the signature's order",
    "PR07": "a documented parameter has no description",
    "PR10": "a parameter line lacks the space before its colon (numpydoc misreads it)",
    "RT01": "no Returns section although the function returns something",
}

# Modules outside the API reference whose functions users still import and read: the command
# line (its page is the --help text, but ``nncore.cli.main`` and friends are Python functions).
ALSO_CHECKED = ("nncore.cli",)

# Public modules whose names do not pass yet, with the reason: strict xfails, so a module that
# is fixed fails until it is taken off this list.
PENDING: dict[str, str] = {}


def _members(cls) -> list:
    """public_api's members (own methods and properties) plus scikit-learn's conditional
    methods (``available_if``: ``partial_fit``), which are not plain functions on the class."""
    out = public_api._members(cls)
    have = {n for n, _ in out}
    for n, raw in vars(cls).items():
        if n.startswith("_") or n in have or not hasattr(raw, "fn"):
            continue
        if inspect.isfunction(raw.fn):  # sklearn.utils.metaestimators.available_if
            out.append((n, raw.fn))
    return out


@functools.lru_cache(maxsize=1)
def public_objects(skip_missing: bool = True) -> dict:
    """{public module: [(qualified public name, object)]}: every public function and class,
    each counted once under the module that defines it, and each class's own public methods
    and properties."""
    modules = public_api.importable_modules(skip_missing) + list(ALSO_CHECKED)
    seen, out = set(), {m: [] for m in modules}
    for m in modules:
        for name, obj in public_api.public_names(m):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            where = public_api.owner_module(obj, modules)
            out[where].append((f"{where}.{name}", obj))
            if inspect.isclass(obj):
                for n, member in _members(obj):
                    out[where].append((f"{where}.{name}.{n}", _documented(obj, n, member)))
    return out


def _documented(cls, name: str, member):
    """The member, or the base-class member it overrides when it has no docstring of its own
    (its page shows that docstring, as Sphinx's autodoc inherits it)."""
    if (getattr(member, "__doc__", None) or "").strip():
        return member
    for base in cls.__mro__[1:]:
        other = vars(base).get(name)
        if isinstance(other, (staticmethod, classmethod)):
            other = other.__func__
        if other is not None and (getattr(other, "__doc__", None) or "").strip():
            return other
    return member


def errors(obj) -> list:
    """The CHECKED numpydoc errors of one object, as (code, message) pairs (the calling test
    skips without numpydoc; the module's other tests do not need it)."""
    numpydoc_validate = pytest.importorskip("numpydoc.validate")
    docscrape = pytest.importorskip("numpydoc.docscrape")
    target = obj.fget if isinstance(obj, property) else obj
    result = numpydoc_validate.validate(docscrape.get_doc_object(target))
    found = [
        (code, msg)
        for code, msg in result["errors"]
        if code in CHECKED and not _only_private_parameters(code, msg)
    ]
    if isinstance(obj, property):  # a property documents a value, not parameters
        found = [(c, m) for c, m in found if c in ("GL08", "SS01")]
    return found


def _only_private_parameters(code: str, msg: str) -> bool:
    """A PR01 about parameters whose names start with "_" only (``build(_init=...)``): those are
    not API, and a reference page does not show them."""
    if code != "PR01" or "{" not in msg:
        return False
    names = ast.literal_eval(msg[msg.index("{") : msg.rindex("}") + 1])
    return all(name.startswith("_") for name in names)


def _params():
    return [
        pytest.param(
            m,
            marks=[pytest.mark.xfail(reason=PENDING[m], strict=True)] if m in PENDING else [],
            id=m,
        )
        for m in public_objects()
    ]


@pytest.mark.parametrize("modname", _params())
def test_public_names_pass_numpydoc_validation(modname):
    bad = [
        f"{name}: {code} {msg}"
        for name, obj in public_objects()[modname]
        for code, msg in errors(obj)
    ]
    assert not bad, "numpydoc validation:\n" + "\n".join(bad)


def test_every_public_module_is_checked():
    objects = public_objects()
    assert sum(len(v) for v in objects.values()) >= 300  # the count when this test was written
    assert not set(PENDING) - set(objects), "PENDING names a module that is not public"


def _planted(X, y, sample_weight=None):
    """Score predictions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.

    Returns
    -------
    float
        The score.
    """
    return 0.0


def test_the_check_sees_a_missing_parameter():
    codes = [code for code, _ in errors(_planted)]
    assert codes == ["PR01"], codes
    renamed = _planted.__doc__.replace("    y : ndarray", "    target : ndarray")

    def misnamed(X, y, sample_weight=None):
        return 0.0

    misnamed.__doc__ = renamed
    assert sorted(code for code, _ in errors(misnamed)) == ["PR01", "PR02"]

    def no_returns(X, y, sample_weight=None):
        return 0.0

    no_returns.__doc__ = _planted.__doc__.split("    Returns")[0]
    assert "RT01" in [code for code, _ in errors(no_returns)]

    def no_doc(X):
        return X

    assert [code for code, _ in errors(no_doc)] == ["GL08"]


def test_every_public_module_has_a_summary():
    """The API index and the module index show each module's first sentence."""
    import api_pages

    empty = [m for m in public_api.importable_modules(True) if not api_pages.synopsis(m)]
    assert not empty, f"modules without a docstring summary: {empty}"
    assert (
        api_pages.synopsis("nncore.data") == "Mini-batch iteration for user-written training loops."
    )


def test_intersphinx_uses_local_inventories_only(tmp_path, monkeypatch):
    """The docs build links to another project only from an inventory file on this machine, so
    an offline ``-W`` build never waits for or fails on a download; without the file the
    project is left out, and numpydoc's aliases that would warn (``:term:``) are replaced."""
    import inventories

    projects = {
        "numpy": ("https://numpy.org/doc/stable", []),
        "python": ("https://docs.python.org/3", [str(tmp_path / "absent.inv")]),
    }
    monkeypatch.setattr(inventories, "PROJECTS", projects)
    cached = inventories.cache_dir(tmp_path) / "numpy.inv"
    cached.parent.mkdir()
    cached.write_bytes(b"# Sphinx inventory version 2\n")
    found, missing = inventories.mapping(tmp_path)
    assert found == {"numpy": ("https://numpy.org/doc/stable", str(cached))}
    assert missing == ["python"]
    aliases = inventories.xref_aliases(found)
    assert ":term:" not in aliases["iterable"] and ":ref:" not in aliases["bool"]
    assert "array-like" not in aliases  # numpy is here: numpydoc's own :term: link stays
