"""The mutant zoo's specs (tools/mutants/<name>.mutant), independent of where the code lives: a
spec names the exact original snippet and its replacement, and applies to the one file under
python/ or cpp/ of a tree where that snippet occurs exactly once (an error otherwise).

Spec format (comment lines first, then the sections, each up to the next marker line):

    # what the bug is and why it is plausible
    tests: tests/test_a.py tests/test_b.py::test_c     (run first; optional)
    <<<< original
    ...exact lines of the library...
    ==== mutant
    ...the same lines with the bug...
    >>>>

    python3 tools/mutants/mutant.py list                    name, target file, first tests
    python3 tools/mutants/mutant.py locate NAME TREE        the file it would change
    python3 tools/mutants/mutant.py apply NAME TREE         plants it; prints the file
    python3 tools/mutants/mutant.py tests NAME              its first tests, one a line
"""

from __future__ import annotations

import os
import sys

ZOO = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(ZOO))
SOURCE_DIRS = ("python", "cpp")
SOURCE_EXTS = (".py", ".cpp", ".h", ".hpp", ".inc", ".cc")


class SpecError(Exception):
    pass


def names() -> list[str]:
    return sorted(f[: -len(".mutant")] for f in os.listdir(ZOO) if f.endswith(".mutant"))


def read(name: str) -> dict:
    path = os.path.join(ZOO, name + ".mutant")
    if not os.path.isfile(path):
        raise SpecError(f"no mutant '{name}' (see --list)")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    spec: dict = {"name": name, "tests": [], "doc": []}
    section = None
    parts: dict = {"original": [], "mutant": []}
    for line in lines:
        if line.startswith("<<<<"):
            section = "original"
        elif line.startswith("====") and section == "original":
            section = "mutant"
        elif line.startswith(">>>>") and section == "mutant":
            section = "done"
        elif section in parts:
            parts[section].append(line)
        elif section is None and line.startswith("tests:"):
            spec["tests"] = line[len("tests:") :].split()
        elif section is None and line.startswith("#"):
            spec["doc"].append(line[1:].strip())
    if section != "done":
        raise SpecError(f"{name}: needs '<<<< original', '==== mutant' and '>>>>' lines")
    spec["original"] = "\n".join(parts["original"]) + "\n"
    spec["mutant"] = "\n".join(parts["mutant"]) + "\n"
    if not parts["original"] or spec["original"] == spec["mutant"]:
        raise SpecError(f"{name}: the original is empty or equal to the mutant")
    return spec


def _sources(tree: str):
    for top in SOURCE_DIRS:
        for d, dirs, files in os.walk(os.path.join(tree, top)):
            dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "__pycache__")
            for f in sorted(files):
                if f.endswith(SOURCE_EXTS):
                    yield os.path.join(d, f)


def locate(spec: dict, tree: str) -> str:
    """The one file (relative to tree) holding the original snippet exactly once."""
    hits = []
    for path in _sources(tree):
        with open(path, encoding="utf-8", errors="replace") as f:
            n = ("\n" + f.read()).count("\n" + spec["original"])  # whole lines only
        if n:
            hits.append((os.path.relpath(path, tree), n))
    if len(hits) != 1 or hits[0][1] != 1:
        where = ", ".join(f"{p} ({n}x)" for p, n in hits) or "nowhere"
        raise SpecError(
            f"mutant {spec['name']}: its original snippet must occur exactly once under "
            f"{'/ and '.join(SOURCE_DIRS)}/, found {where} (the code it targets changed?)"
        )
    return hits[0][0]


def apply(spec: dict, tree: str) -> str:
    rel = locate(spec, tree)
    path = os.path.join(tree, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(("\n" + text).replace("\n" + spec["original"], "\n" + spec["mutant"], 1)[1:])
    return rel


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["list"]:
            for n in names():
                spec = read(n)
                try:
                    where = locate(spec, ROOT)
                except SpecError:
                    where = "(does not apply here)"
                print(f"{n:36s} {where:40s} {' '.join(spec['tests'])}")
        elif argv[:1] == ["locate"] and len(argv) == 3:
            print(locate(read(argv[1]), argv[2]))
        elif argv[:1] == ["apply"] and len(argv) == 3:
            print(apply(read(argv[1]), argv[2]))
        elif argv[:1] == ["tests"] and len(argv) == 2:
            print("\n".join(read(argv[1])["tests"]))
        elif argv[:1] == ["check"]:
            for n in argv[1:] or names():
                read(n)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except SpecError as e:
        print(f"mutant.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
