#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run: builds the core, the C++ tests and the
# extension with NNCORE_SANITIZE=ON into build/asan (or $1), then runs the C++ tests and the Python
# test suite over the sanitized extension. Fails if any sanitizer report appears in the output.
#   tools/sanitize.sh                 # everything
#   PYTEST_ARGS="tests/test_io.py" tools/sanitize.sh   # a subset of the Python tests
# Leak detection is off: CPython leaks by design at exit. UBSan is built with
# -fno-sanitize-recover, so undefined behaviour aborts the process (and fails the run) at once.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bdir="${1:-$root/build/asan}"
log="$bdir/sanitize.log"
start=$(date +%s)

cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNCORE_SANITIZE=ON \
  -DNNCORE_BUILD_TESTS=ON -DNNCORE_BUILD_BENCH=OFF \
  -Dpybind11_DIR="$(python3 -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
  -DPython_EXECUTABLE="$(command -v python3)" >/dev/null || exit 1
cmake --build "$bdir" -j "${JOBS:-2}" || exit 1
built=$(date +%s)

# A private copy of the package next to the sanitized extension, so the dev build stays untouched.
pkg="$bdir/python"
rm -rf "$pkg" && mkdir -p "$pkg"
cp -r "$root/python/nncore" "$pkg/"
rm -f "$pkg"/nncore/_core*.so
cp -f "$bdir"/_core*.so "$pkg/nncore/"

# Reports go to files as well: pytest captures stderr, and a process that a sanitizer stops takes
# its captured output with it.
reports_dir="$bdir/reports"
rm -rf "$reports_dir" && mkdir -p "$reports_dir"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_init_order=1:check_initialization_order=1:log_path=$reports_dir/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports_dir/ubsan"
asan_lib="$(gcc -print-file-name=libasan.so)"
ubsan_lib="$(gcc -print-file-name=libubsan.so)"

: > "$log"
status=0
echo "== C++ tests (sanitized)" | tee -a "$log"
"$bdir/nncore_tests" 2>&1 | tee -a "$log" | tail -3 || status=1
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== Python tests (sanitized extension, LD_PRELOAD=libasan)" | tee -a "$log"
# Python itself is not instrumented, so libasan must be loaded first. Subprocesses the tests start
# inherit LD_PRELOAD and the options, so they run sanitized too.
LD_PRELOAD="$asan_lib:$ubsan_lib" PYTHONPATH="$pkg" NNCORE_SANITIZED=1 \
  python3 -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-"$root/tests"} 2>&1 | tee -a "$log" | tail -15
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

end=$(date +%s)
# (a fuzz worker that died counts too: its report is quoted in the failure message)
cat "$reports_dir"/* >> "$log" 2>/dev/null
reports=$(grep -cE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer|worker crashed" "$log")
echo "sanitizer reports: $reports; build $((built - start)) s, tests $((end - built)) s (log: $log)"
[ "$reports" -eq 0 ] || status=1
exit $status
