"""Checks for tools/check_site.sh: each screenshot is not blank, and the gallery page embeds a
generated figure that exists and is not blank.

    python tools/check_site.py HTML_DIR SCREENSHOT_DIR PAGE...

A blank page is what a broken theme, a missing stylesheet or a page that failed to render gives:
one colour, or nearly so. "Not blank" here means the grey levels' standard deviation is above 10
(of 255) and the page has ink (dark pixels) on at least 0.5 % of its area.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

MIN_STD = 10.0
MIN_INK = 0.005


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
    print(f"  {path.name}: {g.shape[1]}x{g.shape[0]} px, grey std {std:.1f}, ink {ink:.1%}")
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


def main(argv) -> int:
    html, shots, pages = Path(argv[0]), Path(argv[1]), argv[2:]
    failures = []
    print("screenshots:")
    for page in pages:
        png = shots / (page.replace("/", "_")[: -len(".html")] + ".png")
        reason = blank_reason(png)
        if reason:
            failures.append(f"{page}: screenshot {reason}")
    for page in pages:
        if not page.startswith("auto_examples/"):
            continue
        parser = _Images()
        parser.feed((html / page).read_text())
        figures = [s for s in parser.srcs if re.search(r"sphx_glr_.*_\d{3}\.png$", s)]
        print(f"gallery page {page}: {len(figures)} generated figure(s)")
        if not figures:
            failures.append(f"{page}: no <img> of a generated figure")
        for src in figures:
            target = (html / page).parent / src
            if not target.is_file():
                failures.append(f"{page}: <img src={src!r}> points at a missing file")
                continue
            reason = blank_reason(target)
            if reason:
                failures.append(f"{page}: figure {src} is {reason}")
    if failures:
        print("check_site FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("check_site: all pages rendered and the gallery page shows its figures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
