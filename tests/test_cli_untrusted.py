"""The CLI's own files from a stranger (issue #34, items 8 and 9): a tampered sidecar and data the
core cannot take end in one line on stderr and exit status 2, never a traceback, a silent
broadcast or merged classes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nncore import cli
from test_cli_mixed import write_mixed


def main(*args):
    return cli.main([str(a) for a in args])


def _one_line_error(capsys, code, *words):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A numeric model (3 features, classes a/b/c) and its sidecar."""
    d = tmp_path_factory.mktemp("plain")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["a", "b", "c"])[X.argmax(axis=1)]
    rows = "\n".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(X, y))
    (d / "d.csv").write_text("x0,x1,x2,t\n" + rows + "\n")
    assert main("train", d / "d.csv", "--target", "t", "--out", d / "m.nnc", "--epochs", "2",
                "--hidden", "4") == 0  # fmt: skip
    (d / "new.csv").write_text("x0,x1,x2\n0.1,0.2,0.3\n")
    return d


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixed")
    write_mixed(d / "d.csv", n=60, missing=0.2)
    assert main("train", d / "d.csv", "--target", "label", "--out", d / "m.nnc", "--categorical",
                "auto", "--impute", "mean", "--missing-indicator", "--epochs", "2",
                "--hidden", "4") == 0  # fmt: skip
    (d / "new.csv").write_text("x,city,z\n1.0,paris,50\n1.0,tokyo,\n")
    return d


def _tamper(d, change):
    side = d / "m.nnc.json"
    original = side.read_text()
    meta = json.loads(original)
    change(meta)
    side.write_text(json.dumps(meta))
    return original


PLAIN = {
    "classes shorter than the outputs": (lambda m: m.update(classes=["a"]), "classes"),
    "mean of the wrong length": (lambda m: m.update(mean=[0.0]), "mean"),
    "scale of zero": (lambda m: m.update(scale=[0.0, 1.0, 1.0]), "scale"),
    "unknown task": (lambda m: m.update(task="ranking"), "task"),
    "unknown format": (lambda m: m.update(format=99), "format"),
    "features not names": (lambda m: m.update(features=[1, 2, 3]), "features"),
    "not an object": (lambda m: m.clear() or m.update(x=[]), "format"),
}
MIXED = {
    "table kinds out of range": (
        lambda m: m["table"].update(kinds=["numeric", "x", "numeric"]),
        "kinds",
    ),
    "names shorter": (lambda m: m["table"].update(names=["x"]), "kinds"),
    "indicator column out of range": (
        lambda m: m["table"].update(indicator_columns=[7]),
        "indicator_columns",
    ),
    "categories unsorted": (
        lambda m: m["table"].update(categories=[["rome", "berlin"]]),
        "categories",
    ),
    "categories missing": (lambda m: m["table"].update(categories=[]), "categories"),
    "classes shorter": (lambda m: m.update(classes=["no"]), "classes"),
    "impute unknown": (lambda m: m["table"].update(impute="mode"), "impute"),
}


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_tampered_sidecar_is_one_line(plain, capsys, case):
    change, word = PLAIN[case]
    original = _tamper(plain, change)
    try:
        _one_line_error(capsys, main("predict", plain / "m.nnc", plain / "new.csv"), word)
    finally:
        (plain / "m.nnc.json").write_text(original)
    assert main("predict", plain / "m.nnc", plain / "new.csv") == 0


@pytest.mark.parametrize("case", sorted(MIXED))
def test_tampered_mixed_sidecar_is_one_line(mixed, capsys, case):
    change, word = MIXED[case]
    original = _tamper(mixed, change)
    try:
        _one_line_error(capsys, main("predict", mixed / "m.nnc", mixed / "new.csv"), word)
    finally:
        (mixed / "m.nnc.json").write_text(original)
    assert main("predict", mixed / "m.nnc", mixed / "new.csv") == 0


def test_deep_or_huge_sidecar_json_is_bounded(plain, capsys):
    side = plain / "m.nnc.json"
    original = side.read_text()
    try:
        side.write_text("[" * 100000 + "]" * 100000)
        _one_line_error(capsys, main("predict", plain / "m.nnc", plain / "new.csv"), "nesting")
    finally:
        side.write_text(original)


# -- item 9: data the core cannot take -----------------------------------------------------------
@pytest.mark.parametrize("value", ["1e308", "-1e308", "3.5e38"])
@pytest.mark.parametrize("command", ["train", "cv"])
def test_features_beyond_float32_are_refused_like_fit(tmp_path, capsys, value, command):
    rows = [f"{i % 3}.5,{(i * 7) % 5},{i % 2}" for i in range(30)]
    rows[4] = f"{value},1,0"
    (tmp_path / "d.csv").write_text("a,b,t\n" + "\n".join(rows) + "\n")
    extra = ["--out", tmp_path / "m.nnc"] if command == "train" else ["--folds", "2"]
    code = main(command, tmp_path / "d.csv", "--target", "t", "--epochs", "1", *extra)
    _one_line_error(capsys, code, value, "float32")


def test_features_beyond_float32_in_mixed_tables(tmp_path, capsys):
    rows = [f"{i % 3}.5,{'ab'[i % 2]},{i % 2}" for i in range(30)]
    rows[4] = "1e308,a,0"
    (tmp_path / "d.csv").write_text("a,b,t\n" + "\n".join(rows) + "\n")
    code = main("train", tmp_path / "d.csv", "--target", "t", "--out", tmp_path / "m.nnc",
                "--categorical", "auto", "--epochs", "1")  # fmt: skip
    _one_line_error(capsys, code, "1e308", "float32")


def test_integer_targets_beyond_int64_do_not_merge_classes(tmp_path, capsys):
    rows = [f"{i % 3}.5,{i},{2**63 + (i % 2)}" for i in range(30)]
    (tmp_path / "d.csv").write_text("a,b,t\n" + "\n".join(rows) + "\n")
    code = main("train", tmp_path / "d.csv", "--target", "t", "--out", tmp_path / "m.nnc",
                "--task", "classification", "--epochs", "1")  # fmt: skip
    _one_line_error(capsys, code, "2**53")


def test_integer_targets_in_npz_stay_exact(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.array([2**62, 2**62 + 1] * 20, np.int64)  # equal as float64
    np.savez(tmp_path / "d.npz", X=X, y=y)
    assert main("train", tmp_path / "d.npz", "--out", tmp_path / "m.nnc", "--task",
                "classification", "--epochs", "1") == 0  # fmt: skip
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    assert meta["classes"] == [str(2**62), str(2**62 + 1)]


@pytest.mark.parametrize("blank", ["", "NA", "?"])
def test_missing_target_cells_are_dropped_and_counted(tmp_path, capsys, blank):
    rows = [f"{i % 3}.5,{i},{'xy'[i % 2]}" for i in range(30)]
    rows[6] = f"1.5,6,{blank}"
    (tmp_path / "d.csv").write_text("a,b,t\n" + "\n".join(rows) + "\n")
    code = main("train", tmp_path / "d.csv", "--target", "t", "--out", tmp_path / "m.nnc",
                "--epochs", "1")  # fmt: skip
    assert code == 0
    assert "29 rows used, 1 without a target value dropped (line 8)" in capsys.readouterr().out
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    assert meta["classes"] == ["x", "y"]  # the blank is no class of its own


def test_every_target_missing_is_one_line(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,t\n1,\n2,NA\n")
    code = main("cv", tmp_path / "d.csv", "--target", "t")
    _one_line_error(capsys, code, "every row's target 't' is missing")
