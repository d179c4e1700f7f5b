"""examples/cpp_inference builds with CMake against nncore (find_package(nncore)) and prints the
same predictions as Python, bit for bit; a damaged model file is a clean error, not a crash.

Uses the installed package's config (python -m nncore --cmake-dir) when nncore is installed,
else the source checkout's build tree (tools/dev_build.sh exports one), else skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import nncore as nc
from nncore import cpp_paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cpp_inference"


def _config_dir() -> Path:
    try:
        return cpp_paths.cmake_dir()
    except FileNotFoundError:
        pass
    for build in sorted((ROOT / "build").glob("*/nncoreConfig.cmake")):
        # a cross build (tools/arm64_test.sh) exports a config too: take the host's only
        if _built_for_this_machine(build.parent):
            return build.parent
    pytest.skip("nncore's CMake config is neither installed nor in a build tree under build/")


def _built_for_this_machine(build: Path) -> bool:
    cache = build / "CMakeCache.txt"
    if not cache.exists():
        return False
    text = cache.read_text(errors="replace")
    return "CMAKE_CROSSCOMPILING" not in text and "aarch64-linux-gnu" not in text


@pytest.fixture(scope="module")
def example_binary(tmp_path_factory):
    if os.environ.get("NNCORE_SANITIZED"):
        # tools/sanitize.sh: the package copy has no installed config and the example would link
        # the instrumented core into an uninstrumented program; the plain run builds and checks it
        pytest.skip("not under the sanitizer run (the plain test run builds the example)")
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    config = _config_dir()
    out = tmp_path_factory.mktemp("cpp_example")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    for cmd in (
        ["cmake", "-S", str(EXAMPLE), "-B", str(out), *gen, f"-Dnncore_DIR={config}"],
        ["cmake", "--build", str(out)],
    ):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out / "nncore_predict"


def _model():
    m = nc.Sequential(
        [nc.Dense(32), nc.BatchNorm(), nc.Activation("relu"), nc.Dropout(0.2), nc.Dense(4)],
        input_dim=9,
        seed=5,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 9)).astype(np.float32)
    m.fit(X, X[:, :4].argmax(axis=1), epochs=3, batch_size=8)
    return m, X


def test_example_prints_the_python_predictions(example_binary, tmp_path):
    m, X = _model()
    m.save(tmp_path / "m.nnc")
    X.tofile(tmp_path / "x.f32")
    r = subprocess.run(
        [str(example_binary), str(tmp_path / "m.nnc"), str(tmp_path / "x.f32")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    got = np.array([[float(v) for v in line.split()] for line in r.stdout.splitlines()], np.float32)
    np.testing.assert_array_equal(got, m.predict(X))  # %.9g round-trips float32 exactly


def test_example_reports_damaged_files_cleanly(example_binary, tmp_path):
    m, X = _model()
    m.save(tmp_path / "m.nnc")
    data = (tmp_path / "m.nnc").read_bytes()
    X.tofile(tmp_path / "x.f32")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    for name, content in (("trunc", data[:100]), ("flip", bytes(flipped)), ("foreign", b"GIF89a")):
        (tmp_path / name).write_bytes(content)
        r = subprocess.run(
            [str(example_binary), str(tmp_path / name), str(tmp_path / "x.f32")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1 and "model error" in r.stderr, (name, r.returncode, r.stderr)
