"""Progress display for ``fit(verbose=1|2)``.

verbose=1: on a terminal, a bar per epoch (batches done, rate, ETA, running loss/accuracy), drawn
by tqdm when it is installed (``pip install nncore[progress]``) or by a small built-in bar, then an
epoch summary line. When the stream is not a terminal (logs, CI, pipes) it never writes carriage
returns: it prints the summary line per epoch plus a plain progress line every ``interval``
seconds of a long epoch. verbose=2: the summary line per epoch only. Notebook widgets are not used.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator

from ._validation import check_positive_int, check_verbose
from .callbacks import Callback

__all__ = ["ProgressLogger"]  # reported() serves predict and evaluate

# Epoch-log keys not shown in the summary line (diagnostics series carry a "/").
_HIDDEN = {"time", "grad_norm", "batch", "batches"}


def _is_terminal(stream) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _fmt_num(v) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4f}"
    return str(v)


def _fmt_time(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    if s < 0.1:  # a small model's epoch takes well under a millisecond
        return f"{s * 1000:.3g}ms"
    if s < 0.9995:
        return f"{s * 1000:.0f}ms"
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(s + 0.5), 60)
    if m < 60:
        return f"{m}:{s:02d}"
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _fmt_rate(r: float) -> str:
    if r >= 1000:
        return f"{r / 1000:.1f}k batch/s"
    return f"{r:.1f} batch/s"


def _metrics_text(logs: dict, sep: str = " - ") -> str:
    parts = []
    for k, v in logs.items():
        if k in _HIDDEN or "/" in k or not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if k == "reg_loss" and v == 0:
            continue
        parts.append(f"{k}: {_fmt_num(float(v) if k != 'nonfinite_steps' else v)}")
    return sep.join(parts)


class ProgressLogger(Callback):
    """The progress display that ``fit(verbose=...)`` adds.

    Parameters
    ----------
    verbose : int
        1: bar per epoch (plain lines when ``stream`` is not a terminal); 2: one line per epoch;
        0: nothing.
    epochs : int
        Number of epochs of this fit call (for "Epoch i/N").
    stream : file-like, optional
        Where to write (default: ``sys.stdout`` at the time of writing).
    use_tqdm : bool, optional
        Force tqdm on or off (default: tqdm when installed and the stream is a terminal).
    interval : float
        Seconds between plain progress lines in non-terminal mode (verbose=1).
    bar_width : int
        Characters of the built-in bar.

    Examples
    --------
    ``fit(verbose=2)`` adds one; passed as a callback it can write elsewhere:

    >>> import io
    >>> import numpy as np
    >>> import nncore as nc
    >>> from nncore.progress import ProgressLogger
    >>> X, y = np.eye(4, dtype=np.float32), np.array([0, 1, 0, 1])
    >>> model = nc.Sequential([nc.Dense(2)], input_dim=4, seed=0)
    >>> model = model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> out = io.StringIO()
    >>> history = model.fit(X, y, epochs=2, callbacks=[ProgressLogger(verbose=2, stream=out)])
    >>> print(out.getvalue(), end="")  # doctest: +ELLIPSIS
    Epoch 1/2 - ... - loss: ... - accuracy: ... - lr: 0.0010
    Epoch 2/2 - ... - loss: ... - accuracy: ... - lr: 0.0010
    """

    def __init__(
        self,
        verbose: int = 1,
        epochs: int = 0,
        stream=None,
        *,
        use_tqdm=None,
        interval: float = 30.0,
        bar_width: int = 30,
    ):
        self.verbose = int(verbose)
        self.epochs = epochs
        self._stream = stream
        self.use_tqdm = use_tqdm
        self.interval = float(interval)
        self.bar_width = int(bar_width)
        self._bar = None
        self._first_epoch = None

    @property
    def stream(self):
        """Where the display writes: the ``stream`` given, else ``sys.stdout`` now (so a
        redirected stdout is followed)."""
        return self._stream if self._stream is not None else sys.stdout

    # ----------------------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        """Takes the number of batches and epochs from ``logs`` and decides between tqdm, the
        built-in bar and plain lines.

        Parameters
        ----------
        logs : dict or None
            As :meth:`nncore.callbacks.Callback.on_train_begin` describes.
        """
        logs = logs or {}
        self.batches = int(logs.get("batches", 0))
        if logs.get("epochs"):
            self.epochs = int(logs["epochs"])
        self._first_epoch = None
        self._terminal = _is_terminal(self.stream)
        tq = self.use_tqdm
        if tq is None:
            tq = self._terminal
        self._tqdm = None
        if tq and self.verbose == 1:
            try:
                import tqdm

                self._tqdm = tqdm.tqdm
            except ImportError:
                self._tqdm = None

    def _epoch_label(self, epoch):
        if self._first_epoch is None:
            self._first_epoch = epoch
        i = epoch - self._first_epoch + 1
        return f"Epoch {i}/{self.epochs}" if self.epochs else f"Epoch {epoch + 1}"

    def on_epoch_begin(self, epoch, logs=None):
        """Starts the epoch's clock and, with tqdm, its bar.

        Parameters
        ----------
        epoch : int
            The epoch's index (0-based).
        logs : dict or None
            As :meth:`nncore.callbacks.Callback.on_epoch_begin` describes.
        """
        if self.verbose <= 0:
            return
        self._label = self._epoch_label(epoch)
        self._t0 = time.perf_counter()
        self._last_draw = -math.inf
        self._last_line = self._t0
        self._drawn = False
        if self.verbose == 1 and self._tqdm is not None:
            self._bar = self._tqdm(
                total=self.batches or None,
                desc=self._label,
                unit="batch",
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
            )

    def on_batch_end(self, batch, logs=None):
        """Redraws the bar (at most every 0.1 s) or, off a terminal, prints a progress line
        every ``interval`` seconds.

        Parameters
        ----------
        batch : int
            The batch's index within the epoch.
        logs : dict or None
            As :meth:`nncore.callbacks.Callback.on_batch_end` describes.
        """
        if self.verbose != 1:
            return
        logs = logs or {}
        done = int(logs.get("batch", batch)) + 1
        total = int(logs.get("batches", self.batches) or 0)
        now = time.perf_counter()
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            self._bar.set_postfix_str(_metrics_text(logs, ", "), refresh=False)
            return
        elapsed = now - self._t0
        if self._terminal:
            if now - self._last_draw < 0.1 and done < total:
                return
            self._last_draw = now
            self.stream.write("\r" + self._bar_text(done, total, elapsed, logs) + "\033[K")
            self.stream.flush()
            self._drawn = True
        elif now - self._last_line >= self.interval and done < total:
            self._last_line = now
            print(
                f"{self._label}: {self._plain_text(done, total, elapsed, logs)}",
                file=self.stream,
                flush=True,
            )

    def _eta(self, done, total, elapsed):
        if done <= 0 or not total:
            return math.inf
        return elapsed / done * (total - done)

    def _bar_text(self, done, total, elapsed, logs):
        if total:
            filled = int(self.bar_width * done / total)
            arrow = ">" if filled < self.bar_width else ""
            bar = "=" * filled + arrow + "." * (self.bar_width - filled - len(arrow))
            head = f"{self._label} {done}/{total} [{bar}]"
        else:
            head = f"{self._label} {done}"
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = self._eta(done, total, elapsed)
        text = f"{head} {_fmt_rate(rate)} ETA {_fmt_time(eta)}"
        m = _metrics_text(logs)
        return f"{text} - {m}" if m else text

    def _plain_text(self, done, total, elapsed, logs):
        rate = done / elapsed if elapsed > 0 else 0.0
        text = (
            f"batch {done}/{total} - {_fmt_rate(rate)} - "
            f"ETA {_fmt_time(self._eta(done, total, elapsed))}"
        )
        m = _metrics_text(logs)
        return f"{text} - {m}" if m else text

    def on_epoch_end(self, epoch, logs=None):
        """Clears the bar and prints the epoch's summary line (time and metrics).

        Parameters
        ----------
        epoch : int
            The epoch's index (0-based).
        logs : dict or None
            As :meth:`nncore.callbacks.Callback.on_epoch_end` describes.
        """
        if self.verbose <= 0:
            return
        logs = logs or {}
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._drawn:
            self.stream.write("\r\033[K")
        elapsed = logs.get("time", time.perf_counter() - self._t0)
        line = f"{self._label} - {_fmt_time(float(elapsed))}"
        m = _metrics_text(logs)
        if m:
            line += " - " + m
        print(line, file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        """Closes a tqdm bar left open when training stopped mid-epoch.

        Parameters
        ----------
        logs : dict or None
            As :meth:`nncore.callbacks.Callback.on_train_end` describes.
        """
        if self._bar is not None:  # stopped mid-epoch (Ctrl-C, a callback)
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def reported(what: str, rows, verbose, batch_size=None, stream=None) -> Iterator[dict]:
    """predict's and evaluate's Keras options: with ``verbose`` (0, 1, 2 or "auto") one line when
    the work is done, with the scores the block puts in the yielded dict; ``batch_size`` is only
    checked (the core already runs the rows in blocks of bounded size, so it changes neither
    the result nor the memory)."""
    verbose = check_verbose(verbose)
    if batch_size is not None:
        check_positive_int(batch_size, "batch_size")
    logs: dict = {}
    start = time.perf_counter()
    yield logs
    if verbose:
        took = _fmt_time(time.perf_counter() - start)
        text = f"{what}: {took}" if rows is None else f"{what}: {rows} rows in {took}"
        scores = _metrics_text(logs)
        print(f"{text} - {scores}" if scores else text, file=stream or sys.stdout)
