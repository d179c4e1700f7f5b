"""scikit-learn's stochastic solvers on nncore's fused C++ optimizers.

scikit-learn's update rules differ from PyTorch's (which nncore's optimizers implement); the
difference is absorbed exactly here instead of by a second optimizer family:

- SGD: scikit-learn keeps the velocity ``v = momentum·v - lr·g`` (lr inside the velocity), PyTorch
  the buffer ``b = momentum·b + g`` stepped by ``-lr·b``. While lr is constant ``v = -lr·b``; when lr
  changes (``invscaling``, ``adaptive``) the buffer is rescaled by ``lr_old/lr_new`` so ``v`` stays
  what scikit-learn would hold. Nesterov matches term by term.
- Adam: scikit-learn divides by ``sqrt(v) + eps``, PyTorch by ``sqrt(v / (1 - beta2^t)) + eps``;
  both step ``lr·sqrt(1 - beta2^t)/(1 - beta1^t)·m``. The core's Adam takes scikit-learn's form
  with ``raw_eps=True``.

Neither needs anything between two steps of an epoch (the learning rate changes only between
epochs), so a whole epoch runs in one C++ call; ``before_epoch``/``after_epoch`` do the rest.
The objects are plain data (picklable); the nncore optimizer lives in the model.
"""

from __future__ import annotations

import math

from .. import optim as _optim


class SGDSchedule:
    """scikit-learn's SGDOptimizer semantics: ``learning_rate`` (the current rate),
    ``iteration_ends(t)`` and ``trigger_stopping(msg, verbose)``."""

    def __init__(self, learning_rate_init, lr_schedule, momentum, nesterov, power_t):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov) and self.momentum > 0
        self.power_t = float(power_t)
        self._core_lr = None  # the rate the core optimizer's buffer was built with

    def attach(self, model, **extra):
        opt = _optim.SGD(
            model,
            lr=self.learning_rate,
            momentum=self.momentum,
            nesterov=self.nesterov,
            skip_nonfinite=False,
            **extra,
        )
        self._core_lr = self.learning_rate
        return opt

    def before_epoch(self, opt) -> None:
        if self._core_lr == self.learning_rate:
            return
        if self.momentum > 0 and self._core_lr:
            core = opt.core_optimizer()
            if "momentum_buffer" in core.state_names() and opt.steps > 0:
                buf = core.get_state("momentum_buffer")
                core.set_state("momentum_buffer", buf * (self._core_lr / self.learning_rate))
        opt.lr = self.learning_rate
        self._core_lr = self.learning_rate

    def after_epoch(self, opt) -> None:
        pass

    def iteration_ends(self, time_step) -> None:
        if self.lr_schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose) -> bool:
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class AdamSchedule:
    """scikit-learn's AdamOptimizer semantics (constant ``learning_rate``)."""

    def __init__(self, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def attach(self, model, **extra):
        return _optim.Adam(
            model,
            lr=self.learning_rate,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
            raw_eps=True,
            skip_nonfinite=False,
            **extra,
        )

    def before_epoch(self, opt) -> None:
        pass

    def after_epoch(self, opt) -> None:
        t = opt.steps
        if t:  # scikit-learn reports the last step's bias-corrected step size as learning_rate
            bc2 = 1.0 - self.beta_2**t
            self.learning_rate = self.learning_rate_init * math.sqrt(bc2) / (1.0 - self.beta_1**t)

    def iteration_ends(self, time_step) -> None:
        pass

    def trigger_stopping(self, msg, verbose) -> bool:
        if verbose:
            print(msg + " Stopping.")
        return True


class CoreSchedule(AdamSchedule):
    """Any other nncore optimizer by name (an nncore extra: ``solver="adamw"``, ``"rmsprop"``...)
    at a constant ``learning_rate_init``, with its own (PyTorch) update rule."""

    def __init__(self, name, learning_rate_init, kwargs):
        self.name = name
        self.learning_rate_init = self.learning_rate = float(learning_rate_init)
        self.kwargs = dict(kwargs or {})

    def attach(self, model, **extra):
        kw = {"skip_nonfinite": False, **self.kwargs, **extra}
        opt = _optim.get(self.name, lr=self.learning_rate, **kw)
        model.compile(optimizer=opt, loss=model.loss)
        return opt

    def before_epoch(self, opt) -> None:
        pass

    def after_epoch(self, opt) -> None:
        pass
