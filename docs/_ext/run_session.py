"""Interactive sessions that run when the site is built, so a page's printed output is what the
code prints today and cannot rot.

    .. nncore-session::

       import nncore as nc
       nc.__version__

executes the content statement by statement in one namespace per page (as a Python prompt
would), in a fresh temporary directory (files it saves go there), and renders it as a ``>>>``
session: each statement, then what it printed and the value of a bare expression. An exception
fails the build. ``tests/test_docs_pages.py`` runs the same sessions in the test suite.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import tempfile

from docutils import nodes
from docutils.parsers.rst import Directive

_COMPOUND = (ast.For, ast.While, ast.If, ast.With, ast.Try, ast.FunctionDef, ast.ClassDef)


def run(source: str, namespace: dict) -> str:
    """The session as text: '>>> '/'... ' prompts, then each statement's output."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out = []
    for stmt in tree.body:
        code = lines[stmt.lineno - 1 : stmt.end_lineno]
        out.append(">>> " + code[0])
        out += ["... " + c for c in code[1:]]
        if isinstance(stmt, _COMPOUND):  # a prompt ends a block with an empty line
            out.append("...")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            if isinstance(stmt, ast.Expr):
                value = eval(compile(ast.Expression(stmt.value), "<session>", "eval"), namespace)
                if value is not None:
                    print(repr(value))
            else:
                exec(compile(ast.Module([stmt], []), "<session>", "exec"), namespace)
        printed = buf.getvalue().rstrip("\n")
        if printed:
            out += printed.splitlines()
    return "\n".join(out)


class NncoreSession(Directive):
    has_content = True

    def run(self):
        env = self.state.document.settings.env
        spaces = env.temp_data.setdefault("nncore_session_namespaces", {})
        namespace = spaces.setdefault(env.docname, {"__name__": "__session__"})
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                text = run("\n".join(self.content), namespace)
            except Exception as e:
                raise self.error(f"the session failed: {type(e).__name__}: {e}") from e
            finally:
                os.chdir(cwd)
        block = nodes.literal_block(text, text, language="pycon")
        block["classes"].append("nncore-session")
        return [block]


def setup(app):
    app.add_directive("nncore-session", NncoreSession)
    return {"parallel_read_safe": True}
