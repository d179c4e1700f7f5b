"""Training callbacks and the History that ``fit`` returns.

A callback subclasses :class:`Callback` and overrides any of the hooks. ``fit`` calls
``on_batch_end`` between chunks of batches run in C++ (not after every batch when no callback asks
for it), with ``logs["batch"]`` the index of the last batch done.
"""

from __future__ import annotations


class Callback:
    """Base class for callbacks: every hook is a no-op."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # True when the callback needs on_batch_end at (near) every batch.
    wants_batches = False


class History(Callback):
    """Per-epoch records: ``history.history["loss"]``, ``["val_loss"]``, ``["lr"]``, ... and
    ``history.epoch`` (epoch indices)."""

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epoch)}, keys=[{keys}])"


class CallbackList:
    """Dispatches each hook to every callback in order."""

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)

    @property
    def wants_batches(self) -> bool:
        return any(getattr(c, "wants_batches", False) for c in self.callbacks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for c in self.callbacks:
                getattr(c, hook)(*args, **kwargs)

        return call
