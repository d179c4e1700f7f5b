"""Loss kernels: float64 references, finite differences, torch, errors, ISA/thread bitwise."""

import numpy as np
import pytest

from nncore import _core as core

LOSSES = ["mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "poisson"]


def ref_loss(name, p, t, w=None, delta=1.0):
    """Mean loss in float64; t is int labels (n,) for cross_entropy with labels."""
    p = np.asarray(p, np.float64)
    n, k = p.shape
    if name == "cross_entropy":
        m = p.max(1, keepdims=True)
        lse = m + np.log(np.exp(p - m).sum(1, keepdims=True))
        if t.ndim == 1:
            t = np.eye(k)[t]
        per = (np.asarray(t, np.float64) * (lse - p)).sum(1)
        return (per * (1 if w is None else w)).sum() / n
    t = np.asarray(t, np.float64)
    d = p - t
    if name == "mse":
        l = d * d
    elif name == "mae":
        l = np.abs(d)
    elif name == "huber":
        l = np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
    elif name == "binary_cross_entropy":
        l = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    elif name == "poisson":
        l = np.exp(p) - p * t + np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t
    if w is not None:
        l = l * w[:, None]
    return l.sum() / (n * k)


def make(name, n, k, rng, kind="float"):
    p = (rng.standard_normal((n, k)) * 2).astype(np.float32)
    if name == "cross_entropy":
        if kind == "labels":
            return p, rng.integers(0, k, n).astype(np.int64)
        if kind == "onehot":
            return p, np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
        t = rng.random((n, k)).astype(np.float32)
        return p, (t / t.sum(1, keepdims=True)).astype(np.float32)
    if name == "binary_cross_entropy":
        return p, (rng.random((n, k)) < 0.5).astype(np.float32)
    if name == "poisson":  # counts, zeros included
        return p / 2, rng.poisson(np.exp(p / 2)).astype(np.float32)
    t = (p + rng.standard_normal((n, k)) * 1.5).astype(np.float32)
    return p, t


CASES = [(l, "float") for l in LOSSES] + [("cross_entropy", "labels"), ("cross_entropy", "onehot")]


@pytest.mark.parametrize("name,kind", CASES)
@pytest.mark.parametrize("n", [1, 7, 33, 1000])
@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_gradient(name, kind, n, weighted):
    rng = np.random.default_rng(n)
    k = 3 if name != "cross_entropy" else 10
    p, t = make(name, n, k, rng, kind)
    w = rng.random(n).astype(np.float32) * 2 if weighted else None
    wd = None if w is None else w.astype(np.float64)
    val, grad = core.loss(name, p, t, w)
    ref = ref_loss(name, p, t, wd)
    assert val == pytest.approx(ref, rel=1e-6, abs=1e-9)
    # central differences of the float64 reference, one coordinate at a time (subset for speed)
    pd = p.astype(np.float64)
    idx = rng.choice(p.size, size=min(p.size, 40), replace=False)
    h = 1e-6
    for flat in idx:
        i, j = divmod(int(flat), k)
        if (
            name in ("mae", "huber")
            and min(abs(pd[i, j] - t[i, j]), abs(abs(pd[i, j] - t[i, j]) - 1)) < 1e-4
        ):
            continue
        e = np.zeros_like(pd)
        e[i, j] = h
        num = (ref_loss(name, pd + e, t, wd) - ref_loss(name, pd - e, t, wd)) / (2 * h)
        assert grad[i, j] == pytest.approx(num, rel=1e-4, abs=1e-7), (i, j)


@pytest.mark.parametrize("k", [2, 10, 64, 65, 100])
@pytest.mark.parametrize("kind", ["labels", "float"])
def test_cross_entropy_rows_do_not_depend_on_their_neighbours(k, kind):
    """The softmax cross-entropy runs up to 64 outputs several rows at a time (one vector lane
    per row) and wider ones row by row: a row's gradient is bitwise the same wherever it sits
    (first or last lane, the short last block), and the value matches float64 at every width."""
    rng = np.random.default_rng(k)
    n = 37  # blocks of several rows and a short one
    p, t = make("cross_entropy", n, k, rng, kind)
    p[3] = 80.0  # a row whose exps span the float range: saturated probabilities
    p[5, 0] = -90.0
    w = rng.random(n).astype(np.float32) + 0.5
    val, grad = core.loss("cross_entropy", p, t, w)
    assert val == pytest.approx(ref_loss("cross_entropy", p, t, w.astype(np.float64)), rel=1e-6)
    order = rng.permutation(n)
    _, grad_perm = core.loss("cross_entropy", p[order], t[order], w[order])
    assert grad_perm.tobytes() == grad[order].tobytes()


def test_mae_gradient_zero_at_zero():
    p = np.array([[1.0, 2.0]], np.float32)
    _, g = core.loss("mae", p, p.copy())
    assert (g == 0).all()


def test_huber_delta():
    p = np.array([[0.0, 0.0, 0.0]], np.float32)
    t = np.array([[0.5, 3.0, -3.0]], np.float32)
    v, g = core.loss("huber", p, t, None, 2.0)
    assert v == pytest.approx(ref_loss("huber", p, t, delta=2.0))
    np.testing.assert_allclose(g, [[-0.5 / 3, -2.0 / 3, 2.0 / 3]], rtol=1e-6)


def test_extreme_logits_are_finite():
    p = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], np.float32)
    v, g = core.loss("cross_entropy", p, np.array([1, 1]))
    assert np.isfinite(v) and np.isfinite(g).all() and v == pytest.approx(1000.0)
    v, g = core.loss("binary_cross_entropy", p, (p > 0).astype(np.float32))
    assert np.isfinite(v) and np.isfinite(g).all()


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    for name, kind in CASES:
        k = 10 if name == "cross_entropy" else 4
        p, t = make(name, 64, k, rng, kind)
        tp = torch.tensor(p, requires_grad=True)
        tt = torch.tensor(t)
        if name == "mse":
            l = F.mse_loss(tp, tt)
        elif name == "mae":
            l = F.l1_loss(tp, tt)
        elif name == "huber":
            l = F.huber_loss(tp, tt, delta=1.0)
        elif name == "binary_cross_entropy":
            l = F.binary_cross_entropy_with_logits(tp, tt)
        elif name == "poisson":  # torch leaves out the constant y·log(y) - y
            l = F.poisson_nll_loss(tp, tt, log_input=True, full=False)
            l = l + (torch.xlogy(tt, tt) - tt).mean()
        else:
            l = F.cross_entropy(tp, tt)
        l.backward()
        v, g = core.loss(name, p, t)
        assert v == pytest.approx(l.item(), rel=1e-5), name
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-5, atol=1e-8, err_msg=name)


def test_weighted_against_torch_reduction_none():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    p, y = make("cross_entropy", 50, 10, rng, "labels")
    w = rng.random(50).astype(np.float32)
    tp = torch.tensor(p, requires_grad=True)
    l = (
        torch.nn.functional.cross_entropy(tp, torch.tensor(y), reduction="none") * torch.tensor(w)
    ).sum() / 50
    l.backward()
    v, g = core.loss("cross_entropy", p, y, w)
    assert v == pytest.approx(l.item(), rel=1e-5)
    np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_bitwise_across_isas_and_threads(restore_runtime):
    rng = np.random.default_rng(7)
    res = {}
    data = {c: make(c[0], 5000, 10, rng, c[1]) for c in CASES}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for threads in (1, 2, 3, 5, 7, 16):
            core.set_num_threads(threads)
            res[(isa, threads)] = [core.loss(c[0], *data[c]) for c in CASES]
    base = res[("scalar", 1)]
    for key, out in res.items():
        for (v0, g0), (v1, g1) in zip(base, out):
            assert v0 == v1 and np.array_equal(g0.view(np.uint32), g1.view(np.uint32)), key


def test_bad_labels_and_names():
    p = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="row 2"):
        core.loss("cross_entropy", p, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="row 0"):
        core.loss("cross_entropy", p, np.array([-1, 1, 2]))
    with pytest.raises(ValueError, match="row 1"):
        core.loss("cross_entropy", p, np.array([0, 2**40, 2]))
    with pytest.raises(ValueError, match="unknown loss"):
        core.loss("hinge", p, p)


@pytest.mark.parametrize(
    "name,pred,target",
    [
        # a saturated softmax: the other classes' probabilities are about e^-95 ≈ 5e-42
        ("cross_entropy", [[95.0, 0.0, 0.5], [0.0, 96.0, 0.0]], [0, 1]),
        ("mse", [[1e-20, 2.0], [3.0, 0.0]], [[1e-20 + 1e-39, 2.0], [3.0, 5e-39]]),
        ("binary_cross_entropy", [[-110.0, 120.0]], [[0.0, 1.0]]),
    ],
)
def test_loss_gradients_have_no_subnormals(name, pred, target):
    # Subnormal gradients would make every GEMM that reads them take microcode assists on Intel
    # (90-140x slower); they are flushed to zero with their sign, and nothing else changes.
    pred = np.asarray(pred, np.float32)
    target = np.asarray(target, np.int32 if name == "cross_entropy" else np.float32)
    value, grad = core.loss(name, pred, target)
    tiny = np.finfo(np.float32).tiny
    assert not np.any((grad != 0) & (np.abs(grad) < tiny)), grad
    assert np.isfinite(value)
    # the normal entries are the float64 reference's, the flushed ones were below tiny there
    ref = _reference_grad(name, pred.astype(np.float64), target)
    normal = np.abs(ref) >= tiny
    np.testing.assert_allclose(grad[normal], ref[normal], rtol=1e-5)
    assert np.all(np.abs(ref[~normal]) < tiny) and (~normal).any()


def _reference_grad(name, z, t):
    n, k = z.shape
    if name == "cross_entropy":
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), t] -= 1.0
        return p / n
    if name == "mse":
        return 2.0 * (z - t) / (n * k)
    s = 1.0 / (1.0 + np.exp(-z))
    return (s - t) / (n * k)
