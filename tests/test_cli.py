"""The command line (``python -m nncore ...``) run as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import nncore as nc


def _optimizer_args():
    try:
        nc.optim.get("adam", lr=1e-3)
        return []
    except ValueError:  # before the optimizer family lands
        return ["--optimizer", "sgd", "--lr", "0.05"]


OPT_ARGS = _optimizer_args()


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, "-m", "nncore", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def write_csv(path, n=90, seed=0, labels=("setosa", "versicolor", "virginica")):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(labels)
    X = rng.normal(size=(n, 3)) + 3.0 * np.eye(len(labels), 3)[y]
    with open(path, "w") as f:
        f.write("a,b,species,c\n")
        for row, label in zip(X, y):
            f.write(f"{row[0]:.5f},{row[1]:.5f},{labels[label]},{row[2]:.5f}\n")
    return X, np.array(labels)[y]


def test_no_arguments_runs_digits_cv():
    r = run(*OPT_ARGS)  # exactly `python -m nncore` once Adam exists
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    folds = [ln for ln in lines if ln.startswith("fold ")]
    assert len(folds) == 5 and all("accuracy 0." in ln for ln in folds)
    assert any(ln.startswith("mean accuracy:") and "±" in ln for ln in lines)
    assert any(ln.startswith("total time:") for ln in lines)
    mean = float(next(ln for ln in lines if ln.startswith("mean accuracy")).split()[2])
    assert mean > 0.95


def test_cv_train_predict_roundtrip(tmp_path):
    data = tmp_path / "iris.csv"
    X, labels = write_csv(data)
    r = run(
        "cv",
        data,
        "--target",
        "species",
        "--hidden",
        "16,8",
        "--epochs",
        "10",
        "--folds",
        "3",
        "--batch-size",
        "16",
        "--seed",
        "1",
        *OPT_ARGS,
    )
    assert r.returncode == 0, r.stderr
    assert sum(ln.startswith("fold ") for ln in r.stdout.splitlines()) == 3
    r = run(
        "cv",
        data,
        "--target",
        "species",
        "--hidden",
        "8",
        "--epochs",
        "3",
        "--folds",
        "3",
        "--batchnorm",
        "--dropout",
        "0.2",
        "--threads",
        "1",
        *OPT_ARGS,
    )
    assert r.returncode == 0, r.stderr
    assert "batchnorm dropout 0.2" in r.stdout
    model = tmp_path / "m.nnc"
    r = run(
        "train",
        data,
        "--target",
        "species",
        "--hidden",
        "16",
        "--epochs",
        "20",
        "--out",
        model,
        *OPT_ARGS,
    )
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta["features"] == ["a", "b", "c"] and len(meta["mean"]) == 3
    # predict prints the original labels, and the model file loads on its own
    out = tmp_path / "preds.csv"
    r = run("predict", model, data, "--out", out)
    assert r.returncode == 0, r.stderr
    preds = out.read_text().splitlines()
    assert preds[0] == "species" and len(preds) == 91
    assert np.mean(np.array(preds[1:]) == labels) > 0.9
    r = run("predict", model, data)
    assert r.stdout.splitlines() == preds
    assert nc.load(model).predict(np.zeros((1, 3), np.float32)).shape == (1, 3)


def test_npz_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 2.0])
    np.savez(tmp_path / "r.npz", X=X, y=y)
    r = run("cv", tmp_path / "r.npz", "--folds", "3", "--epochs", "30", "--hidden", "16", *OPT_ARGS)
    assert r.returncode == 0, r.stderr
    assert "mean r2:" in r.stdout and "regression" in r.stdout
    r = run("train", tmp_path / "r.npz", "--out", tmp_path / "r.nnc", "--epochs", "2", *OPT_ARGS)
    assert r.returncode == 0, r.stderr
    r = run("predict", tmp_path / "r.nnc", tmp_path / "r.npz")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 61


def _assert_clean_error(r, *fragments):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_bad_input(tmp_path):
    data = tmp_path / "d.csv"
    write_csv(data)
    _assert_clean_error(
        run("cv", tmp_path / "missing.csv", "--target", "x"), "missing.csv", "no such file"
    )
    _assert_clean_error(run("cv", data, "--target", "kind"), "no target column 'kind'")
    _assert_clean_error(run("cv", data), "--target")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2,0\n1,oops,1\n")
    _assert_clean_error(run("cv", bad, "--target", "y"), "non-numeric", "'oops'", "'b'", "line 3")
    rare = tmp_path / "rare.csv"
    rare.write_text("a,y\n" + "".join(f"{i},big\n" for i in range(20)) + "1,tiny\n2,tiny\n")
    _assert_clean_error(run("cv", rare, "--target", "y", "--folds", "5"), "'tiny'", "n_splits=5")
    _assert_clean_error(run("cv", data, "--target", "species", "--hidden", "8,x"), "--hidden")
    _assert_clean_error(run("cv", data, "--target", "species", "--epochs", "0"), "--epochs")
    _assert_clean_error(run("predict", tmp_path / "none.nnc", data), "no such file")
    junk = tmp_path / "junk.nnc"
    junk.write_bytes(b"not a model")
    (tmp_path / "junk.nnc.json").write_text("{}")
    _assert_clean_error(run("predict", junk, data), "junk.nnc")
    _assert_clean_error(run("bogus"), "invalid choice")
