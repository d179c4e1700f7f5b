"""Print the gallery's run times from the last documentation build.

sphinx-gallery writes docs/sg_execution_times.rst when it runs the examples; this prints the
total and one line per example, slowest first. ``--budget SECONDS`` makes it exit 1 when the total
exceeds the budget (the gallery's is 240 s on 2 cores). Examples that were not re-run because
they had not changed count with their last time.

    python docs/gallery_times.py [--budget 240]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TIMES = Path(__file__).resolve().parent / "sg_execution_times.rst"
ROW = re.compile(r"\(``(?:.*/)?(?P<name>[^/`]+\.py)``\)\s*\n\s*- (?P<m>\d+):(?P<s>\d+\.\d+)")


def read_times(path: Path = TIMES) -> dict:
    """{example file name: seconds}, from sphinx-gallery's table."""
    text = path.read_text()
    return {m["name"]: 60 * int(m["m"]) + float(m["s"]) for m in ROW.finditer(text)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="fail above this many seconds")
    args = parser.parse_args(argv)
    if not TIMES.exists():
        print(f"no {TIMES.name}: build the site first (python -m sphinx -b html docs ...)")
        return 1
    times = read_times()
    if not times:
        print(f"no example times found in {TIMES}")
        return 1
    for name, sec in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"{sec:8.2f} s  {name}")
    total = sum(times.values())
    print(f"{total:8.2f} s  gallery total ({len(times)} examples)")
    if args.budget is not None and total > args.budget:
        print(f"over the budget of {args.budget:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
