"""The documentation site's own machinery, without building the site: the quickstart's sessions
run, the CLI page lists every option of the parser, the performance page finds its tables and
plot data in bench/RESULTS.md, empty figure axes are seen, the site check's rules fire, and no
gallery docstring holds a control character. The site itself is built and looked at in
.ci/run (sphinx -W, tools/check_site.sh, tools/check_site.py --selftest).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))


def _sessions(page: Path) -> list[str]:
    """The content of each ``.. nncore-session::`` block of a page, dedented."""
    out, lines, i = [], page.read_text().splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == ".. nncore-session::":
            block, i = [], i + 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
                block.append(lines[i][3:])
                i += 1
            out.append("\n".join(block).strip("\n"))
        else:
            i += 1
    return out


def test_quickstart_sessions_run(tmp_path, monkeypatch):
    pytest.importorskip("sphinx")
    import run_session

    monkeypatch.chdir(tmp_path)  # the session saves a model file
    sessions = _sessions(DOCS / "quickstart.rst")
    assert len(sessions) >= 4
    namespace: dict = {}
    text = "\n".join(run_session.run(s, namespace) for s in sessions)
    assert "Epoch 10/10" in text and "val_accuracy" in text
    assert text.rstrip().endswith("True"), "the loaded model predicts what the saved one did"
    assert ">>> X.shape, y.shape\n((1797, 64), (1797,))" in text


def test_session_shows_values_and_prints():
    pytest.importorskip("sphinx")
    import run_session

    text = run_session.run("x = 2\nprint('hi')\nx + 1\nfor i in range(2):\n    i", {})
    assert (
        text
        == ">>> x = 2\n>>> print('hi')\nhi\n>>> x + 1\n3\n>>> for i in range(2):\n...     i\n..."
    )


def test_cli_reference_lists_every_option():
    pytest.importorskip("sphinx")
    import cli_reference

    from nncore.cli import build_parser

    text = "\n".join(cli_reference.reference_rst())
    parser = build_parser()
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
            for name in action.choices:
                assert f"nncore {name}\n" in text
    for p in parsers:
        for action in p._actions:
            if action.help == argparse.SUPPRESS or not action.option_strings:
                continue
            for option in action.option_strings:
                assert f"``{option}``" in text, option
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                for choice in action.choices:
                    assert f"``{choice}``" in text


def test_performance_page_finds_its_tables_and_plots():
    pytest.importorskip("sphinx")
    plt = pytest.importorskip("matplotlib.pyplot")
    import bench_results
    import figure_axes

    page = (DOCS / "guide" / "performance.rst").read_text()
    for name in re.findall(r"^\.\. bench-tables:: (.+)$", page, re.M):
        found = bench_results.read_section(name)
        assert found, f"no tables under '## {name}' in bench/RESULTS.md"
        assert all(t["rows"] for t in found)
    for name in re.findall(r"^\.\. bench-plot:: (\w+)$", page, re.M):
        fig, ax = plt.subplots()
        try:
            assert bench_results.PLOTS[name](ax) is None
            assert figure_axes.axis_drawn(ax) > 0, f"the {name} plot draws nothing"
        finally:
            plt.close(fig)


def test_markdown_table_cells():
    pytest.importorskip("sphinx")
    import bench_results

    assert bench_results.ratios("2.967 s, 2.80×, **1.33×**") == [2.80, 1.33]
    tables = bench_results.tables(
        ["**CPU A, today:**", "", "| a | b |", "|---|---:|", "| 1 | `x` |", "", "text"]
    )
    assert tables == [
        {
            "caption": "**CPU A, today:**",
            "subsection": "",
            "header": ["a", "b"],
            "rows": [["1", "`x`"]],
        }
    ]


def test_figure_axes_sees_an_empty_panel():
    plt = pytest.importorskip("matplotlib.pyplot")
    import figure_axes

    fig, axes = plt.subplots(1, 4)
    try:
        axes[0].plot([0, 1], [np.inf, np.nan])  # all overflowed
        axes[0].axhline(1.0)  # a reference line shows no data
        axes[1].plot([0, 1], [0.0, 0.0])
        with warnings.catch_warnings():  # matplotlib warns that nothing is positive: the point
            warnings.simplefilter("ignore", UserWarning)
            axes[1].set_yscale("log")  # zeros cannot be drawn on a log axis
        axes[2].plot([0, 1], [1.0, np.nan])
        axes[3].bar([0, 1], [2.0, 3.0])
        with np.errstate(all="ignore"):
            drawn = [a["drawn"] for a in figure_axes.figure_axes(fig)]
    finally:
        plt.close(fig)
    assert drawn[:2] == [0, 0]
    assert drawn[2] == 1 and drawn[3] == 2


def test_site_check_rules():
    import check_site

    assert check_site.page_problems(None)[0].startswith("no-probe")
    ok = {"problems": [], "math": 3, "mathRendered": 3}
    assert check_site.page_problems(ok) == []
    unrendered = {"problems": [], "math": 2, "mathRendered": 0}
    assert check_site.page_problems(unrendered)[0].startswith("raw-tex")
    scroll = {"problems": [{"rule": "horizontal-scroll", "detail": "x"}]}
    assert check_site.page_problems(scroll) == ["horizontal-scroll: x"]


def test_site_check_fails_on_an_empty_axis(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    import check_site

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png = tmp_path / "sphx_glr_plot_x_001.png"
    fig.savefig(png)
    plt.close(fig)
    full = {png.name: [{"title": "a", "drawn": 2}]}
    empty = {png.name: [{"title": "a", "drawn": 2}, {"title": "b", "drawn": 0}]}
    assert check_site.figure_problems(png.name, png, full) == []
    assert check_site.figure_problems(png.name, png, empty) == [
        f"empty-axis: {png.name}, axis 'b' draws no data point"
    ]
    assert check_site.figure_problems(png.name, png, {})[0].startswith("empty-axis")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples").glob("plot_*.py")), ids=lambda p: p.name
)
def test_gallery_docstrings_have_no_control_characters(path):
    """A backslash in a docstring that is not raw can turn ``\\approx`` into BEL + 'pprox'."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            bad = [c for c in node.value if ord(c) < 32 and c not in "\n\t"]
            assert not bad, f"line {node.lineno}: control character(s) {bad!r}: use a raw string"
