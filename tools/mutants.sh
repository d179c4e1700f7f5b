#!/usr/bin/env bash
# Mutation check of the test suite: plants each bug of the zoo (tools/mutants/<name>.patch, one
# precise patch per mutant) in a copy of the tree, rebuilds it incrementally, runs ctest and then
# pytest (-x: stops at the first failure) and records which test killed the mutant and how long
# it took. Prints a Markdown table; exits 1 if any mutant survives, 2 on a setup error (a patch
# that no longer applies, a mutant that does not compile, a baseline that is not green).
#
#   tools/mutants.sh                  every mutant
#   tools/mutants.sh NAME [NAME...]   only these (names as in --list)
#   tools/mutants.sh --list           the mutants and the file each one changes
# Options: --out FILE (also write the table there), --skip-baseline (trust that the unmutated
# copy is green; the baseline run costs one full ctest + pytest).
# Env: MUTANT_WORK (the copy and its build directory; kept between runs so rebuilds stay
# incremental, default /tmp/nncore-mutants-$USER), JOBS (build jobs, default 2).
#
# Python-only mutants skip the rebuild and ctest (the C++ binary cannot see them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
zoo="$root/tools/mutants"
work="${MUTANT_WORK:-/tmp/nncore-mutants-${USER:-$(id -u)}}"
copy="$work/tree"
bdir="$work/build"
logs="$work/logs"

die() { echo "mutants.sh: $*" >&2; exit 2; }
patch_files() { sed -n 's|^+++ b/||p' "$1"; }

out="" baseline=1 list=0 names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --out) out="$2"; shift ;;
    --skip-baseline) baseline=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done

all=()
for p in "$zoo"/*.patch; do all+=("$(basename "$p" .patch)"); done
[ ${#all[@]} -gt 0 ] || die "no mutants in $zoo"
if [ $list = 1 ]; then
  for n in "${all[@]}"; do printf '%-32s %s\n' "$n" "$(patch_files "$zoo/$n.patch" | tr '\n' ' ')"; done
  exit 0
fi
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do [ -f "$zoo/$n.patch" ] || die "no mutant '$n' (see --list)"; done

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
run_pytest() {
  local log="$1" rc=0
  (cd "$copy" && PYTHONPATH="$copy/python" timeout 1200 python3 -m pytest -x -q -rfE \
    -p no:cacheprovider tests) >"$log" 2>&1 || rc=$?
  killer=""
  if [ $rc != 0 ]; then
    killer="$(grep -m1 -E '^(FAILED|ERROR) ' "$log" | sed -E 's/^(FAILED|ERROR) //; s/ - .*//')"
    [ -n "$killer" ] || killer="pytest rc $rc"
    killer="pytest: $killer"
  fi
}

applied=""
revert() { [ -z "$applied" ] || (cd "$copy" && git apply -R "$zoo/$applied.patch"); applied=""; }
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
  p="$zoo/$n.patch"
  files="$(patch_files "$p" | tr '\n' ' ' | sed 's/ $//')"
  (cd "$copy" && git apply --check "$p" 2>"$logs/$n.apply.log") ||
    die "mutant $n no longer applies (the code it targets changed): $(cat "$logs/$n.apply.log")"
  (cd "$copy" && git apply "$p")
  applied="$n"
  t0=$(date +%s)
  killer=""
  if patch_files "$p" | grep -qv '^python/'; then
    build >"$logs/$n.build.log" 2>&1 || die "mutant $n does not compile: $logs/$n.build.log"
    cxx_mutated=1
    run_ctest "$logs/$n.ctest.log"
  elif [ $cxx_mutated = 1 ]; then
    # the extension still holds the previous (reverted) C++ mutant: rebuild it clean first, or
    # this Python mutant would be "killed" by the other one
    build >"$logs/$n.build.log" 2>&1 || die "clean rebuild before $n failed: $logs/$n.build.log"
    cxx_mutated=0
  fi
  [ -n "$killer" ] || run_pytest "$logs/$n.pytest.log"
  secs=$(($(date +%s) - t0))
  revert
  if [ -n "$killer" ]; then
    echo "killed   $n ($killer, ${secs}s)" >&2
    rows+=("| $n | \`$files\` | $killer | $secs |")
  else
    echo "SURVIVED $n (${secs}s)" >&2
    survived=$((survived + 1))
    rows+=("| $n | \`$files\` | **survived** | $secs |")
  fi
done
build >"$logs/final-build.log" 2>&1 || true  # leave the copy's build unmutated for the next run

{
  echo "| mutant | file | killed by (first failing test) | time (s) |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "${#names[@]} mutants, $((${#names[@]} - survived)) killed, $survived survived;" \
    "$(($(date +%s) - t_all)) s after the baseline."
} | tee ${out:+"$out"}
[ $survived = 0 ]
