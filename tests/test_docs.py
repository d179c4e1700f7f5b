"""Documentation checks that run with the normal test suite: the docstring census of the public
API, the docstrings' examples (doctest) and the gallery scripts' form. The documentation site
itself, which runs the gallery, is built separately:
``python -m sphinx -W -b html docs docs/_build/html``.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import nncore_home

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import public_api  # noqa: E402

# Modules whose docstring examples are known to fail, with the reason. They run as strict
# xfails: once fixed, the test fails until the module is taken off this list.
DOCTESTS_PENDING: dict[str, str] = {}

EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def test_docstring_census():
    """Every public module's functions, classes, methods and properties have a docstring (the
    whole census; tests/test_numpydoc.py checks their sections where numpydoc is installed)."""
    census = public_api.census(skip_missing=True)
    absent = sorted(set(public_api.public_modules()) - set(census))
    if absent:
        print("not importable here (optional dependency missing):", ", ".join(absent))
    width = max(map(len, census))
    lines = [f"{'module':{width}s}  public  undocumented"]
    for mod, (total, missing) in census.items():
        lines.append(f"{mod:{width}s}  {total:6d}  {len(missing):12d}")
    total_missing = sum(len(m) for _, m in census.values())
    lines.append(f"{'all':{width}s}  {sum(t for t, _ in census.values()):6d}  {total_missing:12d}")
    print("\n".join(lines))
    assert "nncore" in census and len(census) >= 30, sorted(census)
    bad = {mod: missing for mod, (_, missing) in census.items() if missing}
    assert not bad, f"public names without a docstring: {bad}"


def test_census_finds_a_missing_docstring(monkeypatch):
    """The census must see an undocumented method (it counts class members, not just names)."""
    from nncore import metrics

    def undocumented(y_true, y_pred):
        return 0.0

    monkeypatch.setattr(metrics, "undocumented_metric", undocumented, raising=False)
    undocumented.__module__ = "nncore.metrics"
    census = public_api.census(skip_missing=True)
    assert "nncore.metrics.undocumented_metric" in census["nncore.metrics"][1]


def test_each_name_is_documented_once():
    pages = public_api.canonical_names(skip_missing=True)
    owners = {}
    for mod, names in pages.items():
        for name in names:
            if name.rsplit(".", 1)[0] == mod:  # the page that generates the stub
                assert name not in owners, f"{name} is documented by {owners[name]} and {mod}"
                owners[name] = mod
    top = {f"nncore.{n}" for n, _ in public_api.public_names("nncore")}
    assert top <= set(owners), "a top-level name has no page"


@pytest.fixture
def headless_matplotlib():
    plt = pytest.importorskip("matplotlib.pyplot")
    plt.switch_backend("Agg")
    yield
    plt.close("all")


def _doctest_params():
    out = []
    for mod in public_api.public_modules():
        marks = []
        if mod in DOCTESTS_PENDING:
            marks = [pytest.mark.xfail(reason=DOCTESTS_PENDING[mod], strict=True)]
        out.append(pytest.param(mod, marks=marks, id=mod))
    return out


# Modules whose examples need an optional package: their doctests skip without it.
OPTIONAL_DOCTEST_PACKAGES = {
    "nncore.sklearn": "sklearn",
    "nncore.mlflow": "mlflow",
    "nncore.integrations.mlflow_flavor": "mlflow",
    "nncore.integrations.tensorboard_callback": "tensorboard",
    "nncore.integrations.optuna_pruning": "optuna",
    "nncore.integrations.onnx_converters": "skl2onnx",
    "nncore.onnx_export": "onnx",
    "nncore.streaming": "pyarrow",
}


@pytest.mark.parametrize("modname", _doctest_params())
def test_doctests(modname, headless_matplotlib):
    for prefix, package in OPTIONAL_DOCTEST_PACKAGES.items():
        if modname.startswith(prefix):
            pytest.importorskip(package)
    module = importlib.import_module(modname)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    report = io.StringIO()
    finder = doctest.DocTestFinder()
    tests = finder.find(module, modname)
    # A public name defined in a private module (nncore._config.config, model_selection's
    # splitters) has no public module of its own whose doctests would run it: run it here.
    for name, obj in public_api.public_names(modname):
        owner = getattr(obj, "__module__", "") or ""
        if owner != modname and any(part.startswith("_") for part in owner.split(".")):
            tests += finder.find(obj, f"{modname}.{name}", module=sys.modules[owner])
    for test in tests:
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


# Modules whose every public function and class shows a doctest example (the rest of
# public modules are being brought there; each joins this list when it is).
EXAMPLES_REQUIRED = [
    "nncore",
    "nncore.callbacks",
    "nncore.data",
    "nncore.datasets",
    "nncore.diagnostics",
    "nncore.io",
    "nncore.layers",
    "nncore.lr_scheduler",
    "nncore.metrics",
    "nncore.model",
    "nncore.model_selection",
    "nncore.optim",
    "nncore.plot",
    "nncore.preprocessing",
    "nncore.progress",
    "nncore.sklearn",
    "nncore.streaming",
    "nncore.onnx_export",
]


def test_required_modules_have_examples():
    """Every public function and class of the required modules shows an example."""
    lacking = []
    for mod in EXAMPLES_REQUIRED:
        for name, obj in public_api.public_names(mod):
            if ">>>" not in (obj.__doc__ or ""):
                lacking.append(f"{mod}.{name}")
    assert not lacking, f"docstrings without an example: {lacking}"


def test_gallery_is_there():
    assert len(EXAMPLES) >= 11, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_script_form(path):
    """Compiles, has a sphinx-gallery title and cells, prints and plots, and uses only the
    public API (no ``nncore._private`` module or attribute)."""
    source = path.read_text()
    tree = ast.parse(source, str(path))
    doc = ast.get_docstring(tree)
    assert doc, "a gallery script opens with a docstring"
    title, underline = doc.splitlines()[:2]
    assert title.strip() and set(underline.strip()) == {"="}, "the docstring starts with a title"
    assert "# %%" in source
    assert "print(" in source
    assert "nc.plot." in source or "plt." in source
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nncore"):
            assert not any(p.startswith("_") for p in node.module.split(".")), node.module
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            assert not node.attr.startswith("__"), ast.unparse(node)
            base = ast.unparse(node.value)
            assert not re.match(r"(nc|nncore)\b", base), f"private API: {ast.unparse(node)}"


def test_fastest_gallery_script_runs(tmp_path):
    """One script end to end, as the documentation build runs all of them."""
    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=nncore_home())
    script = ROOT / "examples" / "plot_04_activations.py"
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "max |backward - finite difference|" in proc.stdout
