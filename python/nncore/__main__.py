"""``python -m nncore``: see nncore.cli."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
