"""Every loss with every option (the core schema's list) against a float64 numpy closed form,
without PyTorch: the value from ``model.loss_fn`` to 1e-5 and its gradient against central
finite differences of the closed form. The forms follow torch's definitions (checked against
torch itself in test_loss_options.py and test_losses.py when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

import reference as ref

K = 4
CW = [1.0, 2.5, 0.5, 3.0]


def _log_softmax(z):
    m = z.max(1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))


def _log_sigmoid(z):
    return np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))


def closed_form(name, opts, z, t, sw=None):
    """The mean loss of logits/outputs z (n, k) for targets t, in float64."""
    n, k = z.shape
    cw = np.asarray(opts["class_weight"], np.float64) if "class_weight" in opts else None
    if name in ("mse", "mae", "huber", "poisson"):
        return ref.loss(name, z, t, sw, delta=opts.get("delta", 1.0))
    if name == "cross_entropy":
        logp = _log_softmax(z)
        e = opts.get("label_smoothing", 0.0)
        w = np.ones(k) if cw is None else cw
        if t.ndim == 1:  # labels: torch's weighted mean (sample weights scale rows only)
            s = 1.0 if sw is None else sw
            wy = w[t]
            nll = -(s * wy * logp[np.arange(n), t]).sum() / wy.sum()
            smooth = -(s * (w * logp).sum(1)).sum() / wy.sum() / k
            return (1 - e) * nll + e * smooth
        q = (1 - e) * t + e / k  # class probabilities: a plain mean over rows
        per = -(w * q * logp).sum(1)
        return float((per * (1.0 if sw is None else sw)).sum() / n)
    if name == "focal":
        logp = _log_softmax(z)[np.arange(n), t]
        wy = 1.0 if cw is None else cw[t]
        return float(-(wy * (1 - np.exp(logp)) ** opts.get("gamma", 2.0) * logp).mean())
    if name in ("binary_cross_entropy", "binary_focal"):
        ce = -(t * _log_sigmoid(z) + (1 - t) * _log_sigmoid(-z))
        if name == "binary_focal":  # torchvision's sigmoid_focal_loss
            p = 1 / (1 + np.exp(-z))
            p_t = p * t + (1 - p) * (1 - t)
            ce = ce * (1 - p_t) ** opts.get("gamma", 2.0)
            a = opts.get("alpha", 0.25)
            if a >= 0:
                ce = (a * t + (1 - a) * (1 - t)) * ce
        if cw is not None:
            ce = ce * cw
        return float(ce.mean())
    if name == "quantile":
        q = np.asarray(opts["quantiles"], np.float64)
        d = t - z
        return float(np.maximum(q * d, (q - 1) * d).mean())
    raise ValueError(name)


# (loss, options, targets: "labels", "probs", "unit" (in [0, 1]) or "real", sample weights)
CASES = [
    ("mse", {}, "real", False),
    ("mse", {}, "real", True),
    ("mae", {}, "real", False),
    ("huber", {}, "real", False),
    ("huber", {"delta": 0.5}, "real", False),
    ("huber", {"delta": 2.0}, "real", True),
    ("poisson", {}, "counts", False),
    ("cross_entropy", {}, "labels", False),
    ("cross_entropy", {}, "labels", True),
    ("cross_entropy", {}, "probs", False),
    ("cross_entropy", {"label_smoothing": 0.1}, "labels", False),
    ("cross_entropy", {"label_smoothing": 0.3}, "probs", False),
    ("cross_entropy", {"class_weight": CW}, "labels", False),
    ("cross_entropy", {"class_weight": CW}, "probs", False),
    ("cross_entropy", {"label_smoothing": 0.2, "class_weight": CW}, "labels", False),
    ("cross_entropy", {"label_smoothing": 0.3, "class_weight": CW}, "probs", False),
    ("binary_cross_entropy", {}, "unit", False),
    ("binary_cross_entropy", {"class_weight": CW}, "unit", False),
    ("focal", {}, "labels", False),
    ("focal", {"gamma": 0.0}, "labels", False),
    ("focal", {"gamma": 0.5, "class_weight": CW}, "labels", False),
    ("binary_focal", {}, "unit", False),
    ("binary_focal", {"gamma": 1.5, "alpha": -1.0}, "unit", False),
    ("binary_focal", {"gamma": 3.0, "alpha": 0.7, "class_weight": CW}, "unit", False),
    ("quantile", {"quantiles": [0.1, 0.25, 0.5, 0.9]}, "real", False),
    ("quantile", {"quantiles": [0.8]}, "real1", False),
]


def _ids(c):
    return "-".join([c[0], *(f"{k}" for k in sorted(c[1])), c[2]] + (["sw"] if c[3] else []))


def _data(targets, n=9, seed=0):
    rng = np.random.default_rng(seed)
    k = 1 if targets == "real1" else K
    z = (rng.standard_normal((n, k)) * 1.5).astype(np.float32)
    t = {
        "labels": lambda: rng.integers(0, K, n).astype(np.int64),
        "probs": lambda: rng.dirichlet(np.ones(K), n).astype(np.float32),
        "unit": lambda: rng.uniform(0, 1, (n, K)).astype(np.float32),
        "counts": lambda: rng.poisson(2.0, (n, K)).astype(np.float32),
        "real": lambda: (rng.standard_normal((n, K)) * 1.5).astype(np.float32),
        "real1": lambda: (rng.standard_normal((n, 1)) * 1.5).astype(np.float32),
    }[targets]()
    if targets == "labels":
        t[:K] = np.arange(K)  # every class present
    return z, t, rng.uniform(0.2, 2.0, n).astype(np.float32)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_value_and_gradient_match_the_closed_form(case):
    name, opts, targets, weighted = case
    z, t, sw = _data(targets)
    m = nc.Sequential([nc.Dense(z.shape[1])], input_dim=2, seed=0)
    if "class_weight" in opts and name.startswith("binary"):  # the core's class_weight list
        m.compile(optimizer="sgd", loss=name, loss_options=_as_output_weight(opts))
    elif "class_weight" in opts:  # deprecated for one release (fit(class_weight=) is the home)
        with pytest.warns(DeprecationWarning, match="class_weight"):
            m.compile(optimizer="sgd", loss=name, loss_options=opts)
    else:
        m.compile(optimizer="sgd", loss=name, loss_options=opts or None)
    sw = sw if weighted else None
    value, grad = m.loss_fn(z, t, sample_weight=sw)
    t64 = t if targets == "labels" else t.astype(np.float64)
    sw64 = None if sw is None else sw.astype(np.float64)
    z64 = z.astype(np.float64)
    want = closed_form(name, opts, z64, t64, sw64)
    assert value == pytest.approx(want, rel=1e-5, abs=1e-7)
    fd = ref.numeric_grad(lambda: closed_form(name, opts, z64, t64, sw64), z64)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-5 * np.abs(fd).max())


def _as_output_weight(opts):
    return {("output_weight" if k == "class_weight" else k): v for k, v in opts.items()}


def test_every_option_is_covered_and_its_documented_default_is_the_one_used():
    # the core's schema documents each option's default (and the Python docs are built from it);
    # the loss without the option must equal the loss with the documented value
    from nncore import _core

    covered = {(c[0], k) for c in CASES for k in c[1]}
    targets = {c[0]: c[2] for c in CASES}
    for kind in _core.schema()["losses"]:
        name = kind["name"]
        for key in [p["name"] for p in kind["params"]] + kind["lists"]:
            assert (name, key) in covered, f"{name}: option {key} has no case above"
        z, t, _ = _data(targets[name])
        m = nc.Sequential([nc.Dense(z.shape[1])], input_dim=2, seed=0)
        m.compile(
            optimizer="sgd",
            loss=name,
            loss_options={"quantiles": [0.8]} if name == "quantile" else None,
        )
        plain = m.loss_fn(z, t)
        for p in kind["params"]:
            m.compile(optimizer="sgd", loss=name, loss_options={p["name"]: p["default"]})
            explicit = m.loss_fn(z, t)
            assert explicit[0] == plain[0], (name, p["name"])
            np.testing.assert_array_equal(explicit[1], plain[1])
