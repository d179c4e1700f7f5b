"""Input validation policy (issue: Hardening): dtypes, layouts, NaN/inf, labels, empty arrays,
sizes beyond the core's 32-bit indexing or the machine's memory, refused before allocating; the
bindings as the last line of defence."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc
from nncore import _core
from nncore._validation import check_X


def _model(d=4, k=3, loss="cross_entropy", hidden=8):
    m = nc.Sequential([nc.Dense(hidden, "relu"), nc.Dense(k)], input_dim=d, seed=0)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss=loss)
    return m


@pytest.fixture
def Xy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(24, 4)).astype(np.float32), rng.integers(0, 3, 24)


@pytest.mark.parametrize(
    "conv",
    [
        lambda X: X.astype(np.float64),
        lambda X: np.asfortranarray(X),
        lambda X: np.ascontiguousarray(X[::-1])[::-1],
        lambda X: np.repeat(X, 2, axis=0)[::2],
        lambda X: np.repeat(X, 3, axis=1)[:, ::3],
        lambda X: X.tolist(),
    ],
)
def test_layouts_and_float64_give_identical_results(Xy, conv):
    X, y = Xy
    ref = _model()
    ref.fit(X, y, epochs=2, batch_size=5)
    m = _model()
    m.fit(conv(X), y, epochs=2, batch_size=5)
    np.testing.assert_array_equal(m.predict(conv(X)), ref.predict(X))


def test_int_and_bool_features_are_converted(Xy):
    _, y = Xy
    m = _model()
    Xi = np.arange(96).reshape(24, 4) % 5
    np.testing.assert_array_equal(m.predict(Xi), m.predict(Xi.astype(np.float32)))
    np.testing.assert_array_equal(m.predict(Xi > 2), m.predict((Xi > 2).astype(np.float32)))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((24, 4), object),
        np.full((24, 4), "1.0"),
        np.zeros((24, 4), np.complex128),
        np.zeros((24, 4), "datetime64[s]"),
        np.zeros((24, 4), [("a", "f4")]),
        [[1, 2], [3]],
    ],
)
def test_non_numeric_features_rejected_naming_X(Xy, bad):
    _, y = Xy
    with pytest.raises((TypeError, ValueError), match="X"):
        _model().fit(bad, y[: len(bad)])


def test_nan_inf_and_float32_overflow_name_row_and_column(Xy):
    X, y = Xy
    for value in (np.nan, np.inf, -np.inf):
        Xb = X.copy()
        Xb[7, 3] = value
        with pytest.raises(ValueError, match=r"X: .*row 7, column 3"):
            _model().fit(Xb, y)
    Xb = X.astype(np.float64)
    Xb[2, 1] = 1e39  # finite in float64, inf in float32
    with pytest.raises(ValueError, match=r"row 2, column 1.*float32"):
        _model().predict(Xb)


def test_nan_scan_of_a_big_array_is_blockwise_and_exact():
    X = np.zeros((3_000_000, 3), np.float32)
    X[2_999_998, 2] = np.nan
    with pytest.raises(ValueError, match=r"row 2999998, column 2"):
        check_X(X)


@pytest.mark.parametrize(
    "y, msg",
    [
        (-np.ones(24, int), "negative"),
        (np.full(24, 3), "out of range"),
        (np.full(24, 0.5), "integers"),
        (np.full(24, 2**32 + 1), "out of range"),
        (np.zeros(23, int), "rows"),
        (np.full(24, np.nan), "nan"),
        (np.zeros((24, 2)), "shape"),
        (np.array(["a"] * 24), "numeric"),
    ],
)
def test_bad_labels(Xy, y, msg):
    X, _ = Xy
    with pytest.raises((ValueError, TypeError), match=msg):
        _model().fit(X, y)


def test_label_types_accepted(Xy):
    X, y = Xy
    ref = _model()
    ref.fit(X, y, epochs=1)
    for yy in (y.astype(np.int32), y.astype(np.uint8), y.astype(np.float64), y.reshape(-1, 1)):
        m = _model()
        m.fit(X, yy, epochs=1)
        np.testing.assert_array_equal(m.predict(X), ref.predict(X))


def test_empty_inputs(Xy):
    X, y = Xy
    m = _model()
    for bad in (X[:0], X[:, :0], np.zeros((0, 0))):
        with pytest.raises(ValueError, match="X"):
            m.predict(bad)


def test_sample_weight_checks(Xy):
    X, y = Xy
    for w, msg in ((-np.ones(24), ">= 0"), (np.ones(23), "shape"), (np.full(24, np.nan), "nan")):
        with pytest.raises(ValueError, match=f"sample_weight.*{msg}"):
            _model().fit(X, y, sample_weight=w)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2**31}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"validation_split": "0.1"}, "validation_split"),
        ({"validation_split": float("nan")}, "validation_split"),
        ({"seed": -1}, "seed"),
        ({"seed": "a"}, "seed"),
        ({"shuffle": "no"}, "shuffle"),  # bool("no") is True: refused, not read as True
        ({"shuffle": "batch"}, "shuffle"),
        ({"shuffle": 0}, "shuffle"),
    ],
)
def test_bad_fit_hyperparameters_are_named(Xy, kw, name):
    X, y = Xy
    with pytest.raises((ValueError, TypeError), match=name):
        _model().fit(X, y, **kw)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: nc.model_selection.KFold(3, shuffle="False"), "KFold: shuffle"),
        (lambda: nc.model_selection.StratifiedKFold(3, shuffle=1), "StratifiedKFold: shuffle"),
        (lambda: nc.model_selection.train_test_split([1, 2, 3], shuffle="no"), "shuffle"),
        (lambda: nc.callbacks.EarlyStopping(restore_best="yes"), "restore_best"),
        (lambda: nc.callbacks.EarlyStopping(restore_best_weights="True"), "restore_best_weights"),
        (lambda: nc.callbacks.ModelCheckpoint("m.nnc", save_best_only="False"), "save_best_only"),
        (lambda: nc.callbacks.TerminateOnNaN(every_batch="no"), "every_batch"),
        (lambda: nc.callbacks.CSVLogger("log.csv", append="no"), "append"),
        (lambda: nc.callbacks.LambdaCallback(wants_batches=1), "wants_batches"),
        (lambda: _model().forward(np.zeros((2, 4), np.float32), training="False"), "training"),
        (
            lambda: nc.lr_scheduler.OneCycleLR(
                _model().optimizer, max_lr=0.1, total_steps=10, cycle_momentum="no"
            ),
            "cycle_momentum",
        ),
    ],
)
def test_flags_must_be_bools(make, name):
    # bool("False") is True: a string or number from a config file must not flip a flag silently
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        make()


def test_optimizer_must_be_an_optimizer():
    m = nc.Sequential([nc.Dense(2)], input_dim=3)
    for bad in (5, object()):
        with pytest.raises((TypeError, ValueError), match="optimizer"):
            m.compile(optimizer=bad, loss="mse")


# ------------------------------------------------------------------------ sizes and memory
def test_rows_beyond_int32_rejected_without_allocating():
    X = np.broadcast_to(np.float32(1), (2**31, 4))  # a view: no memory behind it
    with pytest.raises(ValueError, match="2\\*\\*31-1"):
        _model().predict(X)


def test_copy_larger_than_memory_is_a_memory_error():
    X = np.broadcast_to(np.float64(1), (2**31 - 1, 64))  # float32 copy would be 512 GiB
    with pytest.raises(MemoryError, match="X"):
        nc.Sequential([nc.Dense(2)]).predict(X)


@pytest.mark.parametrize("units, input_dim", [(10**9, 10), (2**20, 2**12), (2**29, 4), (10**9, 2)])
def test_huge_layers_refused_before_allocating(units, input_dim):
    with pytest.raises((ValueError, MemoryError), match="units|layer|Dense"):
        nc.Sequential([nc.Dense(units), nc.Dense(2)], input_dim=input_dim)


def test_rows_times_width_beyond_int32_is_refused():
    m = nc.Sequential([nc.Dense(4096), nc.Dense(1)], input_dim=1)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="mse")
    x = np.zeros((2**19 + 1, 1), np.float32)  # 2**19+1 rows x 4096 > 2**31-1 elements
    with pytest.raises(ValueError, match="exceeds the core's limit"):
        m.forward(x)
    with pytest.raises(ValueError, match="exceeds the core's limit"):
        m.train_step(x, np.zeros(len(x)))
    with pytest.raises(ValueError, match="batch_size"):
        m.fit(x, np.zeros(len(x)), batch_size=len(x))
    assert m.predict(x[:3]).shape == (3, 1)  # predict runs in chunks: fine


def test_workspace_larger_than_memory_is_a_memory_error():
    m = nc.Sequential([nc.Dense(2000, "relu"), nc.Dense(2000, "relu"), nc.Dense(1)], input_dim=4)
    m.compile(optimizer=nc.optim.SGD(lr=0.1), loss="mse")
    x = np.zeros((2**20, 4), np.float32)  # ~40 GB of activations for one batch
    with pytest.raises(MemoryError, match="rows"):
        m.train_step(x, np.zeros(len(x)))


# ------------------------------------------------------------------- bindings (last line)
def _net():
    net = _core.Network(3, [{"type": "dense", "units": 4}, {"type": "dense", "units": 2}], 0)
    net.set_optimizer(_core.make_optimizer("sgd", {"lr": 0.1}))
    net.set_loss("cross_entropy")
    return net


def test_binding_labels_are_range_checked_at_64_bits():
    net = _net()
    X = np.ones((4, 3), np.float32)
    for bad in (2**32 + 1, -1, 2, 2**63 - 1):
        with pytest.raises(ValueError, match="label"):
            net.train_step(X, np.full(4, bad, np.int64))
    with pytest.raises(ValueError, match="label"):
        net.train_step(X, np.full(4, 2**64 - 1, np.uint64))


def test_binding_batch_range_and_order():
    net = _net()
    X, y = np.ones((10, 3), np.float32), np.zeros(10, np.int64)
    with pytest.raises(ValueError, match="batch_begin"):
        net.train_epoch(X, y, None, 4, None, -1, 3)
    with pytest.raises(ValueError, match="batch_size"):
        net.train_epoch(X, y, None, 0, None, 0, 3)
    with pytest.raises(ValueError, match="order"):
        net.train_epoch(X, y, None, 4, np.full(10, 10, np.int64), 0, 3)
    with pytest.raises(TypeError, match="order"):
        net.train_epoch(X, y, None, 4, np.zeros(10, complex), 0, 3)


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 3), object), np.zeros((4, 3), complex), np.full((4, 3), "x")]
)
def test_binding_rejects_non_numeric(bad):
    with pytest.raises(TypeError, match="x"):
        _net().predict(bad)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e39, 10**400])
def test_binding_layer_spec_numbers(value):
    with pytest.raises(ValueError, match="alpha"):
        _core.Network(3, [{"type": "dense", "units": 4, "alpha": value}], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 4095, 4096, 4097, 10001])
def test_nonfinite_scan_finds_the_first_bad_cell(dtype, n):
    # The C++ scan works in 4096-element blocks: place bad values on both sides of a boundary.
    from nncore._validation import check_finite

    x = np.ones(n, dtype)
    assert _core.find_nonfinite(x) == -1
    for pos in sorted({0, n // 2, n - 1, min(n - 1, 4096)}):
        y = x.copy()
        y[pos] = np.nan
        if pos + 1 < n:
            y[-1] = np.inf  # a later bad value must not be reported first
        assert _core.find_nonfinite(y) == pos
        with pytest.raises(ValueError, match=rf"index \({pos}\)"):
            check_finite(y, "X")
    if dtype == np.float64:
        y = x.copy()
        y[n - 1] = 1e39  # finite, but not a float32
        assert _core.find_nonfinite(y) == n - 1
    assert _core.find_nonfinite(x[::2]) == (-2 if n > 1 else -1)  # strided: numpy fallback
    assert _core.find_nonfinite(x.astype(np.float16)) == -2
