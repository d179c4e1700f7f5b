"""Rules the test suite keeps about itself (issue #35): a module skips as a whole for an optional
package only when every test in it needs that package (the list below, with why), so a missing
PyTorch never hides a gradient, loss-value or accumulation test; and no test compares two
wall-clock durations (what a test says about speed belongs in bench/)."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
MODULES = sorted(TESTS.glob("test_*.py"))

# module -> packages its top-level importorskip may name, and why every test needs them
WHOLE_MODULE_SKIPS = {
    "test_torch_interop.py": ("torch",),  # to_torch / from_torch
    "test_residual_torch.py": ("torch",),  # parity with a torch mirror (FD tests: test_residual)
    "test_onnx.py": ("onnx", "onnxruntime"),  # runs the exported graphs
    "test_plot.py": ("matplotlib",),  # draws
    "test_preprocessing_mixed.py": ("sklearn.preprocessing", "sklearn.impute"),  # parity
    "test_distributed_engines.py": ("joblib",),  # the joblib backends
    "test_sklearn.py": ("sklearn",),  # nncore.sklearn needs scikit-learn
    "test_sklearn_epoch.py": ("sklearn",),
    "test_sklearn_suite.py": ("sklearn", "sklearn.neural_network.tests.test_mlp"),
    # the ecosystem bridges: every test drives the package it bridges to
    "test_mlflow.py": ("mlflow", "mlflow.pyfunc"),
    "test_optuna.py": ("optuna",),
    "test_skl2onnx.py": ("sklearn", "skl2onnx", "onnxruntime"),
    "test_tensorboard.py": ("tensorboard",),
}


def _top_level_skips(path):
    """The packages named by importorskip calls at a module's top level (not in a function)."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "importorskip"
                and call.args
                and isinstance(call.args[0], ast.Constant)
            ):
                out.append(call.args[0].value)
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_module_skips_whole_only_when_every_test_needs_the_package(path):
    allowed = WHOLE_MODULE_SKIPS.get(path.name, ())
    extra = [p for p in _top_level_skips(path) if p not in allowed]
    assert not extra, (
        f"{path.name} skips as a whole without {extra}: call pytest.importorskip in the tests "
        "that need it (or a fixture), or move them to their own module and list it here"
    )


_DURATION = re.compile(r"\b(perf_counter|monotonic|time)\(\)\s*-\s*\w+")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_assertion_on_a_measured_duration(path):
    # a duration may size a workload or a deadline guard, but no assert may compare one
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(\w+)\s*=\s*(time\.)?" + _DURATION.pattern, line)  # x = t1 - t0
        if m:
            names.add(m.group(1))
    bad = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("assert") and (
            _DURATION.search(line) or any(re.search(rf"\b{n}\b", line) for n in names)
        ):
            bad.append(i)
    assert not bad, f"{path.name} asserts on a measured duration at lines {bad}"
