"""Progress display for ``fit(verbose=1|2)``: one line per epoch."""

from __future__ import annotations

import sys

from .callbacks import Callback


class ProgressLogger(Callback):
    def __init__(self, verbose: int = 1, epochs: int = 0, stream=None):
        self.verbose = verbose
        self.epochs = epochs
        self.stream = stream or sys.stdout

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"epoch {epoch + 1}/{self.epochs}"]
        parts += [f"{k}={v:.4g}" for k, v in logs.items() if isinstance(v, float)]
        print("  ".join(parts), file=self.stream, flush=True)
