#!/usr/bin/env bash
# Every house-keeping check CI runs, in one place: ruff (lint and format), mypy on python/nncore,
# clang-format on cpp/ and bench/cpp/ (the committed .clang-format), and the _core.pyi stub against the
# bindings. Needs the extension importable (tools/dev_build.sh, or an installed nncore).
#   tools/lint.sh            # check; non-zero exit on the first failing check
#   tools/lint.sh --fix      # rewrite: ruff --fix, ruff format, clang-format -i, the stub
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py_dirs=(python tests bench docs examples tools)
mapfile -t cxx < <(git ls-files 'cpp/*.cpp' 'cpp/*.h' 'cpp/*.inc' 'bench/cpp/*.cpp' 'examples/*.cpp' \
                   'examples/*.h')
if [ "${1:-}" = "--fix" ]; then
  ruff check --fix -q "${py_dirs[@]}" || true
  ruff format -q "${py_dirs[@]}"
  clang-format -i "${cxx[@]}"
  bash tools/stub.sh
  exit 0
fi
echo "== ruff check";        ruff check "${py_dirs[@]}"
echo "== ruff format";       ruff format --check "${py_dirs[@]}"
echo "== mypy";              mypy
echo "== clang-format (${#cxx[@]} files)"
clang-format --dry-run -Werror "${cxx[@]}"
echo "== _core.pyi";         bash tools/stub.sh --check
