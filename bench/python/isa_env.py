"""`--isa` for the Python benchmarks: force nncore's kernel family and give the peers the same one.

The environment must be set before numpy (OpenBLAS) and torch (ATen) are imported, so the option is
read from sys.argv and the script re-executes itself once with the new environment:

    --isa native   nncore picks; OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset so OpenBLAS picks too
    --isa avx2     NNCORE_ISA=avx2, OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2,
                   MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2 and OV_CPU_MAX_ISA=AVX2
                   (oneDNN inside PyTorch and OpenVINO, and OpenVINO's own kernels; onnxruntime
                   has no such switch)
    --isa avx512   NNCORE_ISA=avx512, OPENBLAS_CORETYPE=SkylakeX, ATEN_CPU_CAPABILITY=avx512

Some machines set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old OpenBLAS builds; they slow a current
one, so every choice starts from an environment without them.
"""

from __future__ import annotations

import os
import sys

_PEERS = {
    "native": {},
    # ATEN_CPU_CAPABILITY does not reach MKL, which torch's GEMMs call: MKL_ENABLE_INSTRUCTIONS
    # does (without it torch ran its GEMMs with AVX-512 on the Intel Xeon model 207).
    "avx2": {
        "NNCORE_ISA": "avx2",
        "OPENBLAS_CORETYPE": "Haswell",
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        # OpenVINO asks for both: oneDNN reads the first, its own JIT kernels the second.
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OV_CPU_MAX_ISA": "AVX2",
    },
    "avx512": {
        "NNCORE_ISA": "avx512",
        "OPENBLAS_CORETYPE": "SkylakeX",
        "ATEN_CPU_CAPABILITY": "avx512",
    },
}
_CLEARED = (
    "NNCORE_ISA",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "ATEN_CPU_CAPABILITY",
    "MKL_ENABLE_INSTRUCTIONS",
    "ONEDNN_MAX_CPU_ISA",
    "OV_CPU_MAX_ISA",
)
_MARK = "_NNCORE_BENCH_ISA"


def requested_isa(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--isa" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--isa="):
            return a.split("=", 1)[1]
    return "native"


def _original_args() -> list[str]:
    """The interpreter's arguments as given: `python -c CODE` and `python -m MOD` run again as such
    (sys.argv holds only '-c' or the module's path there, and drops options such as -X or -u)."""
    orig = getattr(sys, "orig_argv", None)  # Python 3.10+
    return list(orig[1:]) if orig else list(sys.argv)


def apply_isa_environment() -> str:
    """Re-executes the running script once with the environment for `--isa`; returns the ISA."""
    isa = requested_isa(sys.argv)
    if isa not in _PEERS:
        sys.exit(f"--isa must be one of {', '.join(_PEERS)}, not {isa!r}")
    if os.environ.get(_MARK) != isa:
        was = ",".join(f"{k}={os.environ[k]}" for k in _CLEARED if k in os.environ)
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
        env.update(_PEERS[isa])
        env[_MARK] = isa
        env["_NNCORE_BENCH_WAS"] = was
        os.execve(sys.executable, [sys.executable, *_original_args()], env)
    return isa


def describe_environment() -> str:
    """One line for the benchmark header: what was forced and what the caller had set."""
    forced = ", ".join(f"{k}={os.environ[k]}" for k in _CLEARED if k in os.environ) or "nothing"
    was = os.environ.get("_NNCORE_BENCH_WAS") or "nothing"
    return f"--isa {os.environ.get(_MARK, 'native')}: forced {forced} (the caller had set {was})"
