"""Learning-rate schedules: the same lr sequences as torch.optim.lr_scheduler, state round trips,
argument errors."""

import math
import pickle

import pytest

import nncore.lr_scheduler as lrs
import nncore.optim as optim

# (name, kwargs, optimizer name, optimizer kwargs (nncore; torch gets the same))
CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "sgd", {"lr": 0.1}),
    ("MultiStepLR", {"milestones": [10, 30, 30, 60], "gamma": 0.3}, "sgd", {"lr": 0.1}),
    ("ExponentialLR", {"gamma": 0.97}, "adam", {"lr": 0.01}),
    ("CosineAnnealingLR", {"T_max": 30, "eta_min": 1e-4}, "adam", {"lr": 0.01}),
    ("CosineAnnealingLR", {"T_max": 100}, "adam", {"lr": 0.01}),
    (
        "CosineAnnealingWarmRestarts",
        {"T_0": 10, "T_mult": 2, "eta_min": 1e-5},
        "adam",
        {"lr": 0.01},
    ),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}, "sgd", {"lr": 0.1}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 20}, "adam", {"lr": 0.01}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 50}, "sgd", {"lr": 0.1}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 10}, "sgd", {"lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 101}, "adam", {"lr": 0.01}),
    (
        "OneCycleLR",
        {
            "max_lr": 0.1,
            "total_steps": 101,
            "anneal_strategy": "linear",
            "three_phase": True,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
            "pct_start": 0.25,
        },
        "sgd",
        {"lr": 0.1, "momentum": 0.9},
    ),
    (
        "OneCycleLR",
        {"max_lr": 0.05, "epochs": 10, "steps_per_epoch": 11, "cycle_momentum": False},
        "sgd",
        {"lr": 0.1},
    ),
]


def _torch_opt(torch, name, kw):
    p = [torch.nn.Parameter(torch.zeros(3))]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
    return cls(p, **kw)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{sorted(c[1])}")
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kw, oname, okw = case
    topt = _torch_opt(torch, oname, okw)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    opt = optim.get(oname, **okw)
    sched = getattr(lrs, name)(opt, **kw)
    assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-12)
    momentum_key = "beta1" if oname == "adam" else "momentum"
    for _ in range(100):
        topt.step()
        tsched.step()
        sched.step()
        ref = tsched.get_last_lr()[0]
        assert sched.get_last_lr()[0] == pytest.approx(ref, rel=1e-7, abs=1e-15)
        assert opt.lr == sched.get_last_lr()[0]
        if name == "OneCycleLR" and kw.get("cycle_momentum", True):
            g = topt.param_groups[0]
            tm = g["betas"][0] if oname == "adam" else g["momentum"]
            assert opt._get_hparam(momentum_key) == pytest.approx(tm, rel=1e-12)
    assert sched.interval == ("batch" if name == "OneCycleLR" else "epoch")


def test_sequential_lr_matches_torch():
    torch = pytest.importorskip("torch")
    topt = _torch_opt(torch, "adam", {"lr": 0.01})
    t1 = torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.1, total_iters=10)
    t2 = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=90)
    tseq = torch.optim.lr_scheduler.SequentialLR(topt, [t1, t2], milestones=[10])
    opt = optim.Adam(lr=0.01)
    s1 = lrs.LinearLR(opt, start_factor=0.1, total_iters=10)
    s2 = lrs.CosineAnnealingLR(opt, T_max=90)
    seq = lrs.SequentialLR(opt, [s1, s2], milestones=[10])
    assert seq.get_last_lr()[0] == pytest.approx(tseq.get_last_lr()[0], rel=1e-12)
    for _ in range(100):
        topt.step()
        tseq.step()
        seq.step()
        assert seq.get_last_lr()[0] == pytest.approx(tseq.get_last_lr()[0], rel=1e-7)


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = [1.0 / (1 + i) if i < 20 else 0.05 + 0.001 * math.sin(i) for i in range(100)]
    for kw in (
        {"patience": 3, "factor": 0.5, "cooldown": 2, "min_lr": 1e-4},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 2},
    ):
        topt = _torch_opt(torch, "sgd", {"lr": 0.1})
        tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
        opt = optim.SGD(lr=0.1)
        sched = lrs.ReduceLROnPlateau(opt, **kw)
        for m in metrics:
            tsched.step(m)
            sched.step(m)
            assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-12)
        assert opt.lr < 0.1


def test_state_dict_round_trip():
    opt = optim.Adam(lr=0.01)
    s = lrs.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2)
    for _ in range(13):
        s.step()
    state = pickle.loads(pickle.dumps(s.state_dict()))
    ref = [s.step() or s.get_last_lr()[0] for _ in range(20)]
    opt2 = optim.Adam(lr=0.01)
    s2 = lrs.CosineAnnealingWarmRestarts(opt2, T_0=5, T_mult=2)
    s2.load_state_dict(state)
    opt2.lr = state["_last_lr"][0]
    got = [s2.step() or s2.get_last_lr()[0] for _ in range(20)]
    assert got == ref

    opt = optim.SGD(lr=0.1)
    p = lrs.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 1.0, 1.0):
        p.step(m)
    d = p.state_dict()
    p2 = lrs.ReduceLROnPlateau(optim.SGD(lr=0.1), patience=1)
    p2.load_state_dict(d)
    assert p2.num_bad_epochs == p.num_bad_epochs and p2.best == p.best


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda o: lrs.StepLR(o, step_size=0), "step_size"),
        (lambda o: lrs.StepLR(o, step_size=2, gamma=float("nan")), "gamma"),
        (lambda o: lrs.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), "T_mult"),
        (lambda o: lrs.LinearLR(o, start_factor=0.0), "start_factor"),
        (lambda o: lrs.OneCycleLR(o, max_lr=0.1), "total_steps"),
        (
            lambda o: lrs.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
            "anneal_strategy",
        ),
        (lambda o: lrs.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), "pct_start"),
        (lambda o: lrs.ReduceLROnPlateau(o, factor=1.5), "factor"),
        (lambda o: lrs.ReduceLROnPlateau(o, mode="best"), "mode"),
        (lambda o: lrs.ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(optim.Adam())


def test_one_cycle_needs_momentum_and_overrun():
    with pytest.raises(ValueError, match="cycle_momentum"):
        lrs.OneCycleLR(optim.SGD(lr=0.1), max_lr=0.1, total_steps=10)
    s = lrs.OneCycleLR(optim.SGD(lr=0.1, momentum=0.9), max_lr=0.1, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="total steps"):
        s.step()


def test_generic_object_with_lr():
    class Box:
        lr = 0.5

    b = Box()
    s = lrs.StepLR(b, step_size=1, gamma=0.5)
    s.step()
    assert b.lr == 0.25
    with pytest.raises(TypeError):
        lrs.StepLR(object(), step_size=1)


def test_fit_steps_schedulers():
    import numpy as np

    import nncore as nc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = X[:, :1].copy()
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=4, seed=0)
    opt = optim.Adam(lr=0.01)
    m.compile(optimizer=opt, loss="mse")
    h = m.fit(X, y, epochs=3, batch_size=16, schedulers=[lrs.StepLR(opt, step_size=1, gamma=0.5)])
    assert h.history["lr"] == pytest.approx([0.01, 0.005, 0.0025])
    m2 = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=4, seed=0)
    opt2 = optim.SGD(lr=0.1, momentum=0.9)
    m2.compile(optimizer=opt2, loss="mse")
    sched = lrs.OneCycleLR(opt2, max_lr=0.1, epochs=2, steps_per_epoch=4)
    m2.fit(X, y, epochs=2, batch_size=16, schedulers=sched)
    assert sched.last_epoch == 8


def test_fit_refuses_a_scheduler_of_another_optimizer():
    """A scheduler built on one model's optimizer, passed to the fit of a copy (or of another
    model), would step an optimizer nobody trains with: fit says so before training."""
    import copy

    import numpy as np

    import nncore as nc

    X = np.random.default_rng(2).standard_normal((32, 4)).astype(np.float32)
    y = X[:, :1].copy()
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=4, seed=0)
    m.compile(optimizer="adam", loss="mse")
    sched = lrs.StepLR(m.optimizer, step_size=1, gamma=0.5)
    twin = copy.deepcopy(m)
    with pytest.raises(ValueError, match="another optimizer than this model's"):
        twin.fit(X, y, epochs=2, schedulers=[sched])
    assert twin.epochs_done == 0 and m.optimizer.lr == pytest.approx(0.001)
    h = m.fit(X, y, epochs=2, schedulers=[sched])  # its own model's fit steps it
    assert h.history["lr"] == pytest.approx([0.001, 0.0005])


def test_fit_drives_schedulers_through_step_epoch():
    """fit steps ReduceLROnPlateau on val_loss when there is validation data (loss otherwise) and
    refuses objects without the scheduler protocol."""
    import numpy as np

    import nncore as nc

    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = X[:, :1].copy()
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(1)], input_dim=4, seed=0)
    opt = optim.Adam(lr=0.01)
    m.compile(optimizer=opt, loss="mse")
    seen = []

    class Recording(lrs.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    h = m.fit(X, y, epochs=2, batch_size=16, validation_split=0.25, schedulers=Recording(opt))
    assert seen == h.history["val_loss"]
    seen.clear()
    h = m.fit(X, y, epochs=2, batch_size=16, schedulers=Recording(opt))
    assert seen == h.history["loss"]
    with pytest.raises(TypeError, match="schedulers must be"):
        m.fit(X, y, epochs=1, schedulers=[object()])
