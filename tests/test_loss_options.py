"""Losses with options, in the core: cross_entropy(label_smoothing, class_weight), class weights
for binary_cross_entropy, focal (multi-class) and binary_focal (torchvision's sigmoid focal loss),
quantile (pinball). Values and gradients against float64 finite differences of the core's own
loss, against PyTorch (torch ops written out where torch has no such loss) within 1e-5, bitwise
over threads and ISAs, the model API, save/load and the errors."""

import numpy as np
import pytest

import nncore as nc
from nncore import _core as core


def _data(n=37, k=5, seed=0, labels=True):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, k)) * 2).astype(np.float32)
    if labels:
        t = rng.integers(0, k, n).astype(np.int32)
    else:
        t = rng.uniform(0, 1, (n, k)).astype(np.float32)
    return z, t


# (loss, options, targets are labels)
CASES = [
    ("cross_entropy", {"label_smoothing": 0.1}, True),
    ("cross_entropy", {"label_smoothing": 0.2, "class_weight": [1, 2, 0.5, 3, 1]}, True),
    ("cross_entropy", {"class_weight": [1, 2, 0.5, 3, 1]}, True),
    ("cross_entropy", {"label_smoothing": 0.3, "class_weight": [1, 2, 0.5, 3, 1]}, False),
    ("binary_cross_entropy", {"class_weight": [1, 2, 0.5, 3, 1]}, False),
    ("focal", {"gamma": 2.0}, True),
    ("focal", {"gamma": 0.5, "class_weight": [1, 2, 0.5, 3, 1]}, True),
    ("focal", {"gamma": 0.0}, True),
    ("binary_focal", {}, False),
    ("binary_focal", {"gamma": 1.5, "alpha": -1.0}, False),
    ("binary_focal", {"gamma": 3.0, "alpha": 0.7, "class_weight": [1, 2, 0.5, 3, 1]}, False),
    ("quantile", {"quantiles": [0.1]}, False),
    ("quantile", {"quantiles": [0.1, 0.25, 0.5, 0.75, 0.9]}, False),
]


def _ids(c):
    return c[0] + "".join(f"-{k}" for k in sorted(c[1])) + ("-labels" if c[2] else "-matrix")


def _torch_loss(torch, name, opts, z, t):
    F = torch.nn.functional
    cw = opts.get("class_weight")
    w = None if cw is None else torch.tensor(cw, dtype=torch.float64)
    if name == "cross_entropy":
        return F.cross_entropy(z, t, weight=w, label_smoothing=opts.get("label_smoothing", 0.0))
    if name == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(z, t, weight=w)
    g = opts.get("gamma", 2.0)
    if name == "focal":
        logp = torch.log_softmax(z, 1).gather(1, t[:, None])[:, 0]
        wy = 1.0 if w is None else w[t]
        return -(wy * (1 - logp.exp()) ** g * logp).mean()
    if name == "binary_focal":  # torchvision.ops.sigmoid_focal_loss, written out
        a = opts.get("alpha", 0.25)
        p = torch.sigmoid(z)
        ce = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * (1 - p_t) ** g
        if a >= 0:
            loss = (a * t + (1 - a) * (1 - t)) * loss
        if w is not None:
            loss = loss * w
        return loss.mean()
    q = torch.tensor(opts["quantiles"], dtype=torch.float64)
    d = t - z
    return torch.maximum(q * d, (q - 1) * d).mean()


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    name, opts, labels = case
    z, t = _data(labels=labels)
    if name == "quantile":
        t = (t * 4 - 2).astype(np.float32)
    v, g = core.loss(name, z, t, options=opts)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(t, dtype=torch.int64 if labels else torch.float64)
    ref = _torch_loss(torch, name, opts, zt, tt)
    ref.backward()
    assert v == pytest.approx(ref.detach().item(), rel=1e-5, abs=1e-7)
    gref = zt.grad.numpy()
    np.testing.assert_allclose(g, gref, rtol=1e-5, atol=1e-5 * np.abs(gref).max())


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "quantile"], ids=_ids)
def test_gradient_is_the_finite_difference_in_float64(case):
    # central differences of the core's float64 loss value at dyadic offsets of the float32 logits
    name, opts, labels = case
    z, t = _data(n=6, labels=labels, seed=3)
    _, g = core.loss(name, z, t, options=opts)
    h = 2.0**-9
    fd = np.zeros_like(g, dtype=np.float64)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        fd[idx] = (
            core.loss(name, zp, t, options=opts)[0] - core.loss(name, zm, t, options=opts)[0]
        ) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-4 * np.abs(fd).max())


def test_quantile_gradient_and_several_quantiles():
    p = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]], np.float32)
    t = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], np.float32)
    v, g = core.loss("quantile", p, t, options={"quantiles": [0.1, 0.5, 0.9]})
    # under-prediction (row 0) costs q, over-prediction (row 1) costs 1 - q; mean over 6
    assert v == pytest.approx((0.1 + 0.5 + 0.9 + 0.9 + 0.5 + 0.1) / 6)
    np.testing.assert_allclose(g, np.float32([[-0.1, -0.5, -0.9], [0.9, 0.5, 0.1]]) / 6, rtol=1e-6)


def test_label_smoothing_zero_and_unit_weights_are_the_plain_loss():
    z, y = _data(n=300)
    a = core.loss("cross_entropy", z, y)
    b = core.loss("cross_entropy", z, y, options={"label_smoothing": 0.0})
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    c = core.loss("cross_entropy", z, y, options={"class_weight": [1.0] * 5})
    assert c[0] == pytest.approx(a[0], rel=1e-8)  # the double path vs the float one
    np.testing.assert_allclose(c[1], a[1], rtol=1e-6, atol=1e-9)
    # focal with gamma 0 is cross-entropy
    f = core.loss("focal", z, y, options={"gamma": 0.0})
    assert f[0] == pytest.approx(a[0], rel=1e-8)  # double softmax vs the float path
    np.testing.assert_allclose(f[1], a[1], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bitwise_across_isas_and_threads(case, restore_runtime):
    name, opts, labels = case
    z, t = _data(n=9000, labels=labels, seed=5)  # several row chunks, parallel
    sw = np.random.default_rng(6).uniform(0.5, 2, 9000).astype(np.float32)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for threads in (1, 2, 3):
            core.set_num_threads(threads)
            res[(isa, threads)] = core.loss(name, z, t, sw, options=opts)
    v0, g0 = next(iter(res.values()))
    for key, (v, g) in res.items():
        assert v == v0 and np.array_equal(g.view(np.uint32), g0.view(np.uint32)), key


@pytest.mark.parametrize(
    "name,opts,y_kind",
    [
        ("cross_entropy", {"label_smoothing": 0.1}, "labels"),
        ("focal", {"gamma": 2.0}, "labels"),
        ("binary_focal", {"alpha": 0.5}, "multi"),
        ("binary_cross_entropy", {"output_weight": [1, 3, 1]}, "multi"),
        ("quantile", {"quantiles": [0.1, 0.5, 0.9]}, "one"),
    ],
)
def test_model_fit_save_load(tmp_path, name, opts, y_kind):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4)).astype(np.float32)
    y = {
        "labels": rng.integers(0, 3, 120),
        "multi": (rng.uniform(size=(120, 3)) < 0.4).astype(np.float32),
        "one": rng.standard_normal(120).astype(np.float32),
    }[y_kind]
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(3)], input_dim=4, seed=1)
    m.compile(optimizer="adam", loss=name, loss_options=opts)
    h = m.fit(X, y, epochs=3, batch_size=32, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    m.save(tmp_path / "m.nnc")
    back = nc.load(tmp_path / "m.nnc")
    assert back.loss == name and back.loss_options == m.loss_options
    assert back.evaluate(X, y)["loss"] == m.evaluate(X, y)["loss"]


def test_quantile_outputs_cover_their_quantiles():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 2)).astype(np.float32)
    y = (X[:, 0] + rng.standard_normal(2000)).astype(np.float32)  # noise sd 1 around x0
    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(3)], input_dim=2, seed=0)
    m.compile(
        optimizer=nc.optim.Adam(lr=0.02),
        loss="quantile",
        loss_options={"quantiles": [0.1, 0.5, 0.9]},
    )
    m.fit(X, y, epochs=30, batch_size=100, verbose=0)
    q = m.predict(X)
    cover = (y[:, None] <= q).mean(0)
    np.testing.assert_allclose(cover, [0.1, 0.5, 0.9], atol=0.04)


@pytest.mark.parametrize(
    "loss,opts,match",
    [
        ("cross_entropy", {"label_smoothing": 1.5}, "label_smoothing"),
        ("cross_entropy", {"gamma": 2}, "no option 'gamma'"),
        ("binary_cross_entropy", {"output_weight": [1, 2]}, "output_weight has 2 values"),
        ("binary_cross_entropy", {"output_weight": [1, -2, 1]}, "output_weight"),
        ("focal", {"gamma": -1}, "gamma"),
        ("binary_focal", {"alpha": 1.5}, "alpha"),
        ("quantile", {}, "quantiles"),
        ("quantile", {"quantiles": [0.5, 1.0]}, "quantiles"),
        ("quantile", {"quantiles": [0.1, 0.5]}, "one per output"),
        ("mse", {"output_weight": [1, 1, 1]}, "no option"),
        ("mse", "x", "dict"),
    ],
)
def test_bad_options(loss, opts, match):
    m = nc.Sequential([nc.Dense(3)], input_dim=2)
    with pytest.raises(ValueError, match=match):
        m.compile(loss=loss, loss_options=opts)


def test_focal_needs_labels():
    m = nc.Sequential([nc.Dense(3)], input_dim=2).compile(loss="focal")
    with pytest.raises(ValueError):
        m.evaluate(np.zeros((4, 2), np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0]])
    with pytest.raises(ValueError, match="focal: needs integer labels"):
        core.loss("focal", np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
