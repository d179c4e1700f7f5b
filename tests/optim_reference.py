"""Float64 numpy transcriptions of torch.optim's single-tensor (foreach=False) update rules,
one class per optimizer, for tests that must not depend on PyTorch being installed."""

from __future__ import annotations

import numpy as np


class _Ref:
    defaults: dict = {}

    def __init__(self, **hp):
        unknown = set(hp) - set(self.defaults)
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown {sorted(unknown)}")
        self.hp = {**self.defaults, **hp}
        self.steps = 0
        self.state: dict = {}

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """One update of the float64 parameters p with gradient g; returns the new p."""
        self.steps += 1
        g = np.asarray(g, np.float64)
        return self._step(np.asarray(p, np.float64), -g if self.hp["maximize"] else g)


class SGD(_Ref):
    defaults = dict(lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=0, maximize=0)

    def _step(self, p, g):
        h = self.hp
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        if h["momentum"]:
            buf = self.state.get("momentum_buffer")
            buf = g.copy() if buf is None else h["momentum"] * buf + (1 - h["dampening"]) * g
            self.state["momentum_buffer"] = buf
            g = g + h["momentum"] * buf if h["nesterov"] else buf
        return p - h["lr"] * g


class Adagrad(_Ref):
    defaults = dict(
        lr=0.01,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        maximize=0,
    )

    def _step(self, p, g):
        h = self.hp
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        clr = h["lr"] / (1 + (self.steps - 1) * h["lr_decay"])
        s = self.state.get("sum", np.full_like(p, h["initial_accumulator_value"])) + g * g
        self.state["sum"] = s
        return p - clr * g / (np.sqrt(s) + h["eps"])


class RMSprop(_Ref):
    defaults = dict(
        lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=0, maximize=0
    )

    def _step(self, p, g):
        h, st = self.hp, self.state
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        sq = h["alpha"] * st.get("square_avg", np.zeros_like(p)) + (1 - h["alpha"]) * g * g
        st["square_avg"] = sq
        if h["centered"]:
            ga = st.get("grad_avg", np.zeros_like(p))
            ga = ga + (1 - h["alpha"]) * (g - ga)
            st["grad_avg"] = ga
            avg = np.sqrt(sq - ga * ga) + h["eps"]
        else:
            avg = np.sqrt(sq) + h["eps"]
        if h["momentum"] > 0:
            buf = h["momentum"] * st.get("momentum_buffer", np.zeros_like(p)) + g / avg
            st["momentum_buffer"] = buf
            return p - h["lr"] * buf
        return p - h["lr"] * g / avg


class Adam(_Ref):
    defaults = dict(
        lr=1e-3,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=0,
        decoupled_weight_decay=0,
        maximize=0,
    )

    def _step(self, p, g):
        h, st, t = self.hp, self.state, self.steps
        b1, b2, wd = h["beta1"], h["beta2"], h["weight_decay"]
        if wd and h["decoupled_weight_decay"]:
            p = p * (1 - h["lr"] * wd)
        elif wd:
            g = g + wd * p
        m = st.get("exp_avg", np.zeros_like(p))
        m = m + (1 - b1) * (g - m)
        v = b2 * st.get("exp_avg_sq", np.zeros_like(p)) + (1 - b2) * g * g
        st["exp_avg"], st["exp_avg_sq"] = m, v
        if h["amsgrad"]:
            v = np.maximum(st.get("max_exp_avg_sq", np.zeros_like(p)), v)
            st["max_exp_avg_sq"] = v
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        denom = np.sqrt(v) / np.sqrt(bc2) + h["eps"]
        return p - h["lr"] / bc1 * m / denom


class AdamW(Adam):
    defaults = dict(Adam.defaults, weight_decay=1e-2)

    def __init__(self, **hp):
        super().__init__(**hp)
        self.hp["decoupled_weight_decay"] = 1


class NAdam(_Ref):
    defaults = dict(
        lr=2e-3,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        decoupled_weight_decay=0,
        maximize=0,
    )

    def _step(self, p, g):
        h, st, t = self.hp, self.state, self.steps
        b1, b2, wd, md = h["beta1"], h["beta2"], h["weight_decay"], h["momentum_decay"]
        if wd and h["decoupled_weight_decay"]:
            p = p * (1 - h["lr"] * wd)
        elif wd:
            g = g + wd * p
        mu = b1 * (1 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * md))
        mu_product = st.get("mu_product", 1.0) * mu
        st["mu_product"] = mu_product
        m = st.get("exp_avg", np.zeros_like(p))
        m = m + (1 - b1) * (g - m)
        v = b2 * st.get("exp_avg_sq", np.zeros_like(p)) + (1 - b2) * g * g
        st["exp_avg"], st["exp_avg_sq"] = m, v
        denom = np.sqrt(v / (1 - b2**t)) + h["eps"]
        p = p - h["lr"] * (1 - mu) / (1 - mu_product) * g / denom
        return p - h["lr"] * mu_next / (1 - mu_product * mu_next) * m / denom


class Adadelta(_Ref):
    defaults = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=0)

    def _step(self, p, g):
        h, st = self.hp, self.state
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        rho, eps = h["rho"], h["eps"]
        sq = rho * st.get("square_avg", np.zeros_like(p)) + (1 - rho) * g * g
        acc = st.get("acc_delta", np.zeros_like(p))
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        st["square_avg"], st["acc_delta"] = sq, rho * acc + (1 - rho) * delta * delta
        return p - h["lr"] * delta


BY_NAME = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "nadam": NAdam,
    "adadelta": Adadelta,
}
