"""The performance page's tables and plots, read from ``bench/RESULTS.md`` when the site is built,
so the page always shows the file's current numbers.

    .. bench-tables:: Training epochs
    .. bench-plot:: training

``bench-tables`` renders every Markdown table of the named ``##`` section of RESULTS.md (with its
``###`` subsections), each after the bold line that names its CPU and date. ``bench-plot`` draws
one of the PLOTS below from those tables. A section or column that is no longer in the file is a
build warning (an error under ``-W``), never a silently empty page.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "RESULTS.md"
logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ Markdown reading

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)]+)\)")


def inline(text: str) -> list[nodes.Node]:
    """Markdown code spans, bold and links as docutils nodes; the rest stays plain text."""
    out: list[nodes.Node] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos : m.start()]))
        if m.group(1) is not None:
            out.append(nodes.literal(m.group(1), m.group(1)))
        elif m.group(2) is not None:
            out.append(nodes.strong("", "", *inline(m.group(2))))
        else:
            out.append(nodes.Text(m.group(3)))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def sections(text: str) -> dict[str, list[str]]:
    """{'## ' heading: its lines, ### subsections included}."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables(lines: list[str]) -> list[dict]:
    """[{'caption', 'subsection', 'header', 'rows'}] for each pipe table in the lines."""
    out = []
    caption = subsection = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("### "):
            subsection, caption = line[4:].strip(), ""
        elif line.startswith("**") and not line.startswith("|"):
            para = [line]  # a bold lead-in paragraph names the table's CPU and date
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].startswith("|"):
                i += 1
                para.append(lines[i])
            caption = " ".join(p.strip() for p in para)
        elif (
            line.startswith("|")
            and i + 1 < len(lines)
            and re.match(r"^\|[\s:|-]+\|$", lines[i + 1])
        ):
            header = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append(
                {"caption": caption, "subsection": subsection, "header": header, "rows": rows}
            )
            caption = ""
            continue
        i += 1
    return out


def read_section(name: str) -> list[dict] | None:
    return {k: tables(v) for k, v in sections(RESULTS.read_text()).items()}.get(name)


# ------------------------------------------------------------------------------ tables


def table_node(table: dict) -> nodes.Node:
    ncols = len(table["header"])
    tgroup = nodes.tgroup(cols=ncols)
    for _ in range(ncols):
        tgroup += nodes.colspec(colwidth=1)

    def row(cells):
        r = nodes.row()
        for c in (cells + [""] * ncols)[:ncols]:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *inline(c))
            r += entry
        return r

    thead = nodes.thead()
    thead += row(table["header"])
    tbody = nodes.tbody()
    for cells in table["rows"]:
        tbody += row(cells)
    tgroup += thead
    tgroup += tbody
    node = nodes.table(classes=["bench-table"])
    node += tgroup
    return node


class BenchTables(Directive):
    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        name = self.arguments[0]
        found = read_section(name)
        if not found:
            logger.warning(
                f"bench-tables: no tables under '## {name}' in {RESULTS.name}",
                location=self.state_machine.get_source_and_line(self.lineno),
            )
            return []
        out: list[nodes.Node] = []
        sub = None
        for table in found:
            if table["subsection"] and table["subsection"] != sub:
                sub = table["subsection"]
                out.append(nodes.rubric(sub, sub))
            if table["caption"]:
                out.append(nodes.paragraph("", "", *inline(table["caption"])))
            out.append(table_node(table))
        return out


# ------------------------------------------------------------------------------ plots

_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*[×x]")


def ratios(cell: str) -> list[float]:
    """The ratios in a cell ('2.967 s, 2.80×, **1.33×**' -> [2.80, 1.33])."""
    return [float(v) for v in _RATIO.findall(cell.replace("*", ""))]


def _find(section: str, columns: list[str]) -> dict | None:
    for table in read_section(section) or []:
        if all(c in table["header"] for c in columns):
            return table
    return None


def _caption_cpu(table: dict) -> str:
    m = re.match(r"\*\*(.+?)\*\*", table["caption"])
    return m.group(1).rstrip(":").strip() if m else table["subsection"]


def plot_training(ax):
    """Epoch speed against PyTorch eager with ``Adam(fused=True)`` per batch size: one line per ISA
    path and thread count, from the first table with one row per (path, threads, batch)."""
    need = (
        "no table with columns path, threads, batch and a fused-Adam ratio under 'Training epochs'"
    )
    for table in read_section("Training epochs") or []:
        h = table["header"]
        fused = next((c for c in h if "fused=True" in c), None)
        if fused and all(c in h for c in ("path", "threads", "batch")):
            break
    else:
        return need
    lines: dict[str, list[tuple[int, float]]] = {}
    for r in table["rows"]:
        label = f"{r[h.index('path')]}, {r[h.index('threads')]} thr"
        v = ratios(r[h.index(fused)])  # the first ratio: the median of the reps
        lines.setdefault(label, []).append((int(r[h.index("batch")]), v[0] if v else float("nan")))
    for label, points in lines.items():
        points.sort()
        ax.plot([b for b, _ in points], [s for _, s in points], "o-", label=label)
    batch = sorted({b for points in lines.values() for b, _ in points})
    ax.set_xscale("log", base=2)
    ax.set_xticks(batch, [str(b) for b in batch])
    ax.set_xlabel("batch size")
    ax.set_ylabel("PyTorch (fused Adam) epoch time / nncore's")
    ax.set_title(f"training epoch vs PyTorch\n{_caption_cpu(table)}", fontsize="medium")
    return None


def plot_predict(ax):
    """predict against PyTorch per batch size."""
    cols = ["batch 1", "32", "1024", "4096"]
    table = _find("Predict and serving", ["path", "threads", *cols])
    if table is None:
        return f"no table with columns path, threads, {', '.join(cols)} under 'Predict and serving'"
    h = table["header"]
    batch = [1, 32, 1024, 4096]
    for r in table["rows"]:
        speed = [(ratios(r[h.index(c)]) or [float("nan")])[0] for c in cols]
        ax.plot(batch, speed, "o-", label=f"{r[h.index('path')]}, {r[h.index('threads')]} thr")
    ax.set_xscale("log")
    ax.set_xticks(batch, [str(b) for b in batch])
    ax.set_xlabel("rows per call")
    ax.set_ylabel("PyTorch time / nncore's")
    ax.set_title(f"predict vs PyTorch\n{_caption_cpu(table)}", fontsize="medium")
    return None


def plot_sklearn(ax):
    """The scikit-learn drop-in's fit speed, one bar per data set and solver."""
    table = _find("scikit-learn drop-in", ["set", "config", "ratio"])
    if table is None:
        return "no table with columns set, config, ratio under 'scikit-learn drop-in'"
    h = table["header"]
    k = h.index("ratio")  # the first ratio column: 1 thread
    labels = [f"{r[h.index('set')].split()[0]}, {r[h.index('config')]}" for r in table["rows"]]
    speed = [(ratios(r[k]) or [float("nan")])[0] for r in table["rows"]]
    ax.barh(range(len(speed)), speed, color="tab:blue")
    ax.set_yticks(range(len(speed)), labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("scikit-learn fit time / nncore's (1 thread)")
    ax.set_title("scikit-learn drop-in (MLPClassifier/Regressor)", fontsize="medium")
    return None


PLOTS = {"training": plot_training, "predict": plot_predict, "sklearn": plot_sklearn}


class BenchPlot(Directive):
    required_arguments = 1
    option_spec = {"alt": directives.unchanged}

    def run(self):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        env = self.state.document.settings.env
        name = self.arguments[0]
        if name not in PLOTS:
            raise self.error(f"bench-plot: unknown plot {name!r} (known: {', '.join(PLOTS)})")
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        problem = PLOTS[name](ax)
        if problem:
            plt.close(fig)
            logger.warning(
                f"bench-plot {name}: {problem} in {RESULTS.name}",
                location=self.state_machine.get_source_and_line(self.lineno),
            )
            return []
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        ax.axvline(1.0, color="grey", lw=0.8) if name == "sklearn" else ax.axhline(
            1.0, color="grey", lw=0.8
        )
        ax.grid(alpha=0.3)
        fig.tight_layout()
        out = Path(env.srcdir) / "_generated" / f"bench_{name}.png"
        out.parent.mkdir(exist_ok=True)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        env.note_dependency(str(RESULTS))
        uri = "/" + out.relative_to(env.srcdir).as_posix()
        image = nodes.image(uri=uri, alt=self.options.get("alt", f"{name} speed from RESULTS.md"))
        figure = nodes.figure("", image, classes=["bench-plot"])
        return [figure]


def setup(app):
    app.add_directive("bench-tables", BenchTables)
    app.add_directive("bench-plot", BenchPlot)
    return {"parallel_read_safe": True}
