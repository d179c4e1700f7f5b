#!/usr/bin/env bash
# Mutation check of the test suite: plants each bug of the zoo (tools/mutants/<name>.mutant: the
# exact original snippet and its replacement, found in the one file under python/ or cpp/ that
# holds it once; see tools/mutants/mutant.py) in a copy of the tree, rebuilds it incrementally,
# runs the mutant's own tests first (its spec's `tests:` line), then ctest (C++ mutants), then the
# whole pytest suite (-x), and records which test killed it and how long it took. Prints a
# Markdown table; exits 1 if any mutant survives, 2 on a setup error (a snippet found zero or
# several times, a mutant that does not compile, a baseline that is not green).
#
#   tools/mutants.sh                  every mutant
#   tools/mutants.sh NAME [NAME...]   only these (names as in --list)
#   tools/mutants.sh --list           the mutants, the file each one changes, its first tests
# Options: --out FILE (also write the table there), --skip-baseline (trust that the unmutated
# copy is green; the baseline run costs one full ctest + pytest).
# Env: MUTANT_PYTHON (the Python that runs pytest, default python3: give one without PyTorch, as
# a user who installs .[test] has), MUTANT_WORK (the copy and its build directory; kept between
# runs so rebuilds stay incremental, default /tmp/nncore-mutants-$USER; under /work the build
# shares ccache hits with the worktrees' build/dev), JOBS (build jobs, default 2).
#
# Python-only mutants skip the rebuild and ctest (the C++ binary cannot see them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
zoo="$root/tools/mutants"
spec_tool=(python3 "$zoo/mutant.py")
work="${MUTANT_WORK:-/tmp/nncore-mutants-${USER:-$(id -u)}}"
copy="$work/tree"
bdir="$copy/build/mutants"  # as deep below the sources as build/dev: ccache hits
logs="$work/logs"
py="${MUTANT_PYTHON:-python3}"

die() { echo "mutants.sh: $*" >&2; exit 2; }

out="" baseline=1 list=0 names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --out) out="$2"; shift ;;
    --skip-baseline) baseline=0 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done

if [ $list = 1 ]; then
  exec "${spec_tool[@]}" list
fi
mapfile -t all < <(cd "$zoo" && ls -- *.mutant 2>/dev/null | sed 's/\.mutant$//')
[ ${#all[@]} -gt 0 ] || die "no mutants in $zoo"
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
"${spec_tool[@]}" check "${names[@]}" || die "bad mutant spec"
"$py" -c 'import numpy, pytest' 2>/dev/null || die "MUTANT_PYTHON=$py lacks numpy or pytest"
torch_note="without PyTorch"
"$py" -c 'import torch' 2>/dev/null && torch_note="WITH PyTorch (set MUTANT_PYTHON to a venv without it)"
echo "pytest runs on $py ($torch_note)" >&2

# The copy: tracked and untracked-but-not-ignored files of the working tree (no build outputs).
# Only files whose content differs are written (e.g. one left mutated by a killed run): they get
# a new mtime, so Ninja recompiles them; unchanged files keep theirs and are not rebuilt.
mkdir -p "$copy" "$logs"
(cd "$root" && git ls-files -co --exclude-standard -z) | python3 -c '
import os, shutil, sys
src, dst = sys.argv[1:]
for rel in filter(None, sys.stdin.buffer.read().decode().split("\0")):
    a, b = os.path.join(src, rel), os.path.join(dst, rel)
    if not os.path.isfile(a):
        continue
    with open(a, "rb") as f:
        data = f.read()
    if os.path.isfile(b):
        with open(b, "rb") as f:
            if f.read() == data:
                continue
    os.makedirs(os.path.dirname(b), exist_ok=True)
    with open(b, "wb") as f:
        f.write(data)
    shutil.copymode(a, b)
' "$root" "$copy"
rm -f "$copy"/python/nncore/_core*.so

build() {
  cmake -S "$copy" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNNCORE_BUILD_TESTS=ON \
    -DNNCORE_BUILD_BENCH=OFF \
    -Dpybind11_DIR="$(python3 -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DPython_EXECUTABLE="$(command -v python3)" >/dev/null &&
    cmake --build "$bdir" -j "${JOBS:-2}" &&
    cp -f "$bdir"/_core*.so "$copy/python/nncore/"
}

# Sets $killer to the first failing test ("" when everything passed).
run_ctest() {
  local log="$1" rc=0
  NNCORE_TEST_FAILFAST=1 timeout 600 ctest --test-dir "$bdir" --output-on-failure >"$log" 2>&1 ||
    rc=$?
  killer=""
  if [ $rc != 0 ]; then
    killer="$(sed -n 's/^FAILED \(.*\)/\1/p' "$log" | head -1)"
    [ -n "$killer" ] || killer="crashed or timed out (rc $rc)"
    killer="ctest: $killer"
  fi
}
# run_pytest LOG [TEST...]: the whole suite without TESTs
run_pytest() {
  local log="$1" rc=0
  shift
  [ $# -gt 0 ] || set -- tests
  (cd "$copy" && PYTHONPATH="$copy/python" timeout 1800 "$py" -m pytest -x -q -rfE \
    -p no:cacheprovider "$@") >"$log" 2>&1 || rc=$?
  killer=""
  if [ $rc != 0 ]; then
    killer="$(grep -m1 -E '^(FAILED|ERROR) ' "$log" | sed -E 's/^(FAILED|ERROR) //; s/ - .*//')"
    [ -n "$killer" ] || killer="pytest rc $rc"
    killer="pytest: $killer"
  fi
}

applied=""
revert() {  # the planted file back from the working tree, with a new mtime so Ninja rebuilds it
  [ -z "$applied" ] || cp "$root/$applied" "$copy/$applied"
  applied=""
}
trap revert EXIT

if [ $baseline = 1 ]; then
  echo "baseline: build, ctest, pytest (unmutated copy in $copy)" >&2
  build >"$logs/baseline-build.log" 2>&1 || die "baseline build failed: $logs/baseline-build.log"
  run_ctest "$logs/baseline-ctest.log"
  [ -z "$killer" ] || die "baseline not green ($killer): $logs/baseline-ctest.log"
  run_pytest "$logs/baseline-pytest.log"
  [ -z "$killer" ] || die "baseline not green ($killer): $logs/baseline-pytest.log"
else
  build >"$logs/baseline-build.log" 2>&1 || die "build failed: $logs/baseline-build.log"
fi

rows=() survived=0 t_all=$(date +%s) cxx_mutated=0
for n in "${names[@]}"; do
  file="$("${spec_tool[@]}" apply "$n" "$copy" 2>"$logs/$n.apply.log")" ||
    die "mutant $n does not apply: $(cat "$logs/$n.apply.log")"
  applied="$file"
  mapfile -t first < <("${spec_tool[@]}" tests "$n")
  t0=$(date +%s)
  killer="" stage=""
  if [ "${file#python/}" = "$file" ]; then
    build >"$logs/$n.build.log" 2>&1 || die "mutant $n does not compile: $logs/$n.build.log"
    cxx_mutated=1
  elif [ $cxx_mutated = 1 ]; then
    # the extension still holds the previous (reverted) C++ mutant: rebuild it clean first, or
    # this Python mutant would be "killed" by the other one
    build >"$logs/$n.build.log" 2>&1 || die "clean rebuild before $n failed: $logs/$n.build.log"
    cxx_mutated=0
  fi
  if [ ${#first[@]} -gt 0 ]; then
    run_pytest "$logs/$n.first.log" "${first[@]}"
    stage="its tests"
  fi
  if [ -z "$killer" ] && [ $cxx_mutated = 1 ]; then
    run_ctest "$logs/$n.ctest.log"
    stage="ctest"
  fi
  if [ -z "$killer" ]; then
    run_pytest "$logs/$n.pytest.log"
    stage="whole suite"
  fi
  secs=$(($(date +%s) - t0))
  revert
  if [ -n "$killer" ]; then
    echo "killed   $n ($killer; $stage, ${secs}s)" >&2
    rows+=("| $n | \`$file\` | $killer | $stage | $secs |")
  else
    echo "SURVIVED $n (${secs}s)" >&2
    survived=$((survived + 1))
    rows+=("| $n | \`$file\` | **survived** | | $secs |")
  fi
done
[ $cxx_mutated = 0 ] ||
  build >"$logs/final-build.log" 2>&1 || true  # leave the copy's build unmutated for the next run

{
  echo "| mutant | file | killed by (first failing test) | found by | time (s) |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "${#names[@]} mutants, $((${#names[@]} - survived)) killed, $survived survived;" \
    "$(($(date +%s) - t_all)) s after the baseline; pytest $torch_note."
} | tee ${out:+"$out"}
[ $survived = 0 ]
