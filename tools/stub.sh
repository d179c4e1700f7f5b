#!/usr/bin/env bash
# Regenerates python/nncore/_core.pyi from the built extension with pybind11-stubgen (sorted and
# formatted by ruff, as the rest of the Python), so the stub cannot drift from the bindings.
#   tools/stub.sh            # rewrite the committed stub
#   tools/stub.sh --check    # fail (and show the diff) when the committed stub is stale
# Needs the extension importable (tools/dev_build.sh, or an installed nncore) and pybind11-stubgen.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python3 -m pybind11_stubgen nncore._core -o "$out" >/dev/null
stub="$out/nncore/_core.pyi"
ruff check -q --fix --select I --config "$root/pyproject.toml" "$stub" >/dev/null || true
ruff format -q --config "$root/pyproject.toml" "$stub"
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$root/python/nncore/_core.pyi" "$stub"; then
    echo "python/nncore/_core.pyi is stale: run tools/stub.sh and commit it" >&2
    exit 1
  fi
  echo "_core.pyi matches the bindings"
else
  cp "$stub" "$root/python/nncore/_core.pyi"
fi
