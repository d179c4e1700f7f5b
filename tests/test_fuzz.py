"""Fuzzing the public API (issue: Hardening) with hypothesis.

Every generated case runs in a worker subprocess, so a crash (segfault, abort, sanitizer report)
is caught as a failure with the case that caused it, and a hang by a timeout. A case is a valid
base call (model, data, hyper-parameters; varied dtypes, layouts and values) plus zero to two
perturbations (NaN/inf, wrong shapes or dtypes, labels out of range, absurd sizes, bad
hyper-parameters...). Models mix Dense, Activation, BatchNorm and Dropout layers, every loss
and every optimizer with a random valid set of options; model files to corrupt come with
BatchNorm buffers and each optimizer's saved state, and are byte-flipped, truncated, spliced or
given structured JSON-header mutations resealed with a correct SHA-256 (tools/hostile_corpus.py),
then read by both loaders, each of which may only raise its one documented error. The rules: a case without perturbations
must succeed (or raise one of the documented errors in its "allow" list, e.g. BatchNorm's
refusal of a one-row training batch); any exception must be a
ValueError/TypeError/RuntimeError/MemoryError whose message names a perturbed argument.

Profiles (environment variable NNCORE_FUZZ_PROFILE):
  quick (default)  a few hundred cases, derandomized (the same every run), plus a smaller set
                   drawn from this run's seed: part of the normal test run
  full             >= 10,000 cases from this run's seed: ``tools/fuzz.sh`` (prints cases,
                   crashes, hangs, time)
The seed is NNCORE_FUZZ_SEED when set, else random (conftest.py picks it once per run); it is
printed in pytest's header and summary and in every seeded failure's message. Replay a failure
with NNCORE_FUZZ_SEED=<seed> and the same profile.
"""

from __future__ import annotations

import os
import pickle
import random
import select
import struct
import subprocess
import sys
import time

import numpy as np

ALLOWED = (ValueError, TypeError, RuntimeError, MemoryError)
CASE_TIMEOUT = float(os.environ.get("NNCORE_FUZZ_TIMEOUT", "60"))

# ============================================================================ worker side
# (runs in the subprocess; imports nncore only there)


def _layout(arr, layout):
    """Same values, different memory layout or container."""
    if not isinstance(arr, np.ndarray):
        return arr
    if layout == "F" and arr.ndim == 2:
        return np.asfortranarray(arr)
    if layout == "neg" and arr.ndim >= 1:
        return np.ascontiguousarray(arr[::-1])[::-1]
    if layout == "strided" and arr.ndim >= 1:
        big = np.zeros((arr.shape[0] * 2, *arr.shape[1:]), arr.dtype)
        big[::2] = arr
        return big[::2]
    if layout == "colstrided" and arr.ndim == 2:
        big = np.zeros((arr.shape[0], arr.shape[1] * 3), arr.dtype)
        big[:, ::3] = arr
        return big[:, ::3]
    if layout == "readonly":
        arr = arr.copy()
        arr.setflags(write=False)
        return arr
    if layout == "list" and arr.dtype.kind in "fiub":  # a list of an object array is numeric
        return arr.tolist()
    return arr


def _materialize(spec):
    """Arrays travel as (array, layout) or as special markers; build the real object here."""
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] == "__layout__":
        arr, layout = spec[1]
        return _layout(arr, layout)
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] == "__broadcast__":
        value, shape = spec[1]
        return np.broadcast_to(np.asarray(value), shape)
    return spec


def _run_case(case):
    import nncore as nc
    from nncore import _core

    kind = case["kind"]
    if kind == "core":
        return _run_core(case, _core)
    if kind == "file":
        p = case["path"]
        with open(p, "wb") as f:
            f.write(case["bytes"])
        # both loaders; each may refuse only with its one documented error type
        refused = []
        for load, documented in (
            (nc.load, nc.ModelFileError),
            (_core.CppModel.load, _core.CppModelError),
        ):
            try:
                load(p)
            except documented as e:
                refused.append(e)
            except Exception as e:  # noqa: BLE001 - reported as unclean by check_case
                raise SystemError(f"{load.__qualname__} raised {type(e).__name__}: {e}") from None
        if refused:
            raise refused[0]
        return None
    layers = []
    for t, kw in case["layers"]:
        layers.append(
            {
                "dense": nc.Dense,
                "activation": nc.Activation,
                "dropout": getattr(nc, "Dropout", None),
                "batchnorm": getattr(nc, "BatchNorm", None),
            }[t](**kw)
        )
    m = nc.Sequential(layers, input_dim=case["input_dim"], seed=case["seed"])
    m.compile(optimizer=case["optimizer"], loss=case["loss"], **case["compile_kw"])
    X = _materialize(case["X"])
    y = _materialize(case["y"])
    kw = {k: _materialize(v) for k, v in case["kw"].items()}
    op = case["op"]
    if op == "fit":
        h = m.fit(X, y, **kw)
        assert len(h.epoch) == m.epochs_done
        return None
    if op == "predict":
        out = m.predict(X)
        assert out.shape[0] == len(X)
        return None
    if op == "evaluate":
        m.evaluate(X, y, **kw)
        return None
    if op == "train_step":
        m.train_step(X, y, **kw)
        return None
    if op == "forward_backward":
        out = m.forward(X, training=True)
        loss, grad = m.loss_fn(out if kw.get("output") is None else kw["output"], y)
        m.backward(grad if kw.get("grad") is None else kw["grad"])
        return None
    if op == "set_weights":
        if not m.built:
            m.predict(X)
        w = kw["weights"]
        good = m.get_weights()
        if isinstance(w, tuple) and w[0] == "__weights_like__":
            w = [np.asarray(a, np.float64) for a in good]
        elif isinstance(w, tuple) and w[0] == "__weights_bad__":
            w = {
                "count": good[:-1],
                "shape": [a.reshape(-1)[:-1] if a.size > 1 else np.zeros((2, 2)) for a in good],
                "obj": [np.full(a.shape, None) for a in good],
                "str": [np.full(a.shape, "a") for a in good],
            }[w[1]]
        m.set_weights(w)
        m.predict(X)
        return None
    if op == "save_load":
        m.fit(X, y, epochs=1)
        m.save(case["path"])
        m2 = nc.load(case["path"])
        assert np.array_equal(m2.predict(X), m.predict(X), equal_nan=True)
        return None
    raise AssertionError(f"unknown op {op}")


def _run_core(case, _core):
    op = case["op"]
    a = {k: _materialize(v) for k, v in case["args"].items()}
    if op == "network":
        net = _core.Network(a["input_dim"], a["specs"], 0)
        net.set_optimizer(_core.make_optimizer("sgd", {"lr": 0.01}))
        net.set_loss("mse")
        if "X" in a:
            net.train_epoch(
                a["X"],
                a["y"],
                a.get("w"),
                a["batch_size"],
                a.get("order"),
                a["begin"],
                a["end"],
            )
            net.predict(a["X"])
        return None
    if op == "sgemm":
        _core.sgemm(a["A"], a["B"], a["ta"], a["tb"], a["alpha"], a["beta"], a.get("C"))
        _core.sgemm_naive(a["A"], a["B"], a["ta"], a["tb"], a["alpha"], a["beta"], a.get("C"))
        return None
    raise AssertionError(op)


def _worker():
    import faulthandler

    faulthandler.enable()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    while True:
        head = inp.read(8)
        if len(head) < 8:
            return
        case = pickle.loads(inp.read(struct.unpack("<Q", head)[0]))
        try:
            _run_case(case)
            result = ("ok", "", "")
        except BaseException as e:  # noqa: BLE001 - classified by the parent
            result = (
                "error",
                type(e).__name__,
                str(e)[:2000],
                [c.__name__ for c in type(e).__mro__],
            )
        data = pickle.dumps(result)
        out.write(struct.pack("<Q", len(data)) + data)
        out.flush()


# ============================================================================ parent side


class Crash(AssertionError):
    pass


class Worker:
    """A persistent subprocess that runs cases; restarted after a crash or a hang."""

    def __init__(self):
        self.proc = None

    def start(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None

    def _read(self, n, deadline):
        buf = b""
        fd = self.proc.stdout.fileno()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                return b""
            buf += chunk
        return buf

    def run(self, case):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        data = pickle.dumps(case)
        try:
            self.proc.stdin.write(struct.pack("<Q", len(data)) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        deadline = time.monotonic() + CASE_TIMEOUT
        head = self._read(8, deadline)
        if head is None:
            STATS["hangs"] += 1
            self.stop()
            raise Crash(f"hang: no answer within {CASE_TIMEOUT} s")
        if len(head) < 8:
            try:
                code = self.proc.wait(timeout=30)
                err = self.proc.stderr.read().decode(errors="replace")
            except subprocess.TimeoutExpired:
                code, err = None, "(the worker closed its output but did not exit)"
            self.stop()
            STATS["crashes"] += 1
            # the head of a sanitizer report names the error; the tail is the Python stack
            text = err if len(err) < 6000 else err[:4000] + "\n...\n" + err[-2000:]
            raise Crash(f"worker crashed (exit code {code}):\n{text}")
        body = self._read(struct.unpack("<Q", head)[0], deadline)
        return pickle.loads(body)


STATS = {"cases": 0, "errors": 0, "ok": 0, "crashes": 0, "hangs": 0, "start": time.monotonic()}
_WORKER = Worker()


def check_case(case, bad_names):
    """Run a case in the worker and apply the rules."""
    STATS["cases"] += 1
    result = _WORKER.run(case)
    if result[0] == "ok":
        STATS["ok"] += 1
        if bad_names and not case.get("may_pass"):
            raise AssertionError(f"expected an error naming {bad_names}, the call succeeded")
        return
    STATS["errors"] += 1
    _, tname, msg, mro = result
    if not any(c in mro for c in ("ValueError", "TypeError", "RuntimeError", "MemoryError")):
        raise AssertionError(f"unclean exception {tname}: {msg}")
    if tname in (
        "AssertionError",
        "SystemError",
        "KeyError",
        "IndexError",
        "AttributeError",
        "ZeroDivisionError",
        "OverflowError",
        "FloatingPointError",
        "RecursionError",
        "NotImplementedError",
    ):
        raise AssertionError(f"unclean exception {tname}: {msg}")
    if tname == "ValueError" and any(a in msg for a in case.get("allow", ())):
        return
    if not bad_names:
        raise AssertionError(f"valid input raised {tname}: {msg}")
    low = msg.lower()
    if not any(n.lower() in low for n in bad_names):
        raise AssertionError(f"{tname} message does not name any of {bad_names}: {msg}")


# --------------------------------------------------------------------------- strategies
if __name__ != "__main__":
    import warnings

    import pytest
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    # hypothesis imports this module (and libcst, which warns) only when reporting a failure,
    # where pytest's filterwarnings=error would turn the report itself into an INTERNALERROR.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import hypothesis.extra._patching  # noqa: F401
        except Exception:  # noqa: BLE001 - optional
            pass

    PROFILE = os.environ.get("NNCORE_FUZZ_PROFILE", "quick")
    # No shrinking: the failing case is printed as is, and a crash would restart the worker per step.
    _common = dict(
        deadline=None,
        print_blob=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    settings.register_profile("nncore_quick", derandomize=True, **_common)
    settings.register_profile("nncore_seeded", **_common)
    # share of the profile's cases per test (the API test gets most)
    _QUICK = {"api": 200, "core": 60, "file": 60}
    _SEEDED = {"api": 80, "core": 25, "file": 25}
    _FULL = {"api": 7000, "core": 2000, "file": 1500}
    FUZZ_SEED = int(os.environ.get("NNCORE_FUZZ_SEED") or 0)  # conftest.py sets it per run

    def _fz(kind):
        if PROFILE == "full":
            return _fz_seeded(kind)
        return settings(settings.get_profile("nncore_quick"), max_examples=_QUICK[kind])

    def _fz_seeded(kind):
        n = (_FULL if PROFILE == "full" else _SEEDED)[kind]
        opts = settings(settings.get_profile("nncore_seeded"), max_examples=n)
        return lambda test: seed(FUZZ_SEED)(opts(test))

    def check_seeded(case, bad):
        try:
            check_case(case, bad)
        except AssertionError as e:
            replay = (
                f"[seeded fuzz case: replay with NNCORE_FUZZ_SEED={FUZZ_SEED} "
                f"NNCORE_FUZZ_PROFILE={PROFILE} python -m pytest tests/test_fuzz.py]"
            )
            raise type(e)(f"{e}\n{replay}") from None

    ACTS = ["relu", "tanh", "sigmoid", "linear", "gelu", "elu", "leaky_relu"]
    LOSSES = ["mse", "mae", "huber", "cross_entropy", "binary_cross_entropy"]
    LAYOUTS = ["C", "C", "F", "neg", "strided", "colstrided", "readonly", "list"]
    SPECIAL = [np.nan, np.inf, -np.inf]

    @st.composite
    def values(draw, shape, kind="normal"):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        scale = draw(st.sampled_from([1.0, 1.0, 1e-30, 1e-42, 1e3, 1e30]))
        with np.errstate(all="ignore"):
            return (rng.normal(size=shape) * scale).astype(np.float32)

    @st.composite
    def api_cases(draw):
        with np.errstate(all="ignore"):  # the generator itself makes overflowing values
            return _api_case(draw)

    def _batchnorm_kw(draw):
        return {
            "momentum": draw(st.sampled_from([0.1, 0.5, 1.0])),
            "eps": draw(st.sampled_from([1e-5, 1e-3])),
            "affine": draw(st.booleans()),
            "batch1_fallback": draw(st.booleans()),
        }

    @st.composite
    def optimizers(draw):
        """Every optimizer with a random valid mix of its options, as a get_config() dict.
        Chosen by a numpy generator seeded from one drawn integer: hypothesis's own choices
        repeat a few configurations across a derandomized run, this covers them evenly."""
        r = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

        def pick(*options):
            return options[r.integers(len(options))]

        name = pick("sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam")
        cfg = {"name": name, "lr": pick(1e-4, 1e-2, 0.1, 1.0)}
        wd = (0.0, 0.0, 1e-4, 0.1)
        if name == "sgd":
            mom = pick(0.0, 0.0, 0.5, 0.9)
            cfg.update(momentum=mom, weight_decay=pick(*wd))
            if mom > 0 and pick(True, False):
                cfg["nesterov"] = True
            elif mom > 0:
                cfg["dampening"] = pick(0.0, 0.3)
        elif name == "adagrad":
            cfg.update(
                lr_decay=pick(0.0, 0.01),
                weight_decay=pick(*wd),
                initial_accumulator_value=pick(0.0, 0.1),
                eps=pick(1e-10, 1e-8),
            )
        elif name == "rmsprop":
            cfg.update(
                alpha=pick(0.99, 0.9, 0.3),
                eps=pick(1e-8, 1e-6),
                weight_decay=pick(*wd),
                momentum=pick(0.0, 0.5),
                centered=pick(True, False),
            )
        else:
            cfg.update(betas=pick([0.9, 0.999], [0.0, 0.5], [0.3, 0.99]), eps=pick(1e-8, 1e-6))
            cfg["weight_decay"] = pick(*wd)
            if name in ("adam", "adamw"):
                cfg["amsgrad"] = pick(True, False)
            if name in ("adam", "nadam"):
                cfg["decoupled_weight_decay"] = pick(True, False)
            if name == "nadam":
                cfg["momentum_decay"] = pick(4e-3, 0.0, 0.1)
        if pick(True, False):
            cfg["clipnorm"] = pick(0.1, 1.0, 100.0)
        if pick(True, False):
            cfg["clipvalue"] = pick(0.01, 1.0)
        return cfg

    def _api_case(draw):
        bad = []  # (names the message may use)
        n = draw(st.integers(1, 40))
        d = draw(st.integers(1, 12))
        loss = draw(st.sampled_from(LOSSES))
        k = draw(st.integers(2, 6)) if loss == "cross_entropy" else draw(st.integers(1, 4))
        nhidden = draw(st.integers(0, 2))
        layers = []
        for _ in range(nhidden):
            layers.append(
                (
                    "dense",
                    {"units": draw(st.integers(1, 24)), "activation": draw(st.sampled_from(ACTS))},
                )
            )
            if draw(st.booleans()):
                layers.append(("activation", {"activation": draw(st.sampled_from(ACTS))}))
            extra = draw(st.sampled_from(["none", "none", "batchnorm", "dropout", "both"]))
            if extra in ("batchnorm", "both"):
                layers.append(("batchnorm", _batchnorm_kw(draw)))
            if extra in ("dropout", "both"):
                layers.append(("dropout", {"rate": draw(st.sampled_from([0.0, 0.1, 0.5, 0.9]))}))
        layers.append(
            (
                "dense",
                {
                    "units": k,
                    "activation": draw(
                        st.sampled_from(
                            [
                                "linear",
                                "linear",
                                "softmax" if loss == "cross_entropy" else "linear",
                                "sigmoid" if loss == "binary_cross_entropy" else "linear",
                            ]
                        )
                    ),
                },
            )
        )
        input_dim = draw(st.sampled_from([None, d]))
        seed = draw(st.integers(0, 2**64 - 1))
        X = draw(values((n, d)))
        xdtype = draw(st.sampled_from(["f4", "f8", "f8", "i8", "bool", "f2"]))
        if xdtype == "f8":
            X = X.astype(np.float64)
        elif xdtype == "i8":
            X = np.round(np.clip(X, -1e6, 1e6) * 3).astype(np.int64)
        elif xdtype == "bool":
            X = X > 0
        elif xdtype == "f2":
            X = np.clip(X, -1e4, 1e4).astype(np.float16)
        if loss == "cross_entropy":
            y = np.random.default_rng(seed % 2**32).integers(0, k, n)
            ykind = draw(st.sampled_from(["i8", "i4", "u1", "f8", "col", "onehot"]))
            if ykind == "i4":
                y = y.astype(np.int32)
            elif ykind == "u1":
                y = y.astype(np.uint8)
            elif ykind == "f8":
                y = y.astype(np.float64)
            elif ykind == "col":
                y = y.reshape(-1, 1)
            elif ykind == "onehot":
                y = np.eye(k, dtype=np.float32)[y]
        elif loss == "binary_cross_entropy":
            y = (np.random.default_rng(seed % 2**32).random((n, k)) > 0.5).astype(np.float32)
        else:
            y = draw(values((n, k)))
            if k == 1 and draw(st.booleans()):
                y = y[:, 0]
        op = draw(
            st.sampled_from(
                [
                    "fit",
                    "fit",
                    "fit",
                    "predict",
                    "evaluate",
                    "train_step",
                    "forward_backward",
                    "set_weights",
                    "save_load",
                ]
            )
        )
        kw = {}
        optimizer = draw(optimizers())
        compile_kw = {}
        if loss == "huber" and draw(st.booleans()):
            compile_kw["loss_options"] = {"delta": draw(st.sampled_from([0.1, 1.0, 5.0]))}
        if op == "fit":
            kw = {
                "epochs": draw(st.integers(0, 3)),
                "batch_size": draw(st.integers(1, 64)),
                "shuffle": draw(st.booleans()),
            }
            if n >= 4 and draw(st.booleans()):
                kw["validation_split"] = draw(st.floats(0.1, 0.5))
            if draw(st.booleans()):
                kw["sample_weight"] = np.abs(draw(values((n,)))) + 0.1
            if loss == "cross_entropy" and y.ndim == 1 and draw(st.booleans()):
                kw["class_weight"] = draw(st.sampled_from(["balanced", {0: 2.0}]))
        elif op == "evaluate" and draw(st.booleans()):
            kw["sample_weight"] = np.ones(n)

        perturbations = draw(st.lists(st.sampled_from(_PERTURB), max_size=2, unique=True))
        xgroup = [p for p in perturbations if p in _X_GROUP]
        if len(xgroup) > 1:  # one change to X at a time
            perturbations.remove(xgroup[1])
        opgroup = [p for p in perturbations if p in _OP_GROUP]
        if len(opgroup) > 1:  # one change of the call itself at a time
            perturbations.remove(opgroup[1])
        may_pass = False
        case = {
            "kind": "api",
            "layers": layers,
            "input_dim": input_dim,
            "seed": seed,
            "loss": loss,
            "optimizer": optimizer,
            "compile_kw": compile_kw,
            "X": X,
            "y": y,
            "kw": kw,
            "op": op,
            # BatchNorm without its fallback refuses a training batch of one row, by design;
            # inputs whose squares overflow float32 make its running variance inf, and save
            # refuses such a model (load would refuse the file)
            "allow": ["batch of 1", "cannot save: the model's buffers"]
            if any(t == "batchnorm" for t, _ in layers)
            else [],
        }
        for p in perturbations:
            names, mp = p(draw, case, n, d, k)
            bad += names
            may_pass = may_pass or mp
        if case["op"] == "set_weights" and "weights" not in case["kw"]:
            case["kw"]["weights"] = ("__weights_like__", None)
        case["may_pass"] = may_pass
        # layouts applied in the worker (pickling would make views contiguous again)
        for key in ("X", "y"):
            if isinstance(case[key], np.ndarray):
                case[key] = ("__layout__", (case[key], draw(st.sampled_from(LAYOUTS))))
        return case, bad

    # Each perturbation edits the case and returns (names an error may use, may it pass?).
    def _x_special(draw, case, n, d, k):
        X = np.array(case["X"], dtype=np.float64 if draw(st.booleans()) else np.float32)
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = draw(
            st.sampled_from(SPECIAL + [1e300])
        )
        case["X"] = X
        return ["X"], False

    def _x_shape(draw, case, n, d, k):
        X = np.asarray(case["X"])
        c = draw(st.sampled_from(["1d", "3d", "cols", "empty_rows", "empty_cols", "scalar"]))
        case["input_dim"] = d  # so a wrong column count is detectable
        case["X"] = {
            "1d": X.reshape(-1),
            "3d": X.reshape(n, d, 1),
            "cols": np.concatenate([X, X[:, :1]], axis=1),
            "empty_rows": X[:0],
            "empty_cols": X[:, :0],
            "scalar": np.float32(1.0),
        }[c]
        return ["X"], False

    def _x_dtype(draw, case, n, d, k):
        X = np.asarray(case["X"])
        c = draw(
            st.sampled_from(
                ["object", "str", "complex", "ragged", "none", "datetime", "struct", "objnum"]
            )
        )
        if c == "object":
            X = X.astype(object)
            X[0, 0] = "a"
        elif c == "objnum":
            X = X.astype(object)
        elif c == "str":
            X = X.astype(str)
        elif c == "complex":
            X = X.astype(np.complex64)
        elif c == "ragged":
            X = [list(r) for r in X.tolist()]
            X.append([1.0, 2.0] * (d + 1))  # a row of another length, whatever n and d are
        elif c == "none":
            X = None
        elif c == "datetime":
            X = np.zeros((n, d), "datetime64[s]")
        else:
            X = np.zeros((n, d), [("a", "f4")])
        case["X"] = X
        return ["X"], False

    def _y_bad(draw, case, n, d, k):
        loss = case["loss"]
        if case["op"] in ("predict", "set_weights"):  # calls that take no y
            case["op"] = "train_step"
            case["kw"] = {k: v for k, v in case["kw"].items() if k == "sample_weight"}
        y = np.asarray(case["y"])
        c = draw(
            st.sampled_from(
                ["rows", "nan", "object", "2d", "neg", "big", "frac", "huge_int", "str"]
            )
        )
        if c == "rows":
            y = np.concatenate([y, y[:1]])
        elif c == "nan":
            y = y.astype(np.float64)
            y.reshape(-1)[0] = np.nan
        elif c == "object":
            y = y.astype(object)
            y.reshape(-1)[0] = None
        elif c == "2d":
            y = np.zeros((n, k + 2, 2))
        elif c == "str":
            y = y.astype(str)
        elif (
            loss == "cross_entropy"
            and y.ndim == 1
            or (y.ndim == 2 and y.shape[1] == 1 and loss == "cross_entropy")
        ):
            y = y.reshape(-1).astype(np.int64)
            y[draw(st.integers(0, n - 1))] = {
                "neg": -1,
                "big": k,
                "frac": 0,
                "huge_int": 2**32 + 1,
            }[c]
            if c == "frac":
                y = y.astype(np.float64)
                y[0] = 0.5
        elif loss == "binary_cross_entropy" and c in ("neg", "big"):
            y = y.copy()
            y.reshape(-1)[0] = -1.0 if c == "neg" else 2.0
        else:
            y = np.concatenate([y, y[:1]])
        case["y"] = y
        return ["y", "label", "target", "class"], False

    def _sample_weight(draw, case, n, d, k):
        if case["op"] not in ("fit", "evaluate", "train_step"):
            return [], False
        c = draw(st.sampled_from(["neg", "nan", "len", "2d", "str"]))
        w = np.ones(n)
        if c == "neg":
            w[0] = -1
        elif c == "nan":
            w[-1] = np.nan
        elif c == "len":
            w = np.ones(n + 1)
        elif c == "2d":
            w = np.ones((n, 2))
        else:
            w = np.array(["a"] * n)
        case["kw"]["sample_weight"] = w
        return ["sample_weight"], False

    def _hyper(draw, case, n, d, k):
        c = draw(
            st.sampled_from(
                ["epochs", "batch_size", "validation_split", "class_weight", "shuffle_seed"]
            )
        )
        if case["op"] != "fit":
            case["op"] = "fit"
            case["kw"] = {}
        if c == "epochs":
            case["kw"]["epochs"] = draw(st.sampled_from([-1, 1.5, True, "2", None, 2**40, 2**31]))
            return ["epochs"], False
        if c == "batch_size":
            case["kw"]["batch_size"] = draw(st.sampled_from([0, -5, 2.0, 2**31, 2**63, None, "8"]))
            return ["batch_size"], False
        if c == "validation_split":
            case["kw"]["validation_split"] = draw(
                st.sampled_from([1.0, 1.5, -0.2, float("nan"), "0.1"])
            )
            return ["validation_split"], False
        if c == "class_weight":
            case["kw"]["class_weight"] = draw(st.sampled_from([{99: 1.0}, {-1: 1.0}, "x", 5]))
            return ["class_weight"], False
        case["kw"]["seed"] = draw(st.sampled_from([-1, "s", 1.5]))
        return ["seed"], False

    def _model_bad(draw, case, n, d, k):
        c = draw(
            st.sampled_from(
                [
                    "units",
                    "units_huge",
                    "input_dim",
                    "seed",
                    "loss",
                    "optimizer",
                    "activation",
                    "huber",
                    "l2",
                    "no_layers",
                    "layer_obj",
                ]
            )
        )
        L = case["layers"]
        if c == "units":
            L[0] = (
                "dense",
                dict(L[0][1], units=draw(st.sampled_from([0, -1, 2.5, None, "8", True]))),
            )
            return ["units"], False
        if c == "units_huge":
            # a hidden layer so big that building must refuse before allocating
            case["layers"] = [
                (
                    "dense",
                    {"units": draw(st.sampled_from([10**9, 2**29, 2**30, 2**31, 2**40, 10**30]))},
                ),
                *L,
            ]
            case["input_dim"] = d
            return ["units", "layer", "dense"], False
        if c == "input_dim":
            case["input_dim"] = draw(st.sampled_from([0, -3, 2.5, 2**31, 2**63, "4", True]))
            return ["input_dim"], False
        if c == "seed":
            case["seed"] = draw(st.sampled_from([-1, 2**64, "0", 1.5, None]))
            return ["seed"], False
        if c == "loss":
            case["loss"] = draw(st.sampled_from(["foo", None, 5, ""]))
            return ["loss"], False
        if c == "optimizer":
            case["optimizer"] = draw(st.sampled_from(["foo", 5, None]))
            return ["optimizer"], True  # None may mean "default"
        if c == "activation":
            L[0] = ("dense", dict(L[0][1], activation=draw(st.sampled_from(["foo", 3, "ReLu2"]))))
            return ["activation"], False
        if c == "huber":
            case["compile_kw"]["loss_options"] = {
                "delta": draw(st.sampled_from([-1.0, 0.0, float("nan"), "1"]))
            }
            return ["delta"], False
        if c == "l2":
            L[0] = (
                "dense",
                dict(L[0][1], l2=draw(st.sampled_from([-1.0, float("nan"), float("inf")]))),
            )
            return ["l2"], False
        if c == "no_layers":
            case["layers"] = []
            case["input_dim"] = d
            return ["layer"], False
        case["layers"] = [("activation", {"activation": "relu"})] + L
        return [], True  # an activation first is fine

    def _big_batch(draw, case, n, d, k):
        # Shapes beyond the core's limits, as zero-copy broadcast views (no real memory).
        # rows beyond int32, or a float32 copy of 2**31-1 x 64 (512 GiB) that cannot fit
        rows, cols = draw(st.sampled_from([(2**31, d), (2**40, 1), (2**31 - 1, 64)]))
        case["input_dim"] = None
        case["layers"] = case["layers"] or [("dense", {"units": k})]
        case["X"] = ("__broadcast__", (np.float64(0.5), (rows, cols)))
        if case["op"] not in ("predict", "forward_backward"):
            case["op"] = "predict"
        return ["X"], False

    def _grad_bad(draw, case, n, d, k):
        if case["op"] != "forward_backward":
            return [], False
        c = draw(st.sampled_from(["rows", "cols", "nan", "obj"]))
        g = {
            "rows": np.ones((n + 1, k)),
            "cols": np.ones((n, k + 1)),
            "nan": np.full((n, k), np.nan),
            "obj": np.full((n, k), None),
        }[c]
        case["kw"]["grad"] = g
        return ["grad", "backward"], False

    def _weights_bad(draw, case, n, d, k):
        case["op"] = "set_weights"
        c = draw(st.sampled_from(["count", "shape", "obj", "str"]))
        case["kw"]["weights"] = ("__weights_bad__", c)
        return ["weight", "expected", "arrays"], False

    _X_GROUP = (_x_special, _x_shape, _x_dtype, _big_batch)
    _OP_GROUP = (_hyper, _weights_bad, _grad_bad, _big_batch, _y_bad)
    _PERTURB = [
        _x_special,
        _x_shape,
        _x_dtype,
        _y_bad,
        _sample_weight,
        _hyper,
        _model_bad,
        _big_batch,
        _grad_bad,
        _weights_bad,
    ]

    @pytest.fixture(scope="module", autouse=True)
    def _worker_lifetime():
        yield
        _WORKER.stop()
        _report()

    def _report():
        dt = time.monotonic() - STATS["start"]
        line = (
            f"nncore fuzz ({PROFILE}): {STATS['cases']} cases, {STATS['ok']} ok, "
            f"{STATS['errors']} clean errors, {STATS['crashes']} crashes, "
            f"{STATS['hangs']} hangs, {dt:.1f} s, seed {FUZZ_SEED}"
        )
        path = os.environ.get("NNCORE_FUZZ_REPORT")
        if path:
            with open(path, "a") as f:
                f.write(line + "\n")
        print("\n" + line)

    @_fz("api")
    @given(case_bad=api_cases())
    def test_fuzz_public_api(case_bad, tmp_path_factory):
        case, bad = case_bad
        case["path"] = str(tmp_path_factory.getbasetemp() / "fuzz_model.nnc")
        (check_seeded if PROFILE == "full" else check_case)(case, bad)

    if PROFILE != "full":

        @_fz_seeded("api")
        @given(case_bad=api_cases())
        def test_fuzz_public_api_seeded(case_bad, tmp_path_factory):
            case, bad = case_bad
            case["path"] = str(tmp_path_factory.getbasetemp() / "fuzz_model.nnc")
            check_seeded(case, bad)

    @st.composite
    def core_cases(draw):
        bad = []
        if draw(st.booleans()):
            d = draw(st.integers(1, 8))
            specs = [
                {"type": "dense", "units": draw(st.integers(1, 16)), "activation": "relu"},
                {"type": "dense", "units": 2},
            ]
            n = draw(st.integers(1, 30))
            args = {
                "input_dim": d,
                "specs": specs,
                "X": np.ones((n, d), np.float32),
                "y": np.zeros((n, 2), np.float32),
                "batch_size": draw(st.integers(1, 40)),
                "begin": 0,
                "end": 10**6,
            }
            c = draw(
                st.sampled_from(
                    [
                        "none",
                        "begin",
                        "order",
                        "order_dtype",
                        "spec_nan",
                        "spec_type",
                        "spec_str",
                        "labels_big",
                        "w",
                        "bs",
                        "units",
                    ]
                )
            )
            if c == "begin":
                args["begin"] = draw(st.sampled_from([-1, -(10**6)]))
                bad = ["batch_begin"]
            elif c == "order":
                args["order"] = np.full(n, draw(st.sampled_from([-1, n, 2**40])), np.int64)
                bad = ["order"]
            elif c == "order_dtype":
                args["order"] = draw(
                    st.sampled_from([np.zeros(n, complex), "abc", np.zeros(n + 1, np.int64)])
                )
                bad = ["order"]
            elif c == "spec_nan":
                specs[0]["alpha"] = draw(
                    st.sampled_from([float("nan"), float("inf"), 1e39, 10**400])
                )
                bad = ["alpha"]
            elif c == "spec_type":
                specs[0]["type"] = draw(st.sampled_from(["conv", "", "dense\x00"]))
                bad = ["conv", "type", "layer", "unknown"]
            elif c == "spec_str":
                specs[0]["units"] = draw(st.sampled_from([[1], {"a": 1}]))
                bad = ["units"]
            elif c == "labels_big":
                args["y"] = np.full(
                    n, draw(st.sampled_from([2**32 + 1, -1, 2, 2**63 - 1])), np.int64
                )
                bad = ["y", "label"]
            elif c == "w":
                args["w"] = draw(st.sampled_from([np.ones(n + 1), np.ones((n, 1)), "w"]))
                bad = ["sample_weight"]
            elif c == "bs":
                args["batch_size"] = draw(st.sampled_from([0, -1]))
                bad = ["batch_size"]
            elif c == "units":
                specs[0]["units"] = draw(
                    st.sampled_from([2**29, 2**30 - 1, 1e9, 2**31 + 5, -1, 0.5])
                )
                bad = ["units", "layer", "dense"]
            return {"kind": "core", "op": "network", "args": args}, bad
        ta, tb = draw(st.booleans()), draw(st.booleans())
        m, k, n = (draw(st.integers(0, 9)) for _ in range(3))
        A = np.ones((k, m) if ta else (m, k), np.float32)
        B = np.ones((n, k) if tb else (k, n), np.float32)
        args = {
            "A": ("__layout__", (A, draw(st.sampled_from(LAYOUTS[:-1])))),
            "B": B,
            "ta": ta,
            "tb": tb,
            "alpha": 1.0,
            "beta": 0.0,
        }
        c = draw(st.sampled_from(["none", "inner", "C", "C_bad", "beta", "dtype", "dim"]))
        if c == "inner":
            args["B"] = np.ones((B.shape[0] + 1, B.shape[1] + 1), np.float32)
            bad = ["inner", "gemm"]
            if args["B"].shape[1 if tb else 0] == k:
                bad = []
        elif c == "C":
            args["C"] = np.ones((m, n), np.float32)
            args["beta"] = 0.5
        elif c == "C_bad":
            args["C"] = np.ones((m + 1, n), np.float32)
            args["beta"] = 0.5
            bad = ["C"]
        elif c == "beta":
            args["beta"] = 1.0
            bad = ["beta"]
        elif c == "dtype":
            args["A"] = A.astype(complex)
            bad = ["A"]
        elif c == "dim":
            args["A"] = A.reshape(-1)
            bad = ["A"]
        return {"kind": "core", "op": "sgemm", "args": args}, bad

    @_fz("core")
    @given(case_bad=core_cases())
    def test_fuzz_core_bindings(case_bad):
        case, bad = case_bad
        (check_seeded if PROFILE == "full" else check_case)(case, bad)

    if PROFILE != "full":

        @_fz_seeded("core")
        @given(case_bad=core_cases())
        def test_fuzz_core_bindings_seeded(case_bad):
            check_seeded(*case_bad)

    def _good_files():
        """Valid model files to corrupt: plain, BatchNorm + Dropout, and with each optimizer's
        saved state (after a few steps), so the loader's every section is fuzzed."""
        import tempfile

        import nncore as nc

        global _GOOD_FILES
        if _GOOD_FILES is None:
            rng = np.random.default_rng(0)
            X = rng.normal(size=(10, 3)).astype(np.float32)
            y = rng.integers(0, 2, 10)
            variants = [
                ([nc.Dense(4, "relu"), nc.Dense(2)], "sgd", False),
                (
                    [
                        nc.Dense(4),
                        nc.BatchNorm(),
                        nc.Activation("relu"),
                        nc.Dropout(0.3),
                        nc.Dense(2),
                    ],
                    "adam",
                    True,
                ),
                (
                    [nc.Dense(4, "tanh", l1=0.01, l2=0.01), nc.Dense(2)],
                    {"name": "sgd", "momentum": 0.9, "nesterov": True},
                    True,
                ),
                (
                    [nc.Dense(4, "relu"), nc.Dense(2)],
                    {"name": "rmsprop", "centered": True, "momentum": 0.5},
                    True,
                ),
                ([nc.Dense(4, "relu"), nc.Dense(2)], {"name": "adam", "amsgrad": True}, True),
                ([nc.Dense(4, "relu"), nc.Dense(2)], "nadam", True),
                ([nc.Dense(4, "relu"), nc.Dense(2)], "adagrad", True),
            ]
            _GOOD_FILES = []
            with tempfile.TemporaryDirectory() as t:
                for layers, opt, train in variants:
                    m = nc.Sequential(layers, input_dim=3, seed=1)
                    m.compile(optimizer=opt, loss="cross_entropy")
                    if train:
                        m.fit(X, y, epochs=2, batch_size=4)
                    m.save(os.path.join(t, "m.nnc"))
                    with open(os.path.join(t, "m.nnc"), "rb") as f:
                        _GOOD_FILES.append(f.read())
        return _GOOD_FILES

    @st.composite
    def file_cases(draw):
        good = _good_files()
        base = good[draw(st.integers(0, len(good) - 1))]
        data = bytearray(base)
        c = draw(st.sampled_from(["flip", "flips", "truncate", "junk", "splice", "header"]))
        if c == "header":
            # structured JSON-header mutations resealed with a correct SHA-256
            # (tools/hostile_corpus.py): the validation behind the checksum is what runs
            data = _hostile_corpus().mutate(random.Random(draw(st.integers(0, 2**32 - 1))), base)
            return {"kind": "file", "bytes": data, "may_pass": True}, ["nnc", "model", "file"]
        if c == "flip":
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif c == "flips":
            for i in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=20)):
                data[i] = draw(st.integers(0, 255))
            if bytes(data) == base:
                data = data[:-1]
        elif c == "truncate":
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif c == "junk":
            data = bytearray(draw(st.binary(max_size=512)))
        else:
            data = data[:20] + bytearray(draw(st.binary(min_size=1, max_size=200))) + data[20:]
        return {"kind": "file", "bytes": bytes(data)}, ["nnc", "model", "file"]

    _GOOD_FILES = None

    def _hostile_corpus():
        tools = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        import hostile_corpus

        return hostile_corpus

    @_fz("file")
    @given(case_bad=file_cases())
    def test_fuzz_model_files(case_bad, tmp_path_factory):
        case, bad = case_bad
        case["path"] = str(tmp_path_factory.getbasetemp() / "fuzz_file.nnc")
        (check_seeded if PROFILE == "full" else check_case)(case, bad)

    if PROFILE != "full":

        @_fz_seeded("file")
        @given(case_bad=file_cases())
        def test_fuzz_model_files_seeded(case_bad, tmp_path_factory):
            case, bad = case_bad
            case["path"] = str(tmp_path_factory.getbasetemp() / "fuzz_file.nnc")
            check_seeded(case, bad)


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker()
