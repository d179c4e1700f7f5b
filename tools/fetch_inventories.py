"""Download the intersphinx inventories (objects.inv) of Python, numpy, scikit-learn and PyTorch
into docs/_inventories/ (not kept in git), so the docs build links to those projects; the build
reads local files only (docs/_ext/inventories.py) and skips a project whose file is missing.
Run it on a machine with internet access: ``python tools/fetch_inventories.py``.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import inventories  # noqa: E402


def main() -> int:
    out = inventories.cache_dir(DOCS)
    out.mkdir(exist_ok=True)
    failed = []
    for name, (url, _) in inventories.PROJECTS.items():
        try:
            with urllib.request.urlopen(f"{url}/objects.inv", timeout=20) as r:
                data = r.read()
        except OSError as e:
            failed.append(name)
            print(f"{name}: not fetched ({e})")
            continue
        if not data.startswith(b"# Sphinx inventory version"):
            failed.append(name)
            print(f"{name}: {url}/objects.inv is not a Sphinx inventory")
            continue
        (out / f"{name}.inv").write_bytes(data)
        print(f"{name}: {len(data)} bytes -> {out / f'{name}.inv'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
