"""Every optimizer and option against a float64 numpy transcription of torch.optim's formulas
(optim_reference.py), with gradients from 1e-10 to 1: for the small ones eps is as large as the
gradient's scale, so a misplaced or mis-scaled eps, a lost bias correction or a dropped term
(centered RMSprop's - avg^2) changes those updates by tens of percent, far above float32
rounding. Runs without PyTorch; when it is installed, the reference itself is checked against
torch on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import nncore._core as core

import optim_reference as oref

# (nncore name, hyper-parameters); the same names as the reference classes take
CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.1, "momentum": 0.8, "nesterov": 1, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.1, "momentum": 0.5, "maximize": 1}),
    ("adagrad", {"lr": 0.01}),
    ("adagrad", {"lr": 0.01, "eps": 1e-8}),
    (
        "adagrad",
        {
            "lr": 0.01,
            "lr_decay": 0.05,
            "weight_decay": 0.02,
            "initial_accumulator_value": 1e-16,
            "eps": 1e-9,
        },
    ),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-7}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 0.01, "centered": 1, "alpha": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": 1, "momentum": 0.5, "alpha": 0.3}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "eps": 1e-9, "beta1": 0.3, "beta2": 0.99}),
    ("adam", {"lr": 0.01, "amsgrad": 1}),
    ("adam", {"lr": 0.01, "weight_decay": 1e-6}),
    ("adam", {"lr": 0.01, "weight_decay": 1e-6, "decoupled_weight_decay": 1}),
    ("adam", {"lr": 0.01, "maximize": 1}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "amsgrad": 1, "weight_decay": 0.1}),
    ("nadam", {"lr": 0.01}),
    ("nadam", {"lr": 0.01, "momentum_decay": 0.01, "eps": 1e-9}),
    ("nadam", {"lr": 0.01, "weight_decay": 1e-6}),
    ("nadam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": 1}),
    ("adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.7, "eps": 1e-8}),
    ("adadelta", {"weight_decay": 0.01, "maximize": 1}),
]
STEPS = 25


def _ids(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in sorted(case[1].items()))


def _problem(n=4099, seed=0):
    """w0 and a gradient sequence: each element has its own scale 10^U(-10, 0) and a mean
    that persists across steps (so momentum and centering have something to track)."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(n).astype(np.float32)
    scale = 10.0 ** rng.uniform(-10, 0, n)
    mean = rng.standard_normal(n)
    grads = [((mean + rng.standard_normal(n)) * scale).astype(np.float32) for _ in range(STEPS)]
    return w0, grads, scale


def _run_nncore(name, hp, w0, grads):
    p = w0.copy()
    opt = core.make_optimizer(name, {k: float(v) for k, v in hp.items()})
    for g in grads:
        info = opt.step(p, g.copy())
        assert info["finite"] and not info["skipped"]
    return p


def _run_reference(name, hp, w0, grads):
    p = w0.astype(np.float64)
    ref = oref.BY_NAME[name](**hp)
    for g in grads:
        p = ref.step(p, g)
    return p


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_float64_reference_with_eps_sized_gradients(case):
    name, hp = case
    w0, grads, scale = _problem()
    got = _run_nncore(name, hp, w0, grads).astype(np.float64)
    want = _run_reference(name, hp, w0, grads)
    moved, moved_ref = got - w0, want - w0
    # float32 rounding: a few ulps of w per step, and a relative error of the step's terms
    tol = 2e-4 * np.abs(moved_ref) + STEPS * 2.4e-7 * np.maximum(np.abs(w0), np.abs(want))
    bad = np.abs(moved - moved_ref) > tol
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} parameters off; e.g. grad scale {scale[bad][:3]}, "
        f"moved {moved[bad][:3]}, reference {moved_ref[bad][:3]}"
    )
    # The test can see eps: the eps-sized gradients moved their weights by much more than the
    # tolerance (for SGD such steps vanish under w's ulp; its small-gradient cases are eps-free).
    small = (scale < 1e-7) & (scale > 1e-9)
    if name == "adadelta":
        # Adadelta's eps sets the step's size itself (sqrt(eps) / sqrt(eps + E[g^2])): it shows
        # where g^2 is near eps; far below, the step is g and vanishes under w's ulp.
        eps = hp.get("eps", 1e-6)
        small = (scale > 0.1 * np.sqrt(eps)) & (scale < 10 * np.sqrt(eps))
    if name != "sgd":
        seen = np.abs(moved_ref[small]) > 10 * tol[small]
        assert seen.mean() > 0.9, seen.mean()


@pytest.mark.parametrize(
    "name,hp,broken",
    [
        ("adam", {"lr": 0.01}, {"eps": 1e-5}),  # eps 1000x too large
        ("adagrad", {"lr": 0.01}, {"eps": 1e-7}),
        ("rmsprop", {"lr": 0.01, "centered": 1, "alpha": 0.9}, {"centered": 0}),
        ("nadam", {"lr": 0.01}, {"eps": 1e-5}),
        ("adadelta", {}, {"eps": 1e-4}),
        ("adadelta", {}, {"rho": 0.8}),
    ],
)
def test_the_comparison_detects_eps_and_centering(name, hp, broken):
    """The tolerance above is tight enough: the reference with a planted change (eps 1000x,
    centering dropped) differs from nncore on many parameters."""
    w0, grads, _ = _problem()
    got = _run_nncore(name, hp, w0, grads).astype(np.float64)
    wrong = _run_reference(name, {**hp, **broken}, w0, grads)
    want = _run_reference(name, hp, w0, grads)
    tol = 2e-4 * np.abs(want - w0) + STEPS * 2.4e-7 * np.abs(w0)
    assert (np.abs(got - wrong) > tol).mean() > 0.2


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_reference_matches_torch(case):
    """The transcription is torch's rule: same inputs, same result within float32 rounding."""
    torch = pytest.importorskip("torch")
    name, hp = case
    w0, grads, _ = _problem(n=1031, seed=1)
    kw = dict(hp)
    tname = {
        "sgd": "SGD",
        "adagrad": "Adagrad",
        "rmsprop": "RMSprop",
        "adam": "Adam",
        "adamw": "AdamW",
        "nadam": "NAdam",
        "adadelta": "Adadelta",
    }[name]
    if "beta1" in kw or "beta2" in kw:
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    if name == "adam" and kw.pop("decoupled_weight_decay", 0):
        tname = "AdamW"
    for flag in ("nesterov", "centered", "amsgrad", "maximize", "decoupled_weight_decay"):
        if flag in kw:
            kw[flag] = bool(kw[flag])
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam's mu_product: float64, as in the reference
    try:
        tp = torch.nn.Parameter(torch.from_numpy(w0.astype(np.float64)))
        topt = getattr(torch.optim, tname)([tp], foreach=False, **kw)
        for g in grads:
            tp.grad = torch.from_numpy(g.astype(np.float64))
            topt.step()
    finally:
        torch.set_default_dtype(before)
    want = _run_reference(name, hp, w0, grads)
    np.testing.assert_allclose(tp.detach().numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "clip", [{"clipnorm": 5.0}, {"clipvalue": 0.1}, {"clipnorm": 5.0, "clipvalue": 0.1}]
)
def test_clipping_matches_the_reference(clip):
    """torch's clip_grad_norm_ (coefficient max_norm / (norm + 1e-6), at most 1), then
    clip_grad_value_, before the update; the norm reported is the one before clipping."""
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(300).astype(np.float32)
    grads = [(rng.standard_normal(300) * 2).astype(np.float32) for _ in range(8)]
    p = w0.copy()
    # SGD: its step is linear in the gradient, so any change of the clipping shows
    opt = core.make_optimizer("sgd", {"lr": 0.01, "momentum": 0.9, **clip})
    ref, want = oref.BY_NAME["sgd"](lr=0.01, momentum=0.9), w0.astype(np.float64)
    for g in grads:
        info = opt.step(p, g.copy())
        g64 = g.astype(np.float64)
        norm = np.linalg.norm(g64)
        assert info["grad_norm"] == pytest.approx(norm, rel=1e-12)
        if "clipnorm" in clip:
            g64 = g64 * min(1.0, clip["clipnorm"] / (norm + 1e-6))
        if "clipvalue" in clip:
            g64 = np.clip(g64, -clip["clipvalue"], clip["clipvalue"])
        want = ref.step(want, g64)
    np.testing.assert_allclose(p, want, rtol=1e-5, atol=1e-6)
