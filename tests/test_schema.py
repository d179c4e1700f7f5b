"""The core's schema (``_core.schema()``) is the one description of layers, activations, losses and
optimizers: the Python classes, the core's factories and the built networks must all agree
with it."""

import inspect
import math

import pytest

import nncore as nc
import nncore._core as core
import nncore.optim as optim
from nncore import _schema

SCHEMA = core.schema()
LAYERS = {k["type"]: k for k in SCHEMA["layers"]}
OPTIMIZERS = {o["name"]: o for o in SCHEMA["optimizers"]}

# A value just outside each limit (None: the limit has no numeric outside we test here).
OUTSIDE = {
    "finite": math.inf,
    "ge0": -1.0,
    "gt0": -1.0,
    "unit_open": 1.0,
    "unit_closed": 1.5,
    "flag": 2,
    "positive_int": 0,
}


def test_schema_lists_every_kind():
    assert set(LAYERS) == {
        "dense",
        "activation",
        "batchnorm",
        "layernorm",
        "dropout",
        "residual",
        "embedding",
    }
    assert set(OPTIMIZERS) == set(optim._BY_NAME)
    assert nc.layers.ACTIVATIONS == tuple(a["name"] for a in SCHEMA["activations"])
    assert nc.layers.INITIALIZERS == tuple(SCHEMA["initializers"])
    for kind in LAYERS.values():
        assert kind["fold"] in {"gemm", "scale_shift", "epilogue", "identity", "block", "none"}


@pytest.mark.parametrize("act", [a["name"] for a in SCHEMA["activations"]])
def test_every_schema_activation_builds(act):
    net = core.Network(3, [{"type": "dense", "units": 4, "activation": act}], 0)
    assert net.output_dim == 4


@pytest.mark.parametrize("loss", SCHEMA["losses"], ids=lambda loss: loss["name"])
def test_every_schema_loss_and_alias_is_accepted(loss):
    net = core.Network(3, [{"type": "dense", "units": 2}], 0)
    options = {"quantiles": [0.5]} if "quantiles" in loss["lists"] else None  # required
    for name in [loss["name"], *loss["aliases"]]:
        net.set_loss(name, options=options)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_python_optimizer_defaults_are_the_schema_defaults(name):
    cls = optim._BY_NAME[name]
    sig = inspect.signature(cls.__init__).parameters
    params = {p["name"]: p for p in OPTIMIZERS[name]["params"]}
    for k, p in params.items():
        if k in ("beta1", "beta2"):
            got = sig["betas"].default[int(k[-1]) - 1]
        elif k in ("clipnorm", "clipvalue"):
            assert sig[k].default is None and p["optional"]
            continue
        else:
            got = sig[k].default
        assert got == p["default"], (name, k)
    # and the core, given nothing, uses the same defaults
    hp = core.make_optimizer(name, {}).hparams()
    assert {k: hp[k] for k in params} == {k: float(p["default"]) for k, p in params.items()}


@pytest.mark.parametrize(
    "name, key",
    [
        (o["name"], p["name"])
        for o in SCHEMA["optimizers"]
        for p in o["params"]
        if OUTSIDE.get(p["limit"]) is not None
    ],
)
def test_optimizer_limits_hold_in_core_and_python(name, key):
    p = {q["name"]: q for q in OPTIMIZERS[name]["params"]}[key]
    bad = OUTSIDE[p["limit"]]
    with pytest.raises(ValueError, match=key):
        core.make_optimizer(name, {key: bad})
    cls = optim._BY_NAME[name]
    if key in ("beta1", "beta2"):
        betas = [0.9, 0.999]
        betas[int(key[-1]) - 1] = bad
        kwargs = {"betas": tuple(betas)}
    else:
        kwargs = {key: bad}
    with pytest.raises(ValueError, match="beta" if key.startswith("beta") else key):
        cls(**kwargs)


LAYER_CLASSES = {
    "dense": nc.Dense,
    "activation": nc.Activation,
    "batchnorm": nc.BatchNorm,
    "layernorm": nc.LayerNorm,
}
PY_NAMES = {("batchnorm", "batch1"): "batch1_fallback"}


def _core_spec(kind, key, value):
    spec = {"type": kind, key: value}
    if kind == "dense" and key != "units":
        spec["units"] = 3
    return spec


@pytest.mark.parametrize(
    "kind, key",
    [
        (k["type"], p["name"])
        for k in SCHEMA["layers"]
        for p in k["params"]
        if OUTSIDE.get(p["limit"]) is not None
    ],
)
def test_layer_limits_hold_in_core_and_python(kind, key):
    p = {q["name"]: q for q in LAYERS[kind]["params"]}[key]
    bad = OUTSIDE[p["limit"]]
    if not math.isinf(bad):  # the binding refuses non-finite numbers before the schema
        with pytest.raises(ValueError, match=key):
            core.Network(3, [_core_spec(kind, key, bad)], 0)
    args = {PY_NAMES.get((kind, key), key): bad}
    if kind == "dense" and key != "units":
        args["units"] = 3
    if kind == "dropout":
        with pytest.raises(ValueError, match=key):
            nc.Dropout(**args)
        return
    if kind == "embedding":  # reserve is Python's unknown="reserve"
        with pytest.raises(ValueError, match="unknown"):
            nc.Embedding(3, 2, unknown=bad)
        return
    if kind == "activation":
        args["activation"] = "elu"
    with pytest.raises(ValueError, match=key):
        LAYER_CLASSES[kind](**args)


@pytest.mark.parametrize(
    "layers, options",
    [
        ([nc.Dense(4)], {}),
        ([nc.Dense(4, use_bias=False)], {"use_bias": False}),
        ([nc.Dense(4), nc.BatchNorm()], {}),
        ([nc.Dense(4), nc.BatchNorm(affine=False)], {"affine": False}),
        ([nc.Dense(4), nc.Activation("relu"), nc.Dropout(0.3)], {}),
        ([nc.Dense(4), nc.LayerNorm()], {}),
        (
            [nc.Dense(4), nc.LayerNorm(bias=False)],
            {"elementwise_affine and bias": False},
        ),
        (
            [nc.Dense(4), nc.LayerNorm(elementwise_affine=False)],
            {"elementwise_affine": False, "elementwise_affine and bias": False},
        ),
        ([nc.Embedding(3, 2), nc.Dense(4)], {"one_table": True, "tables": False}),
        (
            [nc.TabularInput([0], {1: 3, 2: 4}), nc.Dense(4)],
            {"one_table": False, "tables": True},
        ),
    ],
)
def test_built_tensors_are_the_schema_tensors(layers, options):
    """Each layer's parameters and buffers, as the network lays them out, are the schema's
    tensors (those whose condition holds), in the schema's order."""
    m = nc.Sequential(layers, input_dim=5)
    net = m.engine.core
    params = [name for name, *_ in net.param_views()]
    buffers = [name for name, *_ in net.buffer_views()]
    want_p, want_b = [], []
    for i, layer in enumerate(layers):
        kind = LAYERS[layer.spec()["type"]]
        for t in kind["tensors"]:
            if not t["when"] or options.get(t["when"], True):
                if t["name"] == "weight_<t>":  # one per table (the embedding's code columns)
                    want_p += [f"{i}.weight_{k}" for k in range(len(layer.spec()["columns"]))]
                else:
                    want_p.append(f"{i}.{t['name']}")
        want_b += [f"{i}.{t['name']}" for t in kind["buffers"]]
    assert params == want_p
    assert buffers == want_b


def test_python_check_messages():
    dense = _schema.layer_params("dense")
    with pytest.raises(ValueError, match=r"Dense: l1 must be a finite number >= 0, got -1"):
        _schema.check("Dense: l1", dense["l1"], -1)
    with pytest.raises(ValueError, match=r"None or a finite number > 0, got 0"):
        _schema.check("Dense: max_norm", dense["max_norm"], 0)
    with pytest.raises(ValueError, match="True or False"):
        _schema.check("Dense: use_bias", dense["use_bias"], "yes")
    assert _schema.check("Dense: max_norm", dense["max_norm"], None) is None
    assert _schema.check("Dense: units", dense["units"], 7) == 7
