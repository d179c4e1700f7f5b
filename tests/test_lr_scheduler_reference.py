"""Every learning-rate schedule against its closed form (the formulas of torch.optim.lr_scheduler's
documentation, written out in Python), without PyTorch: the lr after each of 100 steps, and
OneCycleLR's momentum. Parity with torch itself stays in test_lr_scheduler.py."""

from __future__ import annotations

import math

import pytest

import nncore.lr_scheduler as lrs
import nncore.optim as optim

LR0 = 0.1


def _cos(start, end, pct):
    return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))


def _warm_restarts(t, T_0, T_mult=1, eta_min=0.0):
    T_i, T_cur = T_0, t
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + (LR0 - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


def _one_cycle(t, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
               three_phase=False, anneal="cos"):  # fmt: skip
    initial = max_lr / div_factor
    low = initial / final_div_factor
    f = _cos if anneal == "cos" else (lambda a, b, p: (b - a) * p + a)
    if three_phase:
        ends = [pct_start * total_steps - 1, 2 * pct_start * total_steps - 2, total_steps - 1]
        values = [(initial, max_lr), (max_lr, initial), (initial, low)]
    else:
        ends = [pct_start * total_steps - 1, total_steps - 1]
        values = [(initial, max_lr), (max_lr, low)]
    start = 0.0
    for end, (a, b) in zip(ends, values):
        if t <= end or end == ends[-1]:
            return f(a, b, (t - start) / (end - start))
        start = end
    raise AssertionError


def _one_cycle_momentum(t, total_steps, pct_start=0.3, base=0.85, top=0.95):
    end1 = pct_start * total_steps - 1
    if t <= end1:
        return _cos(top, base, t / end1)
    return _cos(base, top, (t - end1) / (total_steps - 1 - end1))


# (name, kwargs, lr at step t)
CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, lambda t: LR0 * 0.5 ** (t // 7)),
    (
        "MultiStepLR",
        {"milestones": [10, 30, 30, 60], "gamma": 0.3},  # a repeated milestone counts twice
        lambda t: LR0 * 0.3 ** sum(m <= t for m in [10, 30, 30, 60]),
    ),
    ("ExponentialLR", {"gamma": 0.97}, lambda t: LR0 * 0.97**t),
    (
        "CosineAnnealingLR",
        {"T_max": 100, "eta_min": 1e-4},
        lambda t: 1e-4 + (LR0 - 1e-4) * (1 + math.cos(math.pi * t / 100)) / 2,
    ),
    (
        "CosineAnnealingWarmRestarts",
        {"T_0": 10, "T_mult": 2, "eta_min": 1e-5},
        lambda t: _warm_restarts(t, 10, 2, 1e-5),
    ),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}, lambda t: _warm_restarts(t, 7)),
    (
        "LinearLR",
        {"start_factor": 0.1, "total_iters": 20},
        lambda t: LR0 * (0.1 + (1 - 0.1) * min(t, 20) / 20),
    ),
    (
        "LinearLR",
        {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 50},
        lambda t: LR0 * (1.0 + (0.2 - 1.0) * min(t, 50) / 50),
    ),
    ("ConstantLR", {"factor": 0.5, "total_iters": 10}, lambda t: LR0 * (0.5 if t < 10 else 1)),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 101}, lambda t: _one_cycle(t, 0.2, 101)),
    (
        "OneCycleLR",
        {
            "max_lr": 0.2,
            "total_steps": 101,
            "anneal_strategy": "linear",
            "three_phase": True,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
            "pct_start": 0.25,
        },
        lambda t: _one_cycle(t, 0.2, 101, 0.25, 10.0, 100.0, True, "linear"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{'-'.join(sorted(c[1]))}")
def test_lr_follows_the_closed_form(case):
    name, kw, want = case
    opt = optim.SGD(lr=LR0, momentum=0.9)
    sched = getattr(lrs, name)(opt, **kw)
    for t in range(101):
        if t:
            sched.step()
        assert sched.get_last_lr()[0] == pytest.approx(want(t), rel=1e-9, abs=1e-15), t
        assert opt.lr == sched.get_last_lr()[0]
        if name == "OneCycleLR" and "three_phase" not in kw:
            assert opt.get_config()["momentum"] == pytest.approx(
                _one_cycle_momentum(t, 101), rel=1e-9
            ), t


def test_reduce_on_plateau_cuts_after_patience_and_waits_its_cooldown():
    opt = optim.SGD(lr=LR0)
    sched = lrs.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.02)
    # improves for 3 epochs, then flat: cut at the 3rd bad epoch (> patience); the cooldown
    # epoch counts no bad epoch, so the next cut comes 4 epochs later; never below min_lr
    lrs_seen = [(sched.step(m), sched.get_last_lr()[0])[1] for m in [3, 2, 1] + [1] * 12]
    want = [0.1] * 5 + [0.05] * 4 + [0.025] * 4 + [0.02] * 2
    assert lrs_seen == pytest.approx(want, rel=1e-12)
