"""Every layer kind against a float64 numpy reference (reference.layers_forward), without PyTorch:
forward values, d/dx and every parameter's gradient against central finite differences, at odd
batch sizes (1 where the layer allows it, 7, 33), with only the first or the last row carrying
a gradient, and gradient accumulation per parameter (two backward() = twice one; zero_grad)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

import reference as ref

D = 3  # numeric input width
ACTIVATIONS = [
    "linear", "relu", "leaky_relu", "elu", "selu", "gelu",
    "sigmoid", "tanh", "softplus", "silu", "softmax",
]  # fmt: skip


def _cases():
    c = {f"dense-{a}": lambda a=a: [nc.Dense(4, a)] for a in ACTIVATIONS}
    c["dense-leaky_relu-alpha"] = lambda: [nc.Dense(4, "leaky_relu", alpha=0.2)]
    c["dense-no-bias"] = lambda: [nc.Dense(4, "tanh", use_bias=False), nc.Dense(2)]
    c["activation-elu-alpha"] = lambda: [nc.Dense(4), nc.Activation("elu", alpha=0.5)]
    c["activation-gelu"] = lambda: [nc.Dense(4), nc.Activation("gelu"), nc.Dense(2)]
    c["batchnorm"] = lambda: [nc.Dense(4), nc.BatchNorm(), nc.Dense(2)]
    c["batchnorm-relu"] = lambda: [nc.Dense(4), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(2)]
    c["batchnorm-first"] = lambda: [nc.BatchNorm(), nc.Dense(2, "tanh")]
    c["dropout"] = lambda: [nc.Dense(5, "tanh"), nc.Dropout(0.5), nc.Dense(2)]
    c["residual"] = lambda: [nc.Dense(4, "tanh"), nc.Residual([nc.Dense(4, "relu"), nc.Dense(4)])]
    c["residual-projection"] = lambda: [nc.Residual([nc.Dense(5, "tanh")], projection=True)]
    c["residual-nested"] = lambda: [
        nc.Dense(4, "tanh"),
        nc.Residual(
            [nc.Dense(3, "tanh"), nc.Residual([nc.Dense(3, "silu"), nc.BatchNorm()]), nc.Dense(4)]
        ),
        nc.Dense(2),
    ]
    c["residual-bn-relu"] = lambda: [
        nc.Residual([nc.Dense(4), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(D)])
    ]
    c["embedding"] = lambda: [nc.Embedding(7, 2), nc.Dense(2, "tanh")]
    c["tabular"] = lambda: [
        nc.TabularInput(numeric=[3, 0], categorical={1: 5, 4: 3}, embed_dim={1: 2, 4: 3}),
        nc.Dense(3, "tanh"),
    ]
    return c


CASES = _cases()


def _has(layers, kind):
    return any(
        isinstance(x, kind) or (isinstance(x, nc.Residual) and _has(x.layers, kind)) for x in layers
    )


def _model(case, seed=0):
    layers = CASES[case]()
    width = 5 if case == "tabular" else D
    return nc.Sequential(layers, input_dim=width, seed=seed)


def _out_width(m):
    return m.forward(np.zeros((2, m.input_dim), np.float32)).shape[1]


def _inputs(case, n, seed=1):
    """X for the case: codes for the embeddings (every row different where it can be)."""
    rng = np.random.default_rng(seed)
    if case == "embedding":
        return rng.integers(0, 7, size=(n, D)).astype(np.float32)
    if case == "tabular":
        X = rng.normal(size=(n, 5)).astype(np.float32)
        X[:, 1], X[:, 4] = rng.integers(0, 5, n), rng.integers(0, 3, n)
        return X
    return rng.normal(size=(n, D)).astype(np.float32)


def _differentiable_columns(case, width):
    return {"embedding": [], "tabular": [3, 0]}.get(case, list(range(width)))


def _masks(case, m, n):
    """The dropout keep masks of the forward at step 0, read from a model of the layers up to
    and including the dropout (same seed: the mask is a function of seed, step, layer index and
    element, so it is the same in the whole model)."""
    if not _has(m.layers, nc.Dropout):
        return {}
    (j,) = [i for i, x in enumerate(m.layers) if isinstance(x, nc.Dropout)]
    head = nc.Sequential(CASES[case]()[: j + 1], input_dim=m.input_dim, seed=m.seed)
    out = head.forward(_inputs(case, n), training=True, step=0)
    return {str(j): out != 0}


def _check(case, n, R):
    m = _model(case)
    X = _inputs(case, n)
    if _has(m.layers, nc.BatchNorm) and n == 1:
        with pytest.raises(ValueError, match="more than one row"):
            m.forward(X, training=True, step=0)
        return
    masks = _masks(case, m, n)
    out = m.forward(X, training=True, step=0)
    m.zero_grad()
    dx = m.backward(R.astype(np.float32))
    P = {k: np.array(v, np.float64) for k, v in m.parameters().items()}
    x64 = X.astype(np.float64)

    def f():
        return float((ref.layers_forward(m.layers, x64, P, masks) * R).sum())

    want = ref.layers_forward(m.layers, x64, P, masks)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    cols = _differentiable_columns(case, X.shape[1])
    fd_x = np.zeros_like(x64)
    for c in cols:  # codes have no gradient: nncore returns 0 there
        for i in range(n):
            saved = x64[i, c]
            x64[i, c] = saved + 1e-6
            up = f()
            x64[i, c] = saved - 1e-6
            fd_x[i, c] = (up - f()) / 2e-6
            x64[i, c] = saved
    fds = {k: ref.numeric_grad(f, P[k]) for k in P}
    # one absolute floor for the whole model: a bias before batchnorm has a true gradient of 0
    # and float32 noise of the others' size
    floor = 1e-4 * max([np.abs(fd_x).max(), *(np.abs(g).max() for g in fds.values())])
    np.testing.assert_allclose(dx, fd_x, rtol=1e-4, atol=floor)
    for k, g in m.gradients().items():
        np.testing.assert_allclose(g, fds[k], rtol=1e-4, atol=floor, err_msg=k)


@pytest.mark.parametrize("n", [1, 7, 33])
@pytest.mark.parametrize("case", list(CASES))
def test_forward_and_gradients_match_float64_finite_differences(case, n):
    m = _model(case)
    R = np.random.default_rng(2).normal(size=(n, _out_width(m)))
    _check(case, n, R)


@pytest.mark.parametrize("row", [0, -1])
@pytest.mark.parametrize("case", list(CASES))
def test_the_first_and_the_last_row_reach_every_gradient(case, row):
    m = _model(case)
    R = np.zeros((7, _out_width(m)))
    R[row] = np.random.default_rng(3).normal(size=_out_width(m))
    _check(case, 7, R)


@pytest.mark.parametrize("case", ["batchnorm-relu", "residual-bn-relu"])
def test_fused_batchnorm_relu_from_256_rows(case):
    # the fused BN+ReLU backward takes its masked path from 256 rows on
    m = _model(case)
    _check(case, 301, np.random.default_rng(4).normal(size=(301, _out_width(m))))


@pytest.mark.parametrize("case", list(CASES))
def test_two_backwards_accumulate_twice_one_and_zero_grad_resets_all(case):
    m = _model(case)
    X = _inputs(case, 7)
    R = np.random.default_rng(5).normal(size=(7, _out_width(m))).astype(np.float32)
    m.forward(X, training=True, step=0)
    m.zero_grad()
    m.backward(R)
    once = {k: v.copy() for k, v in m.gradients().items()}
    assert once, "no parameters"
    for k, g in once.items():
        assert np.abs(g).max() > 0, f"{k}: no gradient to accumulate"
    m.backward(R)
    for k, g in m.gradients().items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-6, atol=1e-7, err_msg=k)
    m.zero_grad()
    for k, g in m.gradients().items():
        assert not g.any(), k


def test_dropout_drops_at_its_rate_and_backward_uses_the_forward_mask():
    rate = 0.3
    m = nc.Sequential([nc.Dropout(rate)], input_dim=80, seed=7)
    X = np.random.default_rng(0).uniform(0.5, 1.5, size=(50, 80)).astype(np.float32)
    out = m.forward(X, training=True, step=3)
    kept = out != 0
    # 4000 draws: the kept fraction is 0.7 within 4 standard deviations (0.029)
    assert abs(kept.mean() - (1 - rate)) < 4 * np.sqrt(rate * (1 - rate) / kept.size)
    np.testing.assert_allclose(out[kept], X[kept] / np.float32(1 - rate), rtol=1e-6)
    R = np.random.default_rng(1).normal(size=X.shape).astype(np.float32)
    dx = m.backward(R)
    np.testing.assert_allclose(dx, np.where(kept, R / np.float32(1 - rate), 0), rtol=1e-6)
    # the same step repeats the mask; another step draws a new one; evaluation keeps all
    np.testing.assert_array_equal(m.forward(X, training=True, step=3) != 0, kept)
    assert not np.array_equal(m.forward(X, training=True, step=4) != 0, kept)
    np.testing.assert_array_equal(m.forward(X), X)
