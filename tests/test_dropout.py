"""Dropout: stateless Philox mask, inverted scaling, determinism across ISAs and threads."""

import numpy as np
import pytest

from nncore import _core as core


def test_philox_known_answers():
    # Random123 kat_vectors (Salmon et al., SC'11), philox4x32 with 10 rounds
    assert core.philox4x32_10([0, 0, 0, 0], [0, 0]) == [
        0x6627E8D5,
        0xE169C58D,
        0xBC57AC4C,
        0x9B00DBD8,
    ]
    assert core.philox4x32_10([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2) == [
        0x408F276D,
        0x41C83B0E,
        0xA20BC7C6,
        0x6D5451FD,
    ]
    assert core.philox4x32_10(
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]
    ) == [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]


def test_batched_philox_equals_scalar():
    start = 2**32 - 5  # crosses the low-word carry
    out = core.philox4x32_10_batch(37, start, 11, 12, [13, 14])
    for b in range(37):
        c = start + b
        assert list(out[4 * b : 4 * b + 4]) == core.philox4x32_10(
            [c & 0xFFFFFFFF, c >> 32, 11, 12], [13, 14]
        )


def mask_ref(n, rate, seed, step, layer):
    words = core.philox4x32_10_batch((n + 3) // 4, 0, step, layer, [seed & 0xFFFFFFFF, seed >> 32])
    return words[:n] >= np.uint32(int(np.floor(rate * 2.0**32)))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_kept_fraction_and_scaling(rate):
    n = 1_000_000
    x = np.ones(n, np.float32)
    y = core.dropout_forward(x, rate, 123, 4, 2)
    kept = y != 0
    p = 1 - rate
    assert abs(kept.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_equal(y[kept], np.float32(1 / (1 - rate)))
    assert abs(y.mean() - 1.0) < 4 * np.sqrt(rate / (1 - rate) / n)  # E[y] = x
    np.testing.assert_array_equal(kept, mask_ref(n, rate, 123, 4, 2))
    np.testing.assert_array_equal(kept, core.dropout_mask(n, rate, 123, 4, 2).astype(bool))


def test_backward_uses_forward_mask():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(10_007).astype(np.float32)
    g = rng.standard_normal(10_007).astype(np.float32)
    y = core.dropout_forward(x, 0.3, 9, 1, 0)
    dx = core.dropout_backward(g, 0.3, 9, 1, 0)
    np.testing.assert_array_equal(y != 0, dx != 0)
    np.testing.assert_array_equal(dx[dx != 0], (g * np.float32(1 / 0.7))[dx != 0])


def test_masks_differ_between_steps_layers_seeds():
    n = 4096
    base = core.dropout_mask(n, 0.5, 1, 0, 0)
    for other in [
        core.dropout_mask(n, 0.5, 1, 1, 0),
        core.dropout_mask(n, 0.5, 1, 0, 1),
        core.dropout_mask(n, 0.5, 2, 0, 0),
    ]:
        assert 0.4 < (base != other).mean() < 0.6


@pytest.mark.parametrize("n", [1, 7, 33, 1000, 300_001])
def test_same_mask_every_isa_and_thread_count(n, restore_runtime):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    res = {}
    for isa in core.supported_isas():
        core.set_isa(isa)
        for t in (1, 2, 3, 5, 7, 16):
            core.set_num_threads(t)
            res[(isa, t)] = core.dropout_forward(x, 0.25, 77, 3, 5)
    base = res[("scalar", 1)]
    for key, y in res.items():
        assert np.array_equal(base.view(np.uint32), y.view(np.uint32)), key


def test_layer_in_network():
    net = core.Network(50, [{"type": "dropout", "rate": 0.4}], 42)
    assert net.num_params == 0
    x = np.random.default_rng(0).standard_normal((64, 50)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x, False), x)  # eval: identity
    np.testing.assert_array_equal(net.backward(np.ones_like(x)), np.ones_like(x))
    y = net.forward(x, True)
    dx = net.backward(np.ones_like(x))
    keep = mask_ref(x.size, 0.4, 42, net.step, 0).reshape(x.shape)
    np.testing.assert_array_equal(y != 0, keep)
    np.testing.assert_array_equal(dx != 0, keep)
    np.testing.assert_allclose(y[keep], x[keep] * np.float32(1 / 0.6), rtol=1e-7)
    # every training forward draws a new mask: the key's layer word counts the draws since the
    # last optimizer step (layer | draw << 16); an explicit step repeats draw 0
    y2 = net.forward(x, True)
    np.testing.assert_array_equal(
        y2 != 0, mask_ref(x.size, 0.4, 42, net.step, 1 << 16).reshape(x.shape)
    )
    assert not np.array_equal(y2 != 0, keep)
    np.testing.assert_array_equal(net.forward(x, True, step=net.step), y)
    net.step = net.step + 1
    assert not np.array_equal(net.forward(x, True, step=net.step) != 0, keep)
    net0 = core.Network(50, [{"type": "dropout", "rate": 0.0}], 42)
    np.testing.assert_array_equal(net0.forward(x, True), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match="Dropout.*rate"):
        core.Network(5, [{"type": "dropout", "rate": rate}], 0)
    with pytest.raises(ValueError, match="rate"):
        core.dropout_forward(np.ones(4, np.float32), rate, 0, 0, 0)
