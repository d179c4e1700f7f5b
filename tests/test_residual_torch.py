"""nc.Residual against PyTorch, a second opinion next to test_residual.py's float64 finite
differences: forward and every gradient of a torch mirror of the model (1e-5), blocks at the
start, of one layer, and BN+ReLU fused inside a block."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from test_residual import D, _data, _mlp

# ---------------------------------------------------------------- a torch mirror of the model
torch = pytest.importorskip("torch")


class _TorchBlock(torch.nn.Module):
    def __init__(self, body, proj):
        super().__init__()
        self.body, self.proj = body, proj

    def forward(self, x):
        return self.body(x) + (x if self.proj is None else self.proj(x))


def _torch_act(name):
    nn = torch.nn
    return {
        "linear": nn.Identity,
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "sigmoid": nn.Sigmoid,
        "elu": nn.ELU,
    }[name]()


def _mirror(layers, params, prefix, width, names, dtype):
    """A torch module of ``layers`` with nncore's weights; ``names`` gets nncore name -> torch
    parameter."""
    nn = torch.nn
    mods = []

    def param(name):
        p = nn.Parameter(torch.tensor(np.array(params[name]), dtype=dtype))
        names[name] = p
        return p

    for j, layer in enumerate(layers):
        name = f"{prefix}{j}"
        if isinstance(layer, nc.Dense):
            lin = nn.Linear(width, layer.units, dtype=dtype)
            lin.weight, lin.bias = param(f"{name}.weight"), param(f"{name}.bias")
            mods += [lin, _torch_act(layer.activation)]
            width = layer.units
        elif isinstance(layer, nc.BatchNorm):
            bn = nn.BatchNorm1d(width, eps=layer.eps, momentum=layer.momentum, dtype=dtype)
            bn.weight, bn.bias = param(f"{name}.weight"), param(f"{name}.bias")
            mods.append(bn)
        elif isinstance(layer, nc.Dropout):
            assert layer.rate == 0
        elif isinstance(layer, nc.Activation):
            mods.append(_torch_act(layer.activation))
        else:
            body, out = _mirror(layer.layers, params, f"{name}.body.", width, names, dtype)
            proj = None
            if f"{name}.proj.weight" in params:
                proj = nn.Linear(width, out, bias=False, dtype=dtype)
                proj.weight = param(f"{name}.proj.weight")
            mods.append(_TorchBlock(body, proj))
            width = out
    return nn.Sequential(*mods), width


def _check_against_torch(m, X, dout):
    out = m.forward(X, training=True)
    m.zero_grad()
    dx = m.backward(dout)
    grads = {k: v.copy() for k, v in m.gradients().items()}
    names: dict = {}
    tm, _ = _mirror(m.layers, m.parameters(), "", m.input_dim, names, torch.float32)
    tm.train()
    xt = torch.tensor(X, requires_grad=True)
    ot = tm(xt)
    (ot * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert set(grads) == set(names)
    for k, p in names.items():
        np.testing.assert_allclose(grads[k], p.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=k)


def test_forward_and_gradients_match_torch():
    m = _mlp()
    X = _data()
    dout = np.random.default_rng(1).normal(size=(32, 3)).astype(np.float32)
    _check_against_torch(m, X, dout)


def test_a_block_at_the_start_and_blocks_of_one_layer_match_torch():
    # the first layer's dx is skipped by the network: the block must still get its grads right
    m = nc.Sequential(
        [
            nc.Residual([nc.Dense(D, "relu")]),
            nc.Residual([nc.Residual([nc.Dense(4)])]),
            nc.Residual([nc.Dropout(0.0)], projection=True),
        ],
        input_dim=D,
        seed=3,
    )
    X = _data(seed=3)
    _check_against_torch(m, X, np.ones((32, 4), np.float32))


@pytest.mark.parametrize("rows", [32, 300])  # the fused backward masks first from 256 rows
def test_batchnorm_relu_fused_inside_a_block_matches_torch(rows):
    def build():
        return nc.Sequential(
            [
                nc.Residual([nc.Dense(8), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(D)]),
                nc.Residual([nc.BatchNorm(), nc.Activation("relu"), nc.Dense(4)]),
            ],
            input_dim=D,
            seed=5,
        )

    m = build()
    X = _data(n=rows, seed=5)
    dout = np.random.default_rng(6).normal(size=(rows, 4)).astype(np.float32)
    _check_against_torch(m, X, dout)
    m.engine.core.set_profiling(True)
    m.forward(X, training=True)
    assert "0.body.1.batchnorm+relu.forward" in m.engine.core.profile()
