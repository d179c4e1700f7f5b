#!/usr/bin/env bash
# The aarch64 build's C++ tests on an x86-64 machine: cross-compiles the core, the C++ tests and
# the benchmarks with aarch64-linux-gnu-g++ (NEON GEMM kernel, scalar elementwise kernels) into
# build/arm64 (or $1) and runs the tests under qemu-user (~1-2 min: emulated).
#   apt-get install g++-aarch64-linux-gnu qemu-user    # Debian/Ubuntu
#   tools/arm64_test.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bdir="${1:-$root/build/arm64}"
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "arm64_test: $tool not found" >&2; exit 2; }
done
cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_SYSTEM_NAME=Linux \
  -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
  -DNNCORE_BUILD_PYTHON=OFF -DNNCORE_BUILD_TESTS=ON -DNNCORE_BUILD_BENCH=ON \
  -DNNCORE_WERROR=ON >/dev/null
cmake --build "$bdir" -j "${JOBS:-2}"
sysroot=/usr/aarch64-linux-gnu
qemu-aarch64 -L "$sysroot" "$bdir/nncore_tests"
