"""``import nncore`` (and reaching nc.callbacks.TensorBoard / OptunaPruning, nncore.mlflow and
nncore.integrations) imports none of the bridged packages: they load when a bridge is used."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import nncore_home

BRIDGED = ("tensorboard", "mlflow", "optuna", "skl2onnx")


def _sanitizer_env():
    # the sanitized run's extension needs its runtime preloaded in the child too
    keep = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "NNCORE_SANITIZED")
    return {k: os.environ[k] for k in keep if k in os.environ}


def test_import_nncore_imports_no_bridged_package():
    code = (
        "import sys, nncore as nc, nncore.callbacks, nncore.mlflow, nncore.integrations\n"
        "nc.callbacks.TensorBoard, nc.callbacks.OptunaPruning\n"
        f"print(','.join(m for m in {BRIDGED!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": nncore_home(), "PATH": "", **_sanitizer_env()},
        check=True,
    )
    assert out.stdout.strip() == "", f"imported with nncore: {out.stdout.strip()}"


def test_unknown_callback_name_is_an_attribute_error():
    import nncore as nc

    try:
        nc.callbacks.TensorBored  # noqa: B018
    except AttributeError as e:
        assert "TensorBored" in str(e)
    else:
        raise AssertionError("no AttributeError")
