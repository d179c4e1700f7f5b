"""The package's layering (issues #16 and #32), kept as tests: only the engine holds the core's
Network; no module touches another module's private names; no import circles (function-local
imports counted, so none can hide one); model.py, modules and functions stay small; model and
the byte format never import io."""

from __future__ import annotations

import ast
import io
import pathlib
import tokenize

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "python" / "nncore"
SOURCES = sorted(PKG.rglob("*.py"))
ENGINE = PKG / "_engine"

# Private names that belong to scikit-learn's contract, not to an nncore module:
# ``_parameter_constraints`` is how scikit-learn estimators declare their parameters.
FOREIGN_PRIVATE = {"_parameter_constraints"}
# Functions over the size limit, each with the reason it stays whole.
LONG_FUNCTIONS = {
    # a table reader that the model-file work edits now (issue #32: not moved in this round)
    "cli.py:read_table",
    # scikit-learn's contract: __init__ takes every parameter by name and only stores it
    "sklearn/_estimators.py:MLPClassifier.__init__",
    "sklearn/_estimators.py:MLPRegressor.__init__",
}
MAX_MODEL_LINES, MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 600, 60


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _rel(path) -> str:
    return str(path.relative_to(PKG))


# ------------------------------------------------------------------------------ the engine
@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_only_the_engine_holds_the_network(path):
    if ENGINE in path.parents:
        return
    uses = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr in ("_net", "Network"):
            uses.append(node.lineno)
        if isinstance(node, ast.Constant) and node.value == "_net":  # getattr(x, "_net")
            uses.append(node.lineno)
    assert not uses, f"{_rel(path)} reaches the core's Network at lines {uses}"


@pytest.mark.parametrize("name", ["model.py", "_format.py"])
def test_model_layer_does_not_import_io(name):
    for node in ast.walk(_tree(PKG / name)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            modules = [node.module] if node.module else [a.name for a in node.names]
            assert "io" not in modules, f"{name} imports nncore.io (line {node.lineno})"


# --------------------------------------------------------------------------- private names
def _own_private_names(tree) -> set:
    """Private names this module defines: functions, classes, class attributes, attributes
    it assigns on self/cls, module-level names."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
    return own


def _module_file(path, level: int, module: str | None):
    base = path.parent
    for _ in range(level - 1):
        base = base.parent
    return base.joinpath(*module.split(".")) if module else base


def private_reach_ins(path) -> list[str]:
    """``x._name`` where ``_name`` is not this module's own, and ``from .m import _name`` of a
    name (not a module) that another module keeps private."""
    tree = _tree(path)
    own = _own_private_names(tree) | FOREIGN_PRIVATE
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name, base = node.attr, node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            if name.startswith("_") and not name.startswith("__") and name not in own:
                found.append(f"{_rel(path)}:{node.lineno} {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            target = _module_file(path, node.level, node.module)
            for alias in node.names:
                name = alias.name
                is_module = (target / name).is_dir() or any(target.glob(f"{name}.*"))
                if name.startswith("_") and not name.startswith("__") and not is_module:
                    found.append(f"{_rel(path)}:{node.lineno} imports {name}")
    return found


def test_no_module_touches_another_modules_private_names():
    found = [f for path in SOURCES for f in private_reach_ins(path)]
    assert not found, "private reach-ins:\n" + "\n".join(found)


def test_the_reach_in_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(model):\n    return model._arena('params')\n")
    global PKG
    old, PKG = PKG, tmp_path
    try:
        assert private_reach_ins(bad) == ["bad.py:2 model._arena"]
    finally:
        PKG = old


# ---------------------------------------------------------------------------- import graph
def _is_module_file(path, level: int, name: str) -> bool:
    target = _module_file(path, level, None)
    return (target / name).is_dir() or any(target.glob(f"{name}.*"))


def _module_name(path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SOURCES}


def _imports(path) -> set:
    """nncore modules this file imports, at the top or inside functions."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "nncore"}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
                if base.split(".")[0] != "nncore":
                    continue
            else:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            if node.module or node.level == 0:
                out.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    out.add(f"{base}.{alias.name}")
                elif not node.module and not _is_module_file(path, node.level, alias.name):
                    out.add(base)  # ``from . import name`` of the package's own attribute
    return {m for m in out if m in MODULES and m != me}


def import_cycles(graph: dict) -> list:
    """Every strongly connected group of two or more modules (Tarjan)."""
    index, low, stack, on, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_import_cycles_even_through_function_local_imports():
    graph = {name: _imports(path) for name, path in MODULES.items()}
    # a package's __init__ may import its own modules; a module importing its package's
    # __init__ back is the circle this catches
    cycles = import_cycles(graph)
    assert not cycles, f"import circles: {cycles}"


def test_the_cycle_check_can_fail():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# ----------------------------------------------------------------------------------- sizes
def code_lines(source: str) -> set:
    """Line numbers holding code: not blank, not comments, not docstrings."""
    tree = ast.parse(source)
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    docs.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip and tok.type != tokenize.ENDMARKER:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - docs


def _functions(tree, prefix=""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def test_code_line_counter_skips_docs_and_comments():
    src = 'def f():\n    """Doc\n    more."""\n\n    # why\n    return 1  # one\n'
    assert code_lines(src) == {1, 6}


def test_model_and_modules_are_small():
    model = len(code_lines((PKG / "model.py").read_text(encoding="utf-8")))
    assert model <= MAX_MODEL_LINES, f"model.py has {model} lines of code"
    big = []
    for path in SOURCES:
        n = len(code_lines(path.read_text(encoding="utf-8")))
        if n > MAX_MODULE_LINES:
            big.append(f"{_rel(path)}: {n}")
    assert not big, f"modules over {MAX_MODULE_LINES} lines of code: {big}"


def test_functions_are_short():
    long = []
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        lines = code_lines(source)
        for name, node in _functions(ast.parse(source)):
            n = len([k for k in lines if node.lineno <= k <= node.end_lineno])
            key = f"{_rel(path)}:{name}"
            if n > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                long.append(f"{key}: {n}")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines of code: {long}"
