"""The package's layering (issue #16): only model.py talks to the core's Network, and io sits
above model (model never imports io), so the two cannot import each other."""

from __future__ import annotations

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "python" / "nncore"
SOURCES = sorted(PKG.rglob("*.py"))


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_only_model_reaches_the_network(path):
    if path.name == "model.py" and path.parent == PKG:
        return
    uses = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr == "_net":
            uses.append(node.lineno)
        if isinstance(node, ast.Constant) and node.value == "_net":  # getattr(x, "_net")
            uses.append(node.lineno)
    assert not uses, f"{path.name} reaches into model._net at lines {uses}"


@pytest.mark.parametrize("name", ["model.py", "_format.py"])
def test_model_layer_does_not_import_io(name):
    for node in ast.walk(_tree(PKG / name)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            modules = [node.module] if node.module else [a.name for a in node.names]
            assert "io" not in modules, f"{name} imports nncore.io (line {node.lineno})"
