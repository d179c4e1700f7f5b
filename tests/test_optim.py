"""Optimizers, clipping and the non-finite check: torch parity, determinism, ISA paths, errors."""

import math

import numpy as np
import pytest

import nncore._core as core
import nncore.optim as optim


def _isa_names():
    return list(core.supported_isas())


# (name, torch class name, nncore hparams, torch kwargs)
CASES = [
    ("sgd", "SGD", {"lr": 0.05}, {"lr": 0.05}),
    ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9}),
    (
        "sgd",
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    ),
    (
        "sgd",
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": 1, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    (
        "sgd",
        "SGD",
        {"lr": 0.05, "momentum": 0.5, "maximize": 1},
        {"lr": 0.05, "momentum": 0.5, "maximize": True},
    ),
    ("adagrad", "Adagrad", {}, {}),
    (
        "adagrad",
        "Adagrad",
        {
            "lr": 0.1,
            "lr_decay": 0.01,
            "weight_decay": 0.02,
            "initial_accumulator_value": 0.1,
            "eps": 1e-8,
        },
        {
            "lr": 0.1,
            "lr_decay": 0.01,
            "weight_decay": 0.02,
            "initial_accumulator_value": 0.1,
            "eps": 1e-8,
        },
    ),
    ("rmsprop", "RMSprop", {}, {}),
    (
        "rmsprop",
        "RMSprop",
        {"momentum": 0.9, "weight_decay": 0.01},
        {"momentum": 0.9, "weight_decay": 0.01},
    ),
    ("rmsprop", "RMSprop", {"centered": 1, "alpha": 0.9}, {"centered": True, "alpha": 0.9}),
    (
        "rmsprop",
        "RMSprop",
        {"centered": 1, "momentum": 0.5, "alpha": 0.3},
        {"centered": True, "momentum": 0.5, "alpha": 0.3},
    ),
    ("adam", "Adam", {}, {}),
    (
        "adam",
        "Adam",
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.1, "eps": 1e-6},
        {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-6},
    ),
    ("adam", "Adam", {"amsgrad": 1, "lr": 0.01}, {"amsgrad": True, "lr": 0.01}),
    ("adam", "Adam", {"beta1": 0.3, "lr": 0.01}, {"betas": (0.3, 0.999), "lr": 0.01}),
    ("adamw", "AdamW", {"lr": 0.01}, {"lr": 0.01}),
    (
        "adamw",
        "AdamW",
        {"lr": 0.01, "amsgrad": 1, "weight_decay": 0.1},
        {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
    ),
    ("nadam", "NAdam", {}, {}),
    (
        "nadam",
        "NAdam",
        {"weight_decay": 0.05, "momentum_decay": 0.01},
        {"weight_decay": 0.05, "momentum_decay": 0.01},
    ),
    (
        "nadam",
        "NAdam",
        {"weight_decay": 0.05, "decoupled_weight_decay": 1},
        {"weight_decay": 0.05, "decoupled_weight_decay": True},
    ),
    ("adadelta", "Adadelta", {}, {}),
    (
        "adadelta",
        "Adadelta",
        {"lr": 0.5, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.05},
        {"lr": 0.5, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.05},
    ),
    ("adadelta", "Adadelta", {"rho": 0.3, "maximize": 1}, {"rho": 0.3, "maximize": True}),
]


def _grad_sequence(n, steps, seed=0):
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.normal(0, 1, size=n)).astype(np.float32)
    return [(rng.standard_normal(n).astype(np.float32) * scale) for _ in range(steps)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{sorted(c[2].items())}")
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, tname, hp, tkw = case
    n, steps = 257, 200
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(n).astype(np.float32)
    grads = _grad_sequence(n, steps)
    p = w0.copy()
    opt = core.make_optimizer(name, hp)
    tp = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    topt = getattr(torch.optim, tname)([tp], foreach=False, **tkw)
    for g in grads:
        info = opt.step(p, g)
        assert info["finite"] and not info["skipped"]
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
    ref = tp.detach().numpy()
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    assert opt.steps == steps


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    g = _grad_sequence(100_003, 1)[0]
    ref = torch.from_numpy(g.copy())
    ref.grad = ref.clone()
    tnorm = torch.nn.utils.clip_grad_norm_([ref], 10.0)
    expected = float(np.linalg.norm(g.astype(np.float64)))
    norm = core.clip_grad_norm(g, 10.0)
    assert norm == pytest.approx(expected, rel=1e-14)
    assert norm == pytest.approx(float(tnorm), rel=1e-5)
    np.testing.assert_allclose(g, ref.grad.numpy(), rtol=1e-5, atol=1e-8)
    # below the threshold nothing changes
    g2 = np.array([0.3, -0.4], np.float32)
    assert core.clip_grad_norm(g2, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(g2, np.float32([0.3, -0.4]))


def test_clip_grad_value():
    g = np.array([-3.0, -0.5, 0.0, 0.7, 5.0, np.nan], np.float32)
    core.clip_grad_value(g, 1.0)
    np.testing.assert_array_equal(g[:5], np.float32([-1.0, -0.5, 0.0, 0.7, 1.0]))
    assert np.isnan(g[5])
    with pytest.raises(ValueError, match="clip_value"):
        core.clip_grad_value(g, -1.0)
    with pytest.raises(ValueError, match="max_norm"):
        core.clip_grad_norm(g, float("nan"))
    with pytest.raises(ValueError, match="float32"):
        core.clip_grad_norm(np.zeros(3), 1.0)


def test_clipping_inside_the_optimizer():
    torch = pytest.importorskip("torch")
    n = 1000
    w0 = np.random.default_rng(2).standard_normal(n).astype(np.float32)
    grads = _grad_sequence(n, 20, seed=3)
    p = w0.copy()
    opt = core.make_optimizer("adam", {"lr": 0.01, "clipnorm": 5.0, "clipvalue": 0.1})
    tp = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    topt = torch.optim.Adam([tp], lr=0.01, foreach=False)
    for g in grads:
        info = opt.step(p, g)
        assert info["grad_norm"] == pytest.approx(np.linalg.norm(g.astype(np.float64)), rel=1e-12)
        tp.grad = torch.from_numpy(g.copy())
        torch.nn.utils.clip_grad_norm_([tp], 5.0)
        torch.nn.utils.clip_grad_value_([tp], 0.1)
        topt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_grad_norm_is_exact_float64():
    g = _grad_sequence(1_000_001, 1, seed=4)[0]
    assert core.grad_norm(g) == pytest.approx(np.linalg.norm(g.astype(np.float64)), rel=1e-14)


@pytest.mark.parametrize(
    "name,hp",
    [
        ("sgd", {"momentum": 0.9, "nesterov": 1, "weight_decay": 1e-3}),
        ("adagrad", {"lr_decay": 0.1, "weight_decay": 0.1}),
        ("rmsprop", {"centered": 1, "momentum": 0.9}),
        ("adam", {"amsgrad": 1, "weight_decay": 0.1, "clipnorm": 100.0}),
        ("adamw", {"clipvalue": 0.5, "skip_nonfinite": 0}),
        ("nadam", {"weight_decay": 0.1}),
        ("adadelta", {"weight_decay": 0.1, "clipvalue": 1.0}),
    ],
)
def test_bitwise_across_threads_and_isas(name, hp, restore_runtime):
    # many chunks and a ragged last one; one case at the 1M scale, the rest smaller (test time)
    n = (1 << 20) + 13 if name == "adam" else 200_003
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(2)]
    results = {}
    for isa in _isa_names():
        core.set_isa(isa)
        for threads in (1, 2, 3, 5, 7, 16):
            core.set_num_threads(threads)
            p = w0.copy()
            opt = core.make_optimizer(name, hp)
            norms = [opt.step(p, g)["grad_norm"] for g in grads]
            results[(isa, threads)] = (p, norms, [opt.get_state(s) for s in opt.state_names()])
    (p0, n0, s0) = next(iter(results.values()))
    assert not np.array_equal(p0, w0)
    for key, (p, norms, states) in results.items():
        assert np.array_equal(p.view(np.uint32), p0.view(np.uint32)), key
        assert norms == n0, key
        for a, b in zip(states, s0):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), key


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_gradients_skip(bad):
    p = np.ones(50_000, np.float32)
    opt = core.make_optimizer("adam", {})
    g = np.full_like(p, 0.1)
    opt.step(p, g)
    before = p.copy(), [opt.get_state(s) for s in opt.state_names()]
    g2 = g.copy()
    g2[43_210] = bad
    info = opt.step(p, g2)
    assert info == {"grad_norm": info["grad_norm"], "finite": False, "skipped": True}
    assert not math.isfinite(info["grad_norm"])
    np.testing.assert_array_equal(p, before[0])
    for a, b in zip([opt.get_state(s) for s in opt.state_names()], before[1]):
        np.testing.assert_array_equal(a, b)
    assert opt.steps == 1
    # torch behaviour on request: the update goes through, non-finite is still reported
    opt0 = core.make_optimizer("sgd", {"lr": 0.1, "skip_nonfinite": 0})
    info = opt0.step(p, g2)
    assert info["finite"] is False and info["skipped"] is False
    assert not np.isfinite(p[43_210]) and np.isfinite(p[0])
    assert opt0.steps == 1


@pytest.mark.parametrize("n", [70_001, 200_003, 31])
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_norm_reported_without_prepass(name, n):
    """Without clipping or skipping, the norm is summed chunk by chunk inside the update pass; it
    reports the bits of the separate pre-pass (clipnorm) and of grad_norm."""
    g = _grad_sequence(n, 1, seed=6)[0]
    opt = core.make_optimizer(name, {"skip_nonfinite": 0})
    info = opt.step(np.zeros_like(g), g)
    assert info["grad_norm"] == pytest.approx(np.linalg.norm(g.astype(np.float64)), rel=1e-14)
    assert info["finite"] is True
    pre = core.make_optimizer(name, {"skip_nonfinite": 0, "clipnorm": 1e30})
    assert pre.step(np.zeros_like(g), g)["grad_norm"] == info["grad_norm"]
    assert core.grad_norm(g) == info["grad_norm"]


_F32_BITS = {
    "nan": 0x7FC00000,
    "-nan": 0xFFC00000,
    "nan-payload": 0x7F800001,  # the smallest signalling NaN: only one mantissa bit set
    "inf": 0x7F800000,
    "-inf": 0xFF800000,
}


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 31, 70_001, 200_003])
def test_skip_check_finds_every_nonfinite_and_keeps_the_norm(n, threads, restore_runtime):
    """The skip pre-pass (skip_nonfinite=1) must, on every ISA and thread count, see a NaN/inf
    at any position and of any bit pattern, pass the largest finite floats (whose squares
    overflow a float), and report the norm's bits of the skip_nonfinite=0 path."""
    core.set_num_threads(threads)
    g = _grad_sequence(n, 1, seed=7)[0]
    g[n // 2] = np.finfo(np.float32).max  # finite: its square overflows float, not double
    g[0] = -np.finfo(np.float32).max
    for isa in _isa_names():
        core.set_isa(isa)
        checked = core.make_optimizer("adam", {})
        info = checked.step(np.zeros_like(g), g)
        assert info["finite"] is True and info["skipped"] is False, isa
        plain = core.make_optimizer("adam", {"skip_nonfinite": 0})
        assert plain.step(np.zeros_like(g), g)["grad_norm"] == info["grad_norm"], isa
        for pos in sorted({0, n // 3, n - 1}):
            for name, bits in _F32_BITS.items():
                g2 = g.copy()
                g2.view(np.uint32)[pos] = bits
                p = np.ones_like(g)
                opt = core.make_optimizer("adam", {})
                info = opt.step(p, g2)
                where = (isa, pos, name)
                assert info["skipped"] is True and info["finite"] is False, where
                assert not math.isfinite(info["grad_norm"]), where
                assert opt.steps == 0 and np.all(p == 1.0), where


@pytest.mark.parametrize(
    "name,hp,match",
    [
        ("adam", {"lr": -1.0}, "lr"),
        ("adam", {"lr": float("nan")}, "lr"),
        ("adam", {"beta1": 1.0}, "beta1"),
        ("adam", {"beta2": -0.1}, "beta2"),
        ("adam", {"eps": 0.0}, "eps"),
        ("adamw", {"weight_decay": -1e-2}, "weight_decay"),
        ("sgd", {"momentum": -0.5}, "momentum"),
        ("sgd", {"nesterov": 1}, "nesterov"),
        ("sgd", {"nesterov": 1, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
        ("sgd", {"betas": 0.9}, "betas"),
        ("rmsprop", {"alpha": -0.1}, "alpha"),
        ("rmsprop", {"centered": 2}, "centered"),
        ("adagrad", {"lr_decay": -1}, "lr_decay"),
        ("nadam", {"momentum_decay": -1}, "momentum_decay"),
        ("adadelta", {"rho": 1.5}, "rho"),
        ("adadelta", {"eps": 0.0}, "eps"),
        ("adam", {"clipnorm": -1}, "clipnorm"),
        ("lion", {}, "lion"),
    ],
)
def test_bad_hyperparameters_core(name, hp, match):
    with pytest.raises(ValueError, match=match):
        core.make_optimizer(name, hp)


def test_state_size_mismatch_and_bad_arrays():
    opt = core.make_optimizer("adam", {})
    p = np.zeros(10, np.float32)
    opt.step(p, np.ones(10, np.float32))
    with pytest.raises(ValueError, match="exp_avg"):
        opt.step(np.zeros(11, np.float32), np.ones(11, np.float32))
    with pytest.raises(ValueError, match="grads"):
        opt.step(p, np.ones(9, np.float32))
    with pytest.raises(ValueError, match="float32"):
        opt.step(np.zeros(10), np.ones(10, np.float32))
    with pytest.raises(ValueError, match="no state"):
        opt.get_state("momentum_buffer")


@pytest.mark.parametrize(
    "name,hp",
    [
        ("adam", {"amsgrad": 1}),
        ("nadam", {}),
        ("sgd", {"momentum": 0.9}),
        ("rmsprop", {"centered": 1, "momentum": 0.5}),
        ("adagrad", {"lr_decay": 0.1}),
        ("adadelta", {"weight_decay": 0.01}),
    ],
)
def test_core_state_round_trip_bitwise(name, hp):
    n = 1000
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(10)]
    p = w0.copy()
    a = core.make_optimizer(name, hp)
    for g in grads:
        a.step(p, g)
    q = w0.copy()
    b = core.make_optimizer(name, hp)
    for g in grads[:4]:
        b.step(q, g)
    c = core.make_optimizer(name, b.hparams())
    for s in b.state_names():
        c.set_state(s, b.get_state(s))
    c.steps = b.steps
    for g in grads[4:]:
        c.step(q, g)
    assert np.array_equal(p.view(np.uint32), q.view(np.uint32))


# ---------------------------------------------------------------------------------------------
# Python layer


def _model(opt="adam", seed=0):
    import nncore as nc

    m = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(1)], input_dim=5, seed=seed)
    m.compile(optimizer=opt, loss="mse")
    return m


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = (X @ rng.standard_normal((5, 1))).astype(np.float32)
    return X, y


def test_get_names_and_defaults():
    assert isinstance(optim.get("ADAM"), optim.Adam)
    assert optim.get("sgd").lr == 0.01
    assert optim.get("adamw").get_config()["weight_decay"] == 0.01
    assert optim.get("nadam").lr == pytest.approx(2e-3)
    assert optim.get("rmsprop", lr=0.5, centered=True).get_config()["centered"] is True
    o = optim.Adam(lr=0.1)
    assert optim.get(o) is o
    assert isinstance(optim.get(o.get_config()), optim.Adam)
    with pytest.raises(ValueError, match="adagrad.*nadam"):
        optim.get("lion")
    with pytest.raises(TypeError):
        optim.get(3)
    r = repr(optim.Adam(lr=0.1, clipnorm=1.0))
    assert r.startswith("Adam(lr=0.1") and "clipnorm=1.0" in r and "skip_nonfinite" not in r


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: optim.Adam(lr=-1), "lr"),
        (lambda: optim.Adam(betas=(0.9, 1.0)), "betas"),
        (lambda: optim.Adam(betas=0.9), "betas"),
        (lambda: optim.Adam(eps=0), "eps"),
        (lambda: optim.AdamW(weight_decay=float("nan")), "weight_decay"),
        (lambda: optim.SGD(momentum=-1), "momentum"),
        (lambda: optim.SGD(nesterov=True), "nesterov"),
        (lambda: optim.SGD(nesterov=True, momentum=0.9, dampening=0.5), "nesterov"),
        (lambda: optim.RMSprop(alpha=-0.5), "alpha"),
        (lambda: optim.RMSprop(centered="yes"), "centered"),
        (lambda: optim.Adagrad(lr_decay=-1), "lr_decay"),
        (lambda: optim.NAdam(momentum_decay=-1), "momentum_decay"),
        (lambda: optim.Adadelta(rho=-0.1), "rho"),
        (lambda: optim.Adadelta(eps=float("inf")), "eps"),
        (lambda: optim.Adam(clipnorm=0), "clipnorm"),
        (lambda: optim.Adam(clipvalue=-1), "clipvalue"),
        (lambda: optim.Adam([1, 2]), "params"),
    ],
)
def test_bad_hyperparameters_python(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_attach_step_zero_grad_and_lr():
    X, y = _data()
    m = _model(optim.SGD(lr=0.05, momentum=0.9))
    opt = m.optimizer
    out = m.forward(X, training=True)
    _, grad = m.loss_fn(out, y)
    m.backward(grad)
    before = m.engine.core.params_array().copy()
    info = opt.step()
    assert info["finite"] and not info["skipped"] and info["grad_norm"] > 0
    assert not np.array_equal(before, m.engine.core.params_array())
    opt.zero_grad()
    assert not m.engine.core.grads_array().any()
    opt.lr = 0.5
    assert opt.lr == 0.5 and m.engine.core.optimizer.lr == 0.5
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0
    # torch style: Adam(model.parameters())
    m2 = _model("sgd")
    a = optim.Adam(m2.parameters(), lr=0.01)
    assert m2.optimizer is a and m2.engine.core.optimizer.name == "adam"


def test_one_optimizer_instance_per_model():
    """An optimizer instance still serving one model is refused by a second (a model_fn that
    closes over one Adam made every cross-validation fold continue the previous fold's
    moments); a model compiled again with a new optimizer frees the old one."""
    X, y = _data()
    opt = optim.Adam(lr=0.01)
    a = _model(opt)
    with pytest.raises(ValueError, match="already the optimizer of another model, and"):
        _model(opt)
    a.compile(optimizer="sgd", loss=a.loss)  # a lets it go before any step: b may take it
    b = _model(opt)
    assert b.optimizer is opt
    b.fit(X, y, epochs=1)
    b.compile(optimizer="sgd", loss=b.loss)  # b lets it go, but its moments are b's
    with pytest.raises(ValueError, match=r"another model \(2 steps taken\)"):
        _model(opt)
    a.compile(optimizer="adam", loss=a.loss)
    a.compile(optimizer=a.optimizer, loss=a.loss)  # the same model again is fine


def test_clip_helpers_on_model():
    X, y = _data()
    m = _model()
    out = m.forward(X, training=True)
    _, grad = m.loss_fn(out, y)
    m.backward(grad)
    g = m.engine.core.grads_array()
    ref = float(np.linalg.norm(g.astype(np.float64)))
    norm = optim.clip_grad_norm_(m, ref / 2)
    assert norm == pytest.approx(ref, rel=1e-12)
    assert np.linalg.norm(g.astype(np.float64)) == pytest.approx(ref / 2, rel=1e-5)
    optim.clip_grad_value_(m, 1e-3)
    assert np.abs(g).max() <= 1e-3


@pytest.mark.parametrize(
    "opt",
    [
        lambda: optim.Adam(lr=0.01, amsgrad=True, clipnorm=1.0),
        lambda: optim.NAdam(),
        lambda: optim.SGD(lr=0.01, momentum=0.9, nesterov=True),
        lambda: optim.RMSprop(lr=0.01, centered=True, momentum=0.5),
        lambda: optim.Adagrad(lr=0.05, lr_decay=0.01),
        lambda: optim.AdamW(lr=0.01),
        lambda: optim.Adadelta(lr=0.5, weight_decay=0.01),
    ],
)
def test_state_dict_resume_is_bitwise(opt):
    X, y = _data()
    full = _model(opt())
    for i in range(12):
        full.train_step(X[i * 5 : (i + 1) * 5], y[i * 5 : (i + 1) * 5])
    part = _model(opt())
    for i in range(5):
        part.train_step(X[i * 5 : (i + 1) * 5], y[i * 5 : (i + 1) * 5])
    sd = part.optimizer.state_dict()
    assert sd["steps"] == 5 and all(v.dtype == np.float32 for v in sd["state"].values())
    import json

    json.dumps({k: v for k, v in sd.items() if k != "state"})  # the model file header is JSON
    resumed = _model(opt())
    resumed.engine.core.params_array()[:] = part.engine.core.params_array()
    resumed.engine.core.params_changed()
    resumed.optimizer.load_state_dict(sd)
    for i in range(5, 12):
        resumed.train_step(X[i * 5 : (i + 1) * 5], y[i * 5 : (i + 1) * 5])
    a, b = full.engine.core.params_array(), resumed.engine.core.params_array()
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_load_state_dict_validation():
    m = _model(optim.Adam())
    X, y = _data()
    m.train_step(X[:8], y[:8])
    sd = m.optimizer.state_dict()
    with pytest.raises(ValueError, match="sgd"):
        m.optimizer.load_state_dict(dict(sd, name="sgd"))
    with pytest.raises(ValueError, match="needs"):
        m.optimizer.load_state_dict(dict(sd, state={"exp_avg": sd["state"]["exp_avg"]}))
    bad = {k: v[:-1] for k, v in sd["state"].items()}
    with pytest.raises(ValueError, match="parameters"):
        m.optimizer.load_state_dict(dict(sd, state=bad))
    with pytest.raises(ValueError, match="lacks"):
        m.optimizer.load_state_dict({"name": "adam"})
    # hyper-parameters in the state dict win (torch restores param_groups too)
    m.optimizer.load_state_dict(dict(sd, hparams=dict(sd["hparams"], amsgrad=True), state={}))
    assert m.engine.core.optimizer.hparams()["amsgrad"] == 1.0


@pytest.mark.parametrize(
    "make", [lambda: optim.NAdam(lr=0.01), lambda: optim.Adadelta(rho=0.8, weight_decay=0.01)]
)
def test_save_load_resume_bitwise(tmp_path, make):
    import nncore as nc

    X, y = _data(1)
    full = _model(make())
    for i in range(10):
        full.train_step(X[i * 6 : (i + 1) * 6], y[i * 6 : (i + 1) * 6])
    part = _model(make())
    for i in range(4):
        part.train_step(X[i * 6 : (i + 1) * 6], y[i * 6 : (i + 1) * 6])
    part.save(tmp_path / "m.nnc")
    back = nc.load(tmp_path / "m.nnc")
    assert type(back.optimizer) is type(make()) and back.optimizer.steps == 4
    assert back.optimizer.get_config() == part.optimizer.get_config()
    for i in range(4, 10):
        back.train_step(X[i * 6 : (i + 1) * 6], y[i * 6 : (i + 1) * 6])
    assert np.array_equal(full.engine.core.params_array(), back.engine.core.params_array())


def test_fit_skips_nonfinite_steps():
    X, y = _data()
    m = _model(optim.Adam(lr=0.01))
    before = m.engine.core.params_array().copy()
    X[3, 0] = np.inf  # the validation layer may reject it; then feed the core directly
    try:
        info = m.engine.core.train_step(X[:8], y[:8], None)
    except ValueError:
        pytest.skip("non-finite input rejected before the core")
    assert info["finite"] is False and info["skipped"] is True
    assert np.array_equal(before, m.engine.core.params_array())


@pytest.mark.parametrize(
    "name,hp",
    [
        ("adam", {}),
        ("adam", {"amsgrad": 1}),
        ("nadam", {}),
        ("sgd", {"momentum": 0.9}),
        ("sgd", {"momentum": 0.9, "nesterov": 1}),
        ("rmsprop", {"centered": 1, "momentum": 0.5}),
        ("adadelta", {}),
    ],
)
def test_optimizer_states_never_store_subnormals(name, hp, restore_runtime):
    """A state decaying under zero gradients (a dead unit's weights) must not stay subnormal:
    every later step on it would take microcode assists (about 20x slower on Intel). After one
    zero-gradient step from subnormal states they are all zero, on every ISA, and the weights
    took that step's update as before (the flush applies to what is stored)."""
    tiny = np.finfo(np.float32).tiny
    for isa in _isa_names():
        core.set_isa(isa)
        opt = core.make_optimizer(name, hp)
        p = np.ones(1000, np.float32)
        opt.step(p, np.full_like(p, 1e-3))
        for s in opt.state_names():
            st = opt.get_state(s)
            if st.size == p.size:
                sub = np.where(np.arange(st.size) % 2 == 0, 1e-39, 3e-41).astype(np.float32)
                opt.set_state(s, sub)
        before = p.copy()
        opt.step(p, np.zeros_like(p))
        for s in opt.state_names():
            st = opt.get_state(s)
            if st.size == p.size:
                assert not np.any((st != 0) & (np.abs(st) < tiny)), (isa, name, s)
        assert np.all(np.isfinite(p)) and np.all(np.abs(p - before) < 1e-2), (isa, name)


@pytest.mark.parametrize(
    "name", ["sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad", "adadelta"]
)
def test_learning_rate_is_lr_by_its_keras_name(name):
    cls = optim.get(name).__class__
    assert cls(learning_rate=0.0123).lr == pytest.approx(0.0123)
    with pytest.raises(ValueError, match="give lr or learning_rate"):
        cls(lr=0.5, learning_rate=0.0123)


def _group_run(change):
    """Weights after 6 Adam steps on fixed data, ``change(opt)`` applied after the third."""
    import nncore as nc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = np.arange(64) % 3
    m = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(3)], input_dim=5, seed=0)
    opt = optim.Adam(m.parameters(), lr=1e-3)
    m.compile(optimizer=opt, loss="cross_entropy")
    for i in range(6):
        if i == 3:
            change(opt)
        m.train_step(X, y)
    return m.get_weights()


def test_param_groups_write_through_as_in_pytorch():
    def by_attribute(opt):
        opt.lr = 0.05
        opt.set_hparam("beta1", 0.5)
        opt.set_hparam("weight_decay", 0.1)

    def by_group(opt):
        for group in opt.param_groups:
            group["lr"] = 0.05
            group["betas"] = (0.5, group["betas"][1])
            group["weight_decay"] = 0.1

    same = _group_run(by_group)
    assert all(np.array_equal(a, b) for a, b in zip(same, _group_run(by_attribute)))
    assert not all(np.array_equal(a, b) for a, b in zip(same, _group_run(lambda opt: None)))


def test_param_group_reads_and_refusals():
    import nncore as nc

    m = nc.Sequential([nc.Dense(4), nc.Dense(2)], input_dim=3, seed=0)
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    (group,) = opt.param_groups
    assert group["lr"] == pytest.approx(0.1) and group["momentum"] == pytest.approx(0.9)
    assert [p.shape for p in group["params"]] == [(4, 3), (4,), (2, 4), (2,)]
    assert set(group) >= {"params", "lr", "momentum", "weight_decay", "nesterov"}
    group["clipnorm"] = 1.0
    assert opt.hyper_parameters()["clipnorm"] == 1.0
    group["clipnorm"] = None  # no clipping again
    assert opt.hyper_parameters()["clipnorm"] is None
    assert opt.core_optimizer().hparams()["clipnorm"] == 0.0
    group["initial_lr"] = 0.1  # what a scheduler or a user stores beside the optimizer's own
    assert opt.param_groups[0]["initial_lr"] == 0.1
    del group["initial_lr"]
    assert "initial_lr" not in opt.param_groups[0]
    for key, value, err in [
        ("lr", -1.0, ValueError),
        ("momentum", float("nan"), ValueError),
        ("params", [], TypeError),
    ]:
        with pytest.raises(err):
            group[key] = value
    with pytest.raises(TypeError, match="cannot be removed"):
        del group["lr"]
    with pytest.raises(ValueError, match="cannot be changed"):
        optim.Adam(m.parameters(), amsgrad=False).param_groups[0]["amsgrad"] = True
    assert opt.lr == pytest.approx(0.1)
    assert optim.Adam().param_groups[0]["params"] == []  # not attached yet
