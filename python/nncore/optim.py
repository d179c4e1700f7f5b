"""PLACEHOLDER (replaced by the optimizer family): plain SGD only."""

from __future__ import annotations

from . import _core


class SGD:
    def __init__(self, params=None, lr=0.01):
        self.lr_init = lr
        self._core = None
        self._model = None

    def _core_optimizer(self):
        if self._core is None:
            self._core = _core.make_optimizer("sgd", {"lr": self.lr_init})
        return self._core

    def _attach(self, model):
        self._model = model
        model._net.set_optimizer(self._core_optimizer())

    @property
    def lr(self):
        return self._core_optimizer().lr

    @lr.setter
    def lr(self, v):
        self._core_optimizer().lr = v

    def step(self):
        return self._model._net.optimizer_step()

    def zero_grad(self):
        self._model._net.zero_grad()

    def get_config(self):
        return {"name": "sgd", "lr": self.lr}

    def state_dict(self):
        return {"name": "sgd", "hparams": {"lr": self.lr}, "steps": 0, "lr": self.lr, "state": {}}

    def load_state_dict(self, d):
        self.lr = d["lr"]


def get(opt, **kwargs):
    if isinstance(opt, str):
        if opt.lower() != "sgd":
            raise ValueError(f"unknown optimizer {opt!r}")
        return SGD(**kwargs)
    return opt
