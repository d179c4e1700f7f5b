#!/usr/bin/env bash
# Developer build: configures and builds into build/dev (or $1) and copies the extension into
# python/nncore, so `PYTHONPATH=python pytest` uses it. Also builds the C++ tests. Warnings are
# errors, as in CI (NNCORE_WERROR=OFF to build anyway).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bdir="${1:-$root/build/dev}"
cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DNNCORE_BUILD_TESTS=ON -DNNCORE_BUILD_BENCH="${NNCORE_BUILD_BENCH:-OFF}" \
  -DNNCORE_WERROR="${NNCORE_WERROR:-ON}" \
  -Dpybind11_DIR="$(python3 -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
  -DPython_EXECUTABLE="$(command -v python3)" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$bdir" -j "${JOBS:-2}"
# Copy beside it, then rename: a process that has the old extension loaded keeps its file (an
# in-place overwrite crashes it with SIGBUS/SIGSEGV mid-run, e.g. a benchmark).
for so in "$bdir"/_core*.so; do
  cp -f "$so" "$root/python/nncore/.$(basename "$so").tmp"
  mv -f "$root/python/nncore/.$(basename "$so").tmp" "$root/python/nncore/$(basename "$so")"
done
