"""One way to say each thing (issue #37): class weights in fit, every loss option in
loss_options, history.history, distributed training as an explicit context, a warning when
non-finite steps are skipped, documented optimizer defaults. Each retired spelling still works
for one release: it warns (DeprecationWarning) and gives the new spelling's numbers; the new
spelling does not warn (the suite runs with filterwarnings=error)."""

from __future__ import annotations

import inspect
import pathlib
import re
import sys

import numpy as np
import pytest

import nncore as nc
from nncore.training import context

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _data(n=96, d=5, k=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, :k].argmax(1)).astype(np.int64)
    return X, y


def _model(loss, out=3, **compile_kw):
    m = nc.Sequential([nc.Dense(8, "tanh"), nc.Dense(out)], input_dim=5, seed=0)
    return m.compile(optimizer=nc.optim.SGD(lr=0.1), loss=loss, **compile_kw)


def _same_weights(a, b):
    pa, pb = a.parameters(), b.parameters()
    return all(np.array_equal(pa[k], pb[k]) for k in pa)


# ---------------------------------------------------------------------- class weights: fit
def test_fit_class_weight_takes_one_weight_per_class():
    X, y = _data()
    a, b = _model("cross_entropy"), _model("cross_entropy")
    a.fit(X, y, epochs=2, batch_size=16, class_weight=[1.0, 3.0, 0.5])
    b.fit(X, y, epochs=2, batch_size=16, class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    assert _same_weights(a, b)
    with pytest.raises(ValueError, match="expected 3 finite weights"):
        _model("cross_entropy").fit(X, y, class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="expected 3 finite weights"):
        _model("cross_entropy").fit(X, y, class_weight=[1.0, -2.0, 1.0])
    # a dict is held to the same rule as a list
    for bad, match in [
        ({1: -2.0}, "weight of class 1 must be a finite number >= 0"),
        ({0: float("nan")}, "weight of class 0 must be a finite number >= 0"),
        ({2: "x"}, "weight of class 2 must be a finite number >= 0"),
        ({1.5: 2.0}, "keys must be integer class labels"),
        ({"b": 2.0}, "keys must be integer class labels"),
        ({3: 2.0}, "class 3 is out of range"),
    ]:
        with pytest.raises(ValueError, match=match):
            _model("cross_entropy").fit(X, y, class_weight=bad)
    c = _model("cross_entropy")  # numpy integer keys, as np.unique gives them
    c.fit(X, y, epochs=2, batch_size=16, class_weight={np.int64(k): w for k, w in
                                                        enumerate([1.0, 3.0, 0.5])})  # fmt: skip
    assert _same_weights(a, c)


def test_loss_option_class_weight_warns_and_trains_as_fit_class_weight_for_focal():
    X, y = _data()
    new = _model("focal")
    new.fit(X, y, epochs=2, batch_size=16, class_weight=[1.0, 3.0, 0.5])
    with pytest.warns(DeprecationWarning, match=r"class_weight.*model\.fit\(X, y, class_weight="):
        old = _model("focal", loss_options={"class_weight": [1.0, 3.0, 0.5]})
    old.fit(X, y, epochs=2, batch_size=16)
    assert _same_weights(old, new)


def test_loss_option_class_weight_for_cross_entropy_warns_and_says_how_it_differs():
    X, y = _data()
    cw = np.array([1.0, 3.0, 0.5])
    with pytest.warns(DeprecationWarning, match="summed weights of each batch's labels") as rec:
        old = _model("cross_entropy", loss_options={"class_weight": cw.tolist()})
    assert rec[0].filename == __file__  # pointed at the caller's line
    new = _model("cross_entropy")
    out = old.forward(X)
    # the old option is torch's CrossEntropyLoss(weight=): divided by the labels' summed
    # weights; fit's (and sample_weight's) weighted loss is the mean over the rows
    lo, go = old.loss_fn(out, y)
    ln, gn = new.loss_fn(out, y, sample_weight=cw[y].astype(np.float32))
    scale = len(y) / cw[y].sum()
    assert lo == pytest.approx(ln * scale, rel=1e-6)
    np.testing.assert_allclose(go, gn * scale, rtol=1e-5, atol=1e-8)


def test_sigmoid_class_weight_is_output_weight_with_the_same_numbers(tmp_path):
    X, _ = _data()
    Y = (X[:, :3] > 0).astype(np.float32)
    new = _model("binary_cross_entropy", loss_options={"output_weight": [1.0, 3.0, 0.5]})
    with pytest.warns(DeprecationWarning, match=r"loss_options=\{'output_weight'"):
        old = _model("binary_cross_entropy", loss_options={"class_weight": [1.0, 3.0, 0.5]})
    assert old.loss_options == new.loss_options
    for m in (old, new):
        m.fit(X, Y, epochs=2, batch_size=16)
    assert _same_weights(old, new)
    new.save(tmp_path / "m.nnc")
    back = nc.load(tmp_path / "m.nnc")
    assert back.loss_options == {"output_weight": [1.0, 3.0, 0.5]}
    assert back.evaluate(X, Y)["loss"] == new.evaluate(X, Y)["loss"]
    with pytest.raises(ValueError, match="output_weight has 2 values"):
        _model("binary_cross_entropy", loss_options={"output_weight": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no option 'output_weight'"):
        _model("cross_entropy", loss_options={"output_weight": [1.0, 2.0, 1.0]})


# ------------------------------------------------------------------ Huber's delta: loss_options
def test_huber_delta_warns_and_trains_as_the_delta_option():
    X, _ = _data()
    t = (X[:, 0] * 4).astype(np.float32)
    new = _model("huber", out=1, loss_options={"delta": 0.5})
    with pytest.warns(DeprecationWarning, match=r"loss_options=\{'delta': 0\.5\}") as rec:
        old = _model("huber", out=1, huber_delta=0.5)
    assert rec[0].filename == __file__
    assert old.loss_options == new.loss_options == {"delta": 0.5}
    for m in (old, new):
        m.fit(X, t, epochs=2, batch_size=16)
    assert _same_weights(old, new)
    plain = _model("huber", out=1)
    plain.fit(X, t, epochs=2, batch_size=16)
    assert not _same_weights(plain, new)  # the delta reaches the core
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="once"):
        _model("huber", out=1, huber_delta=0.5, loss_options={"delta": 0.5})
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="huber_delta"):
        _model("huber", out=1, huber_delta=-1.0)


def test_a_saved_huber_delta_loads_quietly():
    cfg = _model("huber", out=1, loss_options={"delta": 2.0}).get_config()
    assert "huber_delta" not in cfg["compile"]
    old = {**cfg, "compile": {"loss": "huber", "huber_delta": 2.0, "metrics": []}}
    back = nc.Sequential.from_config(old)  # a file written before delta moved: no warning
    assert back.loss_options == {"delta": 2.0}


# ------------------------------------------------------------------------- History: Keras's
def test_history_is_read_from_history_dot_history():
    X, y = _data()
    h = _model("cross_entropy").fit(X, y, epochs=2, validation_split=0.25)
    assert len(h.history["loss"]) == 2 and "val_loss" in h.history
    with pytest.warns(DeprecationWarning, match=r"write history\.history\['loss'\]") as rec:
        assert h["loss"] == h.history["loss"]
    assert rec[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"'val_loss' in history\.history"):
        assert "val_loss" in h
    with pytest.warns(DeprecationWarning, match=r"history\.history\.keys\(\)"):
        assert list(h.keys()) == list(h.history.keys())


# ------------------------------------------------------------- distributed: an explicit context
class _FakeContext:
    """Enough of nncore.distributed.Context for the resolution rules (no MPI needed)."""

    comm = watchdog = None


def test_distributed_context_resolution(restore_context):
    fake = _FakeContext()
    assert context.resolve(None, "fit") is None
    assert context.resolve(fake, "fit") is fake  # fit(..., distributed=ctx)
    context.activate(fake, scoped=True)  # inside `with nncore.distributed.init() as ctx:`
    assert context.resolve(None, "fit") is fake
    context.activate(fake)  # a bare init(): still collective, deprecated
    with pytest.warns(DeprecationWarning, match=r"bare nncore\.distributed\.init\(\)"):
        assert context.resolve(None, "evaluate") is fake
    with context.scope(fake):  # a distributed fit scopes its context for its callbacks
        assert context.resolve(None, "evaluate") is fake
    context.activate(None)
    assert context.resolve(None, "fit") is None


def test_fit_refuses_a_distributed_argument_that_is_not_a_context():
    X, y = _data()
    with pytest.raises(TypeError, match="distributed must be the context"):
        _model("cross_entropy").fit(X, y, distributed=True)
    with pytest.raises(TypeError, match="distributed must be the context"):
        _model("cross_entropy").evaluate(X, y, distributed="yes")


@pytest.fixture
def restore_context():
    yield
    context.activate(None)


# ----------------------------------------------------------------- skip_nonfinite: never silent
def _exploding(skip):
    X, _ = _data(n=64)
    X[:, 0] = 1e30  # finite inputs whose squared error overflows float32
    m = nc.Sequential([nc.Dense(1)], input_dim=5, seed=0)
    m.compile(optimizer=nc.optim.SGD(lr=0.1, skip_nonfinite=skip), loss="mse")
    return m, X, X[:, 1] * 0


def test_skipped_steps_warn_once_per_fit_with_the_count():
    m, X, t = _exploding(True)
    before = m.get_weights()
    with pytest.warns(
        RuntimeWarning, match=r"^8 of 8 optimizer steps in this fit were skipped"
    ) as rec:
        h = m.fit(X, t, epochs=2, batch_size=16)
    assert len(rec) == 1 and rec[0].filename == __file__
    assert h.history["nonfinite_steps"] == [4, 4]
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


def test_steps_applied_as_pytorch_does_do_not_warn():
    m, X, t = _exploding(False)
    m.fit(X, t, epochs=1, batch_size=16)  # filterwarnings=error: no skip warning
    assert not np.isfinite(m.get_weights()[0]).all()


# ------------------------------------------------------------------------ optimizer defaults
def test_optimizer_defaults_are_torchs_except_the_documented_sgd_lr():
    torch = pytest.importorskip("torch")
    differ = []
    for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta"):
        ours = inspect.signature(getattr(nc.optim, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
        for k, p in ours.items():
            if k in theirs and k != "params" and p.default != theirs[k].default:
                differ.append((name, k, p.default, theirs[k].default))
    assert differ == [("SGD", "lr", 0.01, 0.001)]
    # ... and the docs say so wherever they name the defaults
    assert "``SGD``'s default lr is\n0.01 (torch's is 1e-3)" in nc.optim.__doc__
    compile_doc = " ".join(nc.Sequential.compile.__doc__.split())
    assert "torch.optim's defaults, except SGD's lr: 0.01" in compile_doc
    guide = " ".join((ROOT / "docs" / "guide" / "optimizers.rst").read_text().split())
    assert "default ``lr`` is 0.01, Keras's, where torch's is 1e-3" in guide


# -------------------------------------------------------------------------------- verbose
def test_fit_is_silent_by_default_and_the_readme_says_so(capsys):
    X, y = _data()
    _model("cross_entropy").fit(X, y, epochs=2)
    assert capsys.readouterr() == ("", "")
    assert inspect.signature(nc.Sequential.fit).parameters["verbose"].default == 0
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "`fit` is silent by default" in readme and "`verbose=1`" in readme


# ------------------------------------------------------------------------------ install
def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    """The README's second command (test dependencies, then pytest) is what .ci/run runs."""
    commands = _readme_commands()
    test_cmd = next(c for c in commands if "pytest" in c)
    install = test_cmd.split("&&")[0].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert install.replace("pip install", "python -m pip install") in ci, install
    assert "python -m pip install ." in ci  # the package itself, as the first command


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_test_group_and_test_extra_list_the_same_packages():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    group = meta["dependency-groups"]["test"]
    extra = meta["project"]["optional-dependencies"]["test"]
    assert group == extra
