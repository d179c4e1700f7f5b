#!/usr/bin/env bash
# The one prepared run for a lent many-core machine (the `device` tool: 15 minutes of machine time
# a session, start-up included, at most 10 minutes a call, no package registry there; its Python
# has numpy, PyTorch, JAX, scikit-learn, pybind11, CMake and ninja). Steps in priority order, each
# under its own time limit, each result in $OUT as soon as it is written, so a run cut off early
# still brings back what finished:
#   machine.txt  the CPU (lscpu), compiler, Python packages, torch's BLAS
#   build.txt    tools/dev_build.sh with the benchmarks, on every core
#   checks.txt   the fixed-seed weights checksum on every ISA the CPU runs (the same bits as on
#                the development machines: REFERENCE below), then the C++ tests
#   scaling.md   1-16 threads: GEMM and the bs-2048 epoch against PyTorch (bench/python/scaling.py)
#   gemm.md      GEMM against MKL (torch) and OpenBLAS (numpy), 1 thread and all cores
#   train.md     training against PyTorch Adam(fused=True) and JAX, 1 thread and all cores
#   pytest.txt   the Python tests (pytest-xdist's workers where it is there)
#
#   run(command="bash tools/device_check.sh", timeout_s=560)
#
# The steps' limits add up to more than the call's: what the call's limit cuts is the Python
# tests, last. On the 2-core Zen 4 the whole run took 9 min 12 s (the build 1 min 40 s, the
# training cut at its limit, the tests 2 min 35 s without pytest-xdist):
#   OUT=/tmp/dev bash tools/device_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/nncore-device}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
CORES=$(nproc)
export PYTHONPATH="$PWD/python" JAX_PLATFORMS=cpu
# The sha-256 of tools/weights_checksum.py's weights on the development machines (AMD Zen 4 and
# Intel Xeon, avx512 / avx2 / scalar alike); a change to the training arithmetic changes it.
REFERENCE=cc1592ad0d82138b5b690094eb1b3c0799a9ac3e3b5f4ed67654424bb68ab511
say() { echo "== $(date -u +%H:%M:%S) $*"; }
# step <seconds> <file> <command...>: the command's output to $OUT/<file>, cut at the limit.
step() {
  local limit=$1 file=$2
  shift 2
  say "$* (limit ${limit} s) -> $file"
  { say "$*"; timeout --kill-after=10 "$limit" "$@"; echo "exit $?"; } >>"$OUT/$file" 2>&1
  tail -n 3 "$OUT/$file"
}

{
  say machine
  lscpu
  echo "cores: $CORES"
  free -g
  gcc --version | head -1
  cmake --version | head -1
  "$PY" - <<'EOF'
import importlib, sys
print(sys.version)
for name in ("numpy", "torch", "jax", "sklearn", "threadpoolctl", "pybind11", "xdist"):
    try:
        print(name, getattr(importlib.import_module(name), "__version__", "present"))
    except Exception as e:  # noqa: BLE001
        print(name, "absent:", type(e).__name__)
try:
    import torch
    print(torch.__config__.show())
except Exception:
    pass
EOF
} >"$OUT/machine.txt" 2>&1

step 240 build.txt env NNCORE_BUILD_BENCH=ON NNCORE_WERROR=OFF JOBS="$CORES" bash tools/dev_build.sh
if ! ls python/nncore/_core*.so >/dev/null 2>&1; then
  say "no extension was built: see $OUT/build.txt"
  exit 1
fi

isas=$("$PY" -c "import nncore._core as c; print(' '.join(c.supported_isas()))")
for isa in $isas; do
  got=$(NNCORE_ISA=$isa timeout 120 "$PY" tools/weights_checksum.py | awk '/^weights/ {print $2}')
  verdict=$([ "$got" = "$REFERENCE" ] && echo "same bits" || echo "DIFFERENT from the reference")
  echo "weights checksum $isa: $got ($verdict)" >>"$OUT/checks.txt"
done
cat "$OUT/checks.txt"
step 150 checks.txt ./build/dev/nncore_tests

step 150 scaling.md "$PY" bench/python/scaling.py --threads "1,2,4,8,$CORES" --reps 5 --epochs 2
step 90 gemm.md "$PY" bench/python/bench_gemm.py --threads "1,$CORES" --rounds 3
# 12,000 rows and 2 reps: the 1-thread half alone took 1 min 44 s on the 2-core Zen 4 (JAX's
# compiles included), so both halves fit their limit on a similar core.
step 200 train.md "$PY" bench/python/bench_train.py --rows 12000 --batch-sizes 32,128,2048 \
  --threads "1,$CORES" --reps 2 --skip-sklearn --torch-peers fused
xdist=$("$PY" -c "import xdist" 2>/dev/null && echo "-n $CORES" || echo "")
# shellcheck disable=SC2086  # $xdist is empty or two words
step 150 pytest.txt "$PY" -m pytest -q -p no:cacheprovider $xdist
say done
