"""The public API: building, compiling, save/load, parameters, config, and clear errors on bad
input (issue: Foundation)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import nncore as nc


def _clf(input_dim=4, k=3, seed=0):
    m = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(k)], input_dim=input_dim, seed=seed)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="cross_entropy", metrics=["accuracy"])
    return m


@pytest.fixture
def data(rng):
    X = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    return X, y


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "bad, msg",
    [
        (np.zeros((20, 5), np.float32), "expected 4 features"),
        (np.zeros(20, np.float32), "2-D"),
        (np.zeros((0, 4), np.float32), "empty"),
        (np.array([["a"] * 4] * 20), "numeric"),
        (np.zeros((20, 4), dtype=object), "numeric"),
        (np.zeros((20, 4), dtype=np.complex64), "numeric"),
    ],
)
def test_bad_X_is_a_clear_error(data, bad, msg):
    _, y = data
    m = _clf()
    with pytest.raises((ValueError, TypeError), match=msg):
        m.fit(bad, y[: len(bad)] if len(bad) else y)


def test_nan_in_X_names_the_cell(data):
    X, y = data
    X = X.copy()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"nan at index \(3, 2\)"):
        _clf().fit(X, y)
    X[3, 2] = np.inf
    with pytest.raises(ValueError, match="inf"):
        _clf().predict(X)


def test_labels_out_of_range_and_mismatched_rows(data):
    X, y = data
    with pytest.raises(ValueError, match="label 3 at row"):
        _clf().fit(X, np.where(np.arange(20) == 5, 3, y))
    with pytest.raises(ValueError, match="negative"):
        _clf().fit(X, -y - 1)
    with pytest.raises(ValueError, match="has 19 rows but X has 20"):
        _clf().fit(X, y[:19])
    with pytest.raises(ValueError, match="integers"):
        _clf().fit(X, y + 0.5)


def test_float64_int_and_noncontiguous_inputs_are_converted(data):
    X, y = data
    m = _clf()
    base = m.predict(X)
    assert np.array_equal(m.predict(X.astype(np.float64)), base)
    Xw = np.zeros((20, 8), np.float32)
    Xw[:, ::2] = X
    assert np.array_equal(m.predict(Xw[:, ::2]), base)  # strided columns
    assert np.array_equal(m.predict(X[::-1])[::-1], base)  # negative stride
    assert np.array_equal(m.predict(np.asfortranarray(X)), base)  # Fortran order
    m.predict(np.ones((3, 4), np.int64))
    m.fit(X.astype(np.float64), y.astype(np.float64))  # integral float labels are fine


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        nc.Dense(3, "relux")
    with pytest.raises(ValueError, match="unknown init"):
        nc.Dense(3, init="glorious")
    m = nc.Sequential([nc.Dense(3)], input_dim=2)
    with pytest.raises(ValueError, match="unknown loss 'cross_entrop'"):
        m.compile(loss="cross_entrop")
    with pytest.raises(ValueError, match="unknown optimizer"):
        m.compile(optimizer="adamax2", loss="mse")
    with pytest.raises(ValueError, match="unknown metric"):
        m.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"units": 0}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": 3, "l2": -1.0}, "l2"),
        ({"units": 3, "l1": float("nan")}, "l1"),
        ({"units": 3, "max_norm": 0}, "max_norm"),
    ],
)
def test_bad_layer_hyperparameters(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        nc.Dense(**kwargs)


def test_not_compiled_and_not_built_errors(data):
    X, y = data
    m = nc.Sequential([nc.Dense(3)])
    with pytest.raises(RuntimeError, match="not built"):
        m.parameters()
    with pytest.raises(RuntimeError, match="not compiled"):
        m.fit(X, y)
    m.predict(X)  # builds from the data
    assert m.input_dim == 4


# ----------------------------------------------------------------------------- round trips
def test_save_load_round_trip(tmp_path, data):
    X, y = data
    m = _clf()
    m.fit(X, y, epochs=3)
    path = tmp_path / "model.nnc"
    m.save(path)
    m2 = nc.load(path)
    assert np.array_equal(m2.predict(X), m.predict(X))
    assert m2.get_config() == m.get_config()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".nncore-")]  # no temp file left


def test_parameters_are_writable_views(data):
    X, _ = data
    m = _clf()
    p = m.parameters()
    assert p["0.weight"].shape == (8, 4) and p["1.bias"].shape == (3,)
    p["1.weight"][:] = 0
    p["1.bias"][:] = [1.0, 2.0, 3.0]
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(m.predict(X), np.tile(expected, (20, 1)), rtol=1e-6)


def test_user_loop_matches_train_step(data):
    X, y = data
    a, b = _clf(seed=5), _clf(seed=5)
    for _ in range(3):
        a.train_step(X, y)
        out = b.forward(X, training=True)
        _, grad = b.loss_fn(out, y)
        b.zero_grad()
        b.backward(grad)
        b.optimizer.step()
    for k, v in a.parameters().items():
        assert np.array_equal(v, b.parameters()[k]), k


def test_backward_without_a_forward_says_so(data):
    X, y = data
    m = _clf(seed=5)
    with pytest.raises(ValueError, match="no forward to differentiate"):
        m.backward(np.ones((len(X), 3), np.float32))
    out = m.forward(X, training=True)
    with pytest.raises(ValueError, match=f"has 2 rows but the last forward had {len(X)}"):
        m.backward(np.ones((2, out.shape[1]), np.float32))


def test_train_step_gradients_equal_a_zeroed_user_loop(rng):
    """train_step writes each step's gradients without a zeroing pass; they must equal the
    zero_grad + backward (+=) gradients of a user loop, step after step, for every layer type
    with parameters (Dense with and without bias, BatchNorm), with stale gradients present."""
    X = rng.standard_normal((33, 7)).astype(np.float32)
    y = rng.integers(0, 3, 33)

    def model():
        m = nc.Sequential(
            [
                nc.Dense(9),
                nc.BatchNorm(),
                nc.Activation("relu"),
                nc.Dropout(0.3),
                nc.Dense(5, "tanh", use_bias=False),
                nc.Dense(3),
            ],
            input_dim=7,
            seed=3,
        )
        m.compile(optimizer=nc.optim.Adam(lr=0.01), loss="cross_entropy")
        return m

    a, b = model(), model()
    for step in range(4):
        if step == 2:  # leave stale accumulated gradients behind before a fused step
            a.backward(a.loss_fn(a.forward(X, training=True), y)[1])
        a.train_step(X, y)
        out = b.forward(X, training=True)
        b.zero_grad()
        b.backward(b.loss_fn(out, y)[1])
        b.optimizer.step()
        for k, g in a.gradients().items():
            assert np.array_equal(g, b.gradients()[k]), (step, k)
        for k, v in a.parameters().items():
            assert np.array_equal(v, b.parameters()[k]), (step, k)


def test_summary_and_config():
    m = _clf()
    text = m.summary(print_fn=None)
    assert "total parameters: 67" in text
    cfg = nc.config()
    assert cfg["isa"] in cfg["isa_available"] and cfg["threads"] >= 1
    assert cfg["gemm_kernel"].startswith(cfg["isa"])  # e.g. "avx512 8x48", "scalar 4x16 (...)"
    try:
        nc._core.set_isa("scalar")
        assert nc.config()["gemm_kernel"].startswith("scalar")
    finally:
        nc._core.set_isa(cfg["isa"])
    assert isinstance(cfg["openmp"], bool) and cfg["compiler"]


def test_thread_count_setting():
    nc.set_num_threads(1)
    assert nc.get_num_threads() == 1
    with nc.num_threads(2):
        assert nc.get_num_threads() == 2
    assert nc.get_num_threads() == 1
    nc.set_num_threads(0)
    with pytest.raises(ValueError):
        nc.set_num_threads(1.5)


def _run(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120
    )


@pytest.mark.parametrize("value", ["avx9000", "neon"])
def test_bad_or_unsupported_isa_fails_the_import_clearly(value):
    if value in nc._core.supported_isas():
        pytest.skip("supported here")
    r = _run("import nncore", NNCORE_ISA=value)
    assert r.returncode != 0
    assert "NNCORE_ISA" in r.stderr or "unknown ISA" in r.stderr
    assert "Segmentation" not in r.stderr


def test_isa_can_be_forced_by_environment():
    for isa in nc._core.supported_isas():
        r = _run("import nncore; print(nncore.config()['isa'])", NNCORE_ISA=isa)
        assert r.stdout.strip() == isa, r.stderr


def test_omp_num_threads_is_respected():
    r = _run("import nncore; print(nncore.get_num_threads())", OMP_NUM_THREADS="1")
    assert r.stdout.strip() == "1", r.stderr


def test_import_is_light():
    r = _run(
        "import sys, nncore; print(sorted(m for m in ('torch', 'sklearn', 'matplotlib', "
        "'joblib', 'tqdm', 'pandas') if m in sys.modules))"
    )
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_readme_example_runs(tmp_path):
    with open(os.path.join(os.path.dirname(__file__), "..", "README.md")) as f:
        readme = f.read()
    code = re.search(r"## Example\n\n```python\n(.*?)```", readme, re.S).group(1)
    code = code.replace('"digits.nnc"', repr(str(tmp_path / "digits.nnc")))
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.strip().splitlines()[-1]) > 0.9


def test_keras_input_gives_the_input_width():
    first = nc.Sequential([nc.Input(shape=(20,)), nc.Dense(8, "relu"), nc.Dense(2)], seed=3)
    plain = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(2)], input_dim=20, seed=3)
    assert first.input_dim == 20 and first.built and len(first.layers) == 2
    for a, b in zip(first.get_weights(), plain.get_weights()):  # the same model
        assert np.array_equal(a, b)
    added = nc.Sequential(seed=3).add(nc.Input(20)).add(nc.Dense(8, "relu")).add(nc.Dense(2))
    assert added.input_dim == 20 and not added.built
    assert added.build().get_weights()[0].shape == (8, 20)
    assert nc.Sequential([nc.Input([20]), nc.Dense(2)], input_dim=20).input_dim == 20
    for bad in ((2, 3), (), 0, -1, (True,), 2.5, "20"):
        with pytest.raises(ValueError, match="Input"):
            nc.Input(bad)
    with pytest.raises(ValueError, match="disagrees"):
        nc.Sequential([nc.Input(4), nc.Dense(2)], input_dim=5)
    with pytest.raises(TypeError, match="before any layer"):
        nc.Sequential([nc.Dense(2), nc.Input(4)])
