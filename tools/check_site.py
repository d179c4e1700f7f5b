"""Judges what tools/check_site.sh saw of the built site, as a reader sees it at 1280 px:

- screenshot not blank: grey levels' standard deviation above 10 (of 255) and dark pixels on
  at least 0.5 % of the page (a broken theme or a page that failed to render is one colour);
- no horizontal scrollbar: the page is no wider than the window (scrollWidth <= clientWidth);
- no clipped title: headings, the site title and sidebar links show their whole text;
- no clipped code: a code block or output wider than its box scrolls inside the box;
- no raw TeX in the rendered text outside code (``\\frac``, ``$$``, ``\\(`` ...: math MathJax did
  not render, or TeX written outside a math role) and no control characters (a docstring whose
  backslash escape was eaten, e.g. ``\\a`` of ``\\approx`` turned into BEL);
- gallery pages: every generated figure exists, is not blank, and none of its axes is empty
  (draws no finite data point; recorded while the gallery ran, docs/_ext/figure_axes.py).

    python tools/check_site.py HTML_DIR SCREENSHOT_DIR PAGE...   (run by tools/check_site.sh)
    python tools/check_site.py --selftest    builds a small site with one planted fault per rule
                                             and shows that the check fails on each
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

MIN_STD = 10.0
MIN_INK = 0.005
ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "_static/figure_axes.json"  # written by docs/_ext/figure_axes.py


def grey(path: Path) -> np.ndarray:
    try:
        from PIL import Image

        return np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    except ImportError:
        import matplotlib.image as mpimg

        img = mpimg.imread(path)
        img = img[..., :3].mean(axis=-1) if img.ndim == 3 else img
        return img * (255.0 if img.max() <= 1.0 else 1.0)


def blank_reason(path: Path) -> str | None:
    g = grey(path)
    std, ink = g.std(), float(np.mean(g < 128))
    if std < MIN_STD:
        return f"nearly one colour (std {std:.1f} < {MIN_STD})"
    if ink < MIN_INK:
        return f"almost no dark pixels ({ink:.2%} < {MIN_INK:.1%})"
    return None


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs).get("src", ""))


def probe_result(dom_file: Path) -> dict | None:
    """The measurements tools/check_site_probe.js left in the rendered page, or None."""
    if not dom_file.is_file():
        return None
    found = re.findall(
        r'<pre id="nncore-probe">(\{.*?)</pre>', dom_file.read_text(errors="replace")
    )
    return json.loads(htmllib.unescape(found[-1])) if found else None


def page_problems(probe: dict | None) -> list[str]:
    """'rule: detail' for each problem the probe measured on one page."""
    if probe is None:
        return ["no-probe: the page's measurement script did not run (a script error or timeout)"]
    out = [f"{p['rule']}: {p['detail']}" for p in probe.get("problems", [])]
    if probe.get("math") and not probe.get("mathRendered"):
        out.append(f"raw-tex: {probe['math']} math element(s), none rendered by MathJax")
    return out


def figure_problems(src: str, target: Path, manifest: dict) -> list[str]:
    """Problems of one generated gallery figure: missing, blank, or an axis that draws nothing."""
    if not target.is_file():
        return [f"missing-figure: <img src={src!r}> points at a missing file"]
    reason = blank_reason(target)
    if reason:
        return [f"blank-figure: {target.name} is {reason}"]
    axes = manifest.get(target.name)
    if axes is None:
        return [f"empty-axis: {target.name} has no axes record (built without figure_axes)"]
    return [
        f"empty-axis: {target.name}, axis {a['title']!r} draws no data point"
        for a in axes
        if a["drawn"] == 0
    ]


def check(html: Path, shots: Path, pages: list[str]) -> dict[str, list[str]]:
    """{page: [problem, ...]} for every page (an empty list: the page passed)."""
    manifest_file = html / MANIFEST
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    result = {}
    for page in pages:
        name = page.replace("/", "_")[: -len(".html")]
        problems = []
        reason = blank_reason(shots / f"{name}.png")
        if reason:
            problems.append(f"blank-page: screenshot {reason}")
        problems += page_problems(probe_result(shots / f"{name}.dom.html"))
        if page.startswith("auto_examples/plot_"):
            parser = _Images()
            parser.feed((html / page).read_text())
            figures = [s for s in parser.srcs if re.search(r"sphx_glr_.*_\d{3}\.png$", s)]
            if not figures:
                problems.append("missing-figure: no <img> of a generated figure")
            for src in figures:
                problems += figure_problems(src, (html / page).parent / src, manifest)
        result[page] = problems
    return result


def main(argv) -> int:
    html, shots, pages = Path(argv[0]), Path(argv[1]), argv[2:]
    result = check(html, shots, pages)
    for page, problems in result.items():
        print(f"  {'ok  ' if not problems else 'FAIL'} {page}")
        for p in problems:
            print(f"FAIL {page}: {p}")
    bad = sum(bool(p) for p in result.values())
    if bad:
        print(f"check_site FAILED: {bad} of {len(result)} page(s) (lines starting with FAIL)")
        return 1
    print(f"check_site: {len(result)} pages look right at 1280 px, gallery figures included")
    return 0


# ------------------------------------------------------------------------------ selftest

FIXTURE = {
    "index.rst": """
        Fixture
        =======

        .. toctree::

           good
           raw_tex
           wide
           clipped_title
           auto_examples/index
        """,
    "good.rst": r"""
        A good page
        ===========

        Inline math :math:`\frac{1}{n}\sum_i \ell_i` and a display:

        .. math:: L = \frac{1}{n} \sum_{i=1}^{n} \left(y_i - \hat y_i\right)^2

        Enough text for a page that is not blank: the check wants dark pixels on at least half
        a percent of the screenshot, which a title and two lines do not reach. So here is a
        paragraph that says nothing, written only to be seen, as fixtures sometimes are.

        - one item of a list
        - another item of a list
        - a third item, for ink

        .. math:: \hat y = \sigma(W x + b)

        .. code-block:: text

           a code line far wider than the text column, which must scroll inside its own block and never widen the page: 0123456789 0123456789 0123456789 0123456789
        """,
    "raw_tex.rst": r"""
        Planted: raw TeX
        ================

        The loss is $$\\frac{1}{n}\\sum_i \\ell_i$$, written outside a math role.
        """,
    "wide.rst": """
        Planted: a page wider than the window
        =====================================

        .. raw:: html

           <div style="width: 2400px; background: #ddd">a 2400 px wide box</div>
        """,
    "clipped_title.rst": """
        Planted: a clipped title
        ========================

        .. raw:: html

           <h2 style="width: 220px; overflow: hidden; white-space: nowrap">A section title
           far too long for its 220 px box</h2>
        """,
    "examples/GALLERY_HEADER.rst": """
        Gallery
        =======
        """,
    "examples/plot_good.py": '''
        """
        A good plot
        ===========
        """

        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [0, 1, 4])
        ax.set_title("a curve")
        ''',
    "examples/plot_empty.py": '''
        """
        Planted: an empty panel
        =======================

        The right panel's values all overflowed to inf/NaN, so it shows nothing.
        """

        import matplotlib.pyplot as plt
        import numpy as np

        fig, (left, right) = plt.subplots(1, 2)
        left.plot([0, 1, 2], [0, 1, 4])
        left.set_title("fine")
        right.plot([0, 1, 2], [np.inf, np.nan, np.nan])
        right.set_title("overflowed")
        ''',
}
FIXTURE_CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / "docs" / "_ext")!r})
project = "check_site fixture"
extensions = ["sphinx.ext.mathjax", "sphinx_gallery.gen_gallery", "local_mathjax", "figure_axes"]
html_theme = "pydata_sphinx_theme"
html_static_path = [{str(ROOT / "docs" / "_static")!r}]
html_css_files = ["site.css"]
sphinx_gallery_conf = {{
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "image_scrapers": ("figure_axes.scraper",),
}}
"""
# page -> the rule its plant must trip (None: the page must pass)
EXPECTED = {
    "good.html": None,
    "raw_tex.html": "raw-tex",
    "wide.html": "horizontal-scroll",
    "clipped_title.html": "clipped-title",
    "auto_examples/plot_good.html": None,
    "auto_examples/plot_empty.html": "empty-axis",
}


def selftest() -> int:
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        print("check_site --selftest: skipped (no chromium)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "html"
        for name, text in FIXTURE.items():
            path = src / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        (src / "conf.py").write_text(FIXTURE_CONF)
        build = subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "MPLBACKEND": "Agg"},
        )
        if build.returncode != 0:
            print("check_site --selftest: the fixture site did not build:\n" + build.stderr)
            return 1
        run = subprocess.run(
            ["bash", str(ROOT / "tools" / "check_site.sh"), str(out), str(Path(tmp) / "shots")]
            + list(EXPECTED),
            capture_output=True,
            text=True,
        )
    print(run.stdout.rstrip())
    if run.stderr.strip():
        print(run.stderr.rstrip())
    fails: dict[str, list[str]] = {p: [] for p in EXPECTED}
    for line in run.stdout.splitlines():
        m = re.match(r"FAIL (\S+): ([\w-]+):", line)
        if m and m.group(1) in fails:
            fails[m.group(1)].append(m.group(2))
    wrong = []
    for page, rule in EXPECTED.items():
        if rule is None and fails[page]:
            wrong.append(f"{page} should pass, failed on {', '.join(fails[page])}")
        elif rule is not None and rule not in fails[page]:
            wrong.append(f"{page}: its plant should fail '{rule}', got {fails[page] or 'a pass'}")
    if wrong or run.returncode == 0:
        print("check_site --selftest FAILED:\n  " + "\n  ".join(wrong or ["the check passed"]))
        return 1
    print("check_site --selftest: each planted fault failed the check; the clean pages passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(selftest())
    sys.exit(main(sys.argv[1:]))
