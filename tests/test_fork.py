"""nncore after fork (issue #18): a child forked from a parent that trained on several threads
fits and predicts (single-threaded on the forking thread, same bits) instead of hanging, warns
once, refuses set_num_threads(n > 1) on that thread, and a new thread in the child gets threads.

Each child runs under a deadline: a hang fails the test instead of hanging the suite."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
import warnings

import numpy as np
import pytest

import nncore as nc

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
DEADLINE = 60.0


def _data(n=400, d=32, k=4):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, X[:, :k].argmax(axis=1).astype(np.int64)


def _model():
    m = nc.Sequential(
        [nc.Dense(256), nc.BatchNorm(), nc.Activation("relu"), nc.Dense(256, "relu"), nc.Dense(4)],
        input_dim=32,
        seed=3,
    )
    m.compile(optimizer="adam", loss="cross_entropy")
    return m


def _work(model, X, y):
    """What both parent and child run: fit more, then predict. Returns comparable results."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p0 = model.predict(X)
        model.fit(X, y, epochs=1, batch_size=64)
        out = {"predict": p0, "after_fit": model.predict(X), "weights": model.get_weights()}
    out["warnings"] = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    out["threads"] = nc.get_num_threads()
    return out


@pytest.fixture
def trained():
    X, y = _data()
    with nc.num_threads(2):
        m = _model()
        m.fit(X, y, epochs=1, batch_size=64)  # the parent thread now owns an OpenMP pool
        yield m, X, y


def _child_result(fn):
    """Runs fn() in an os.fork child; returns its result, or fails if the child hangs."""
    fd, path = tempfile.mkstemp(prefix="nncore-fork-")
    os.close(fd)
    try:
        pid = os.fork()
        if pid == 0:  # child: report through a file (a pipe would fill before the parent reads)
            code = 0
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                payload, code = pickle.dumps(("error", repr(e))), 1
            with open(path, "wb") as f:
                f.write(payload)
            os._exit(code)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child hung for {DEADLINE} s")
        with open(path, "rb") as f:
            kind, value = pickle.loads(f.read())
    finally:
        os.unlink(path)
    assert kind == "ok", value
    return value


def _same(a, b):
    np.testing.assert_array_equal(a["predict"], b["predict"])
    np.testing.assert_array_equal(a["after_fit"], b["after_fit"])
    for wa, wb in zip(a["weights"], b["weights"]):
        np.testing.assert_array_equal(wa, wb)


def test_os_fork_child_fits_and_predicts_like_the_parent(trained):
    m, X, y = trained
    child = _child_result(lambda: _work(m, X, y))
    assert child["threads"] == 1
    assert len(child["warnings"]) == 1 and "spawn" in child["warnings"][0]
    parent = _work(m, X, y)  # the same calls in the parent, on 2 threads
    assert parent["threads"] == 2 and not parent["warnings"]
    _same(child, parent)


def _mp_target(m, X, y, queue):
    try:
        queue.put(("ok", _work(m, X, y)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        queue.put(("error", repr(e)))


def test_multiprocessing_fork_context(trained):
    m, X, y = trained
    ctx = multiprocessing.get_context("fork")
    queue = ctx.SimpleQueue()
    p = ctx.Process(target=_mp_target, args=(m, X, y, queue))
    p.start()
    deadline = time.monotonic() + DEADLINE
    while p.is_alive() and queue.empty() and time.monotonic() < deadline:
        time.sleep(0.05)
    result = queue.get() if not queue.empty() else None  # read before join: a full pipe blocks
    p.join(max(1.0, deadline - time.monotonic()))
    if p.is_alive():
        p.kill()
        p.join()
        pytest.fail(f"the multiprocessing fork child hung for {DEADLINE} s")
    assert p.exitcode == 0 and result is not None
    kind, child = result
    assert kind == "ok", child
    _same(child, _work(m, X, y))


def test_child_refuses_threads_on_the_forking_thread_but_a_new_thread_gets_them(trained):
    m, X, y = trained

    def in_child():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nc.set_num_threads(2)
                refused = ""
            except RuntimeError as e:
                refused = str(e)
            box = {}

            def fresh():  # a thread created in the child owns no stale OpenMP pool
                box["threads"] = nc.get_num_threads()
                box["predict"] = m.predict(X)
                m.fit(X, y, epochs=1, batch_size=64)
                box["weights"] = m.get_weights()

            t = threading.Thread(target=fresh)
            t.start()
            t.join(DEADLINE / 2)
            return refused, box, t.is_alive()

    refused, box, hung = _child_result(in_child)
    assert not hung
    assert "spawn" in refused and "cannot use 2 threads" in refused
    assert box["threads"] == 2
    np.testing.assert_array_equal(box["predict"], m.predict(X))
    m.fit(X, y, epochs=1, batch_size=64)
    for a, b in zip(box["weights"], m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_parent_that_never_ran_threads_keeps_them_in_the_child():
    X, y = _data()

    def in_child():
        return nc.get_num_threads()

    done = {}

    def parent_thread():  # a thread that never ran nncore's parallel code forks
        done["threads"] = _child_result(in_child)

    with nc.num_threads(2):
        t = threading.Thread(target=parent_thread)
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a multi-threaded process; not nncore's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            t.start()
            t.join(DEADLINE + 5)
    assert done["threads"] == 2
