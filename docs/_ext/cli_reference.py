"""The command-line reference, written from nncore's own argparse parser when the site is built,
so every option, default and choice on the page is the one the installed ``nncore`` accepts.

    .. nncore-cli::

renders one section per sub-command (its usage line and a table of its options) after the
top-level options. ``nncore.cli.build_parser`` is the only source; nothing is copied by hand.
"""

from __future__ import annotations

import argparse
import re

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

_RST_SPECIAL = re.compile(r"([\\*`_|])")


_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _text(s: str) -> str:
    """Plain text made safe for a reStructuredText table cell; option names become literals
    (else ``--x`` would be typeset with an en dash)."""
    parts = _OPTION.split(" ".join(s.split()))
    return "".join(
        f"``{part}``" if i % 2 else _RST_SPECIAL.sub(r"\\\1", part) for i, part in enumerate(parts)
    )


def _help(action: argparse.Action, prog: str) -> str:
    text = action.help or ""
    try:  # argparse's own %(default)s / %(choices)s expansion
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        if params.get("choices") is not None:
            params["choices"] = ", ".join(map(str, params["choices"]))
        text = text % dict(params, prog=prog)
    except (KeyError, TypeError, ValueError):
        pass
    # The page has its own Default and Values columns: drop argparse's "(default: x)" suffix.
    return re.sub(r"\s*\(default:[^)]*\)\s*$", "", text)


def _default(action: argparse.Action) -> str:
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return "off" if action.default is False else "on"
    if action.required:
        return "required"
    if action.default in (None, argparse.SUPPRESS) or action.nargs == 0:
        return ""
    return f"``{action.default}``"


def _values(action: argparse.Action) -> str:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return ", ".join(f"``{c}``" for c in action.choices)
    if action.nargs == 0:
        return "flag"
    if action.type in (int, float):
        return action.type.__name__
    return _text(action.metavar or action.dest.upper()) if action.option_strings else ""


def _name(action: argparse.Action) -> str:
    if action.option_strings:
        return ", ".join(f"``{o}``" for o in action.option_strings)
    return f"``{action.metavar or action.dest}``"


def _table(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        rows.append(
            [_name(action), _default(action), _values(action), _text(_help(action, parser.prog))]
        )
    if not rows:
        return []
    out = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 12 20 46",
        "   :class: cli-options",
        "",
        "   * - option",
        "     - default",
        "     - values",
        "     - what it does",
    ]
    for row in rows:
        out.append(f"   * - {row[0]}")
        out += [f"     - {cell}" for cell in row[1:]]
    return out + [""]


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    usage = parser.format_usage().strip()
    return [".. code-block:: text", ""] + ["   " + line for line in usage.splitlines()] + [""]


def reference_rst() -> list[str]:
    from nncore.cli import build_parser

    parser = build_parser()
    lines = _usage(parser)
    if parser.description:
        lines += [_text(parser.description), ""]
    lines += _table(parser)
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sub in subs:
        helps = {c.dest: c.help for c in sub._choices_actions}
        for name, subparser in sub.choices.items():
            title = f"nncore {name}"
            lines += [title, "-" * len(title), ""]
            summary = subparser.description or helps.get(name)
            if summary:
                lines += [_text(summary[:1].upper() + summary[1:]).rstrip(".") + ".", ""]
            lines += _usage(subparser) + _table(subparser)
    return lines


class NncoreCli(Directive):
    has_content = False

    def run(self):
        import nncore.cli

        # rebuilt when the parser's module changes (the .rst source alone never does)
        self.state.document.settings.env.note_dependency(nncore.cli.__file__)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(reference_rst(), "nncore.cli"), node)
        return node.children


def setup(app):
    app.add_directive("nncore-cli", NncoreCli)
    return {"parallel_read_safe": True}
