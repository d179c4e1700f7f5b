"""to_torch / from_torch: every supported layer and activation, outputs equal within 1e-6 on
random inputs (evaluation mode, BatchNorm running statistics), round trips keep the bits."""

import numpy as np
import pytest

import nncore as nc

torch = pytest.importorskip("torch")

ACTS = [a for a in nc.layers.ACTIVATIONS]


def _trained(layers, seed=0):
    m = nc.Sequential(layers, input_dim=7, seed=seed)
    m.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, 7)).astype(np.float32)
    m.fit(X, X[:, :3] * 0.5, epochs=2, batch_size=32, verbose=0)  # moves BN statistics
    return m


def _out_torch(tm, X):
    tm.eval()
    with torch.no_grad():
        return tm(torch.from_numpy(X)).numpy()


@pytest.mark.parametrize("act", ACTS)
def test_every_activation_and_layer(act):
    alpha = {"leaky_relu": 0.2, "elu": 0.7}.get(act)
    m = _trained(
        [
            nc.Dense(16, act, alpha=alpha),
            nc.BatchNorm(momentum=0.2, eps=1e-4),
            nc.Activation("tanh"),
            nc.Dropout(0.3),
            nc.Dense(12, use_bias=False),
            nc.BatchNorm(affine=False),
            nc.Activation(act, alpha=alpha),
            nc.Dense(3),
        ]
    )
    X = np.random.default_rng(1).standard_normal((100, 7)).astype(np.float32)
    tm = m.to_torch()
    np.testing.assert_allclose(_out_torch(tm, X), m.predict(X), rtol=1e-6, atol=1e-6)
    back = nc.from_torch(tm, input_dim=7)
    for a, b in (
        (m.engine.core.params_array(), back.engine.core.params_array()),
        (m.engine.core.buffers_array(), back.engine.core.buffers_array()),
    ):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    assert [type(x).__name__ for x in back.layers] == [type(x).__name__ for x in m.layers]


def test_from_a_torch_model():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Linear(7, 10),
        torch.nn.GELU(),
        torch.nn.BatchNorm1d(10),
        torch.nn.Linear(10, 4),
        torch.nn.Softmax(dim=1),
    )
    tm.train()
    with torch.no_grad():
        for _ in range(3):
            tm(torch.randn(64, 7))  # running statistics away from 0/1
    m = nc.from_torch(tm, input_dim=7)
    X = np.random.default_rng(2).standard_normal((50, 7)).astype(np.float32)
    np.testing.assert_allclose(m.predict(X), _out_torch(tm, X), rtol=1e-6, atol=1e-6)
    assert m.layers[0].activation == "gelu" and m.layers[2].activation == "softmax"
    tm2 = m.to_torch()
    for a, b in zip(tm.state_dict().values(), tm2.state_dict().values()):
        if a.dtype == torch.float32:
            assert torch.equal(a, b)


@pytest.mark.parametrize(
    "mod,match",
    [
        (torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)), "no nncore equivalent"),
        (torch.nn.Sequential(torch.nn.Linear(7, 2), torch.nn.GELU(approximate="tanh")), "GELU"),
        (torch.nn.Linear(7, 2), "Sequential"),
    ],
)
def test_unsupported(mod, match):
    with pytest.raises(ValueError, match=match):
        nc.from_torch(mod, input_dim=7)


def test_input_dim_is_read_off_the_first_module():
    seqs = [
        torch.nn.Sequential(torch.nn.Linear(7, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)),
        torch.nn.Sequential(torch.nn.BatchNorm1d(7), torch.nn.Linear(7, 2)).eval(),
        torch.nn.Sequential(torch.nn.LayerNorm(7), torch.nn.Linear(7, 2)),
    ]
    X = np.random.default_rng(4).standard_normal((9, 7)).astype(np.float32)
    for seq in seqs:
        m = nc.from_torch(seq)
        assert m.input_dim == 7
        np.testing.assert_allclose(m.predict(X), _out_torch(seq, X), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="input_dim=5, but Linear.*takes 7 features"):
        nc.from_torch(seqs[0], 5)
    with pytest.raises(ValueError, match="give input_dim"):
        nc.from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(7, 2)))
    assert (
        nc.from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(7, 2)), 7).input_dim == 7
    )


def test_to_torch_needs_a_built_model():
    with pytest.raises(RuntimeError, match="built"):
        nc.Sequential([nc.Dense(2)]).to_torch()
