"""Size of the Python layer: total lines of python/nncore/**.py and the longest functions.

Usage: python tools/pystats.py [root] [--top N]
"""

from __future__ import annotations

import argparse
import ast
import pathlib


def functions(path: pathlib.Path):
    """(lines, qualified name) of every function and method in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                out.append((child.end_lineno - child.lineno + 1, f"{path}:{child.lineno} {name}"))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="python/nncore")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    files = sorted(pathlib.Path(args.root).rglob("*.py"))
    total = sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)
    print(f"{len(files)} files, {total} lines")
    funcs = sorted((f for p in files for f in functions(p)), reverse=True)
    for n, where in funcs[: args.top]:
        print(f"{n:5d}  {where}")


if __name__ == "__main__":
    main()
