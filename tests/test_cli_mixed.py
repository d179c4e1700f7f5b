"""The command line on mixed tables: ``--categorical auto`` (text columns -> embeddings),
``--impute mean|median|zero`` with ``--missing-indicator``, and predict with the training
statistics (unseen categories read the reserved row)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nncore as nc
from nncore import cli
from nncore._cli_table import TablePrep

CITIES = ["paris", "london", "berlin", "rome", "oslo"]


def write_mixed(path, n=300, seed=0, missing=0.0):
    """label = (city in {paris, rome}) xor (x > 0); a numeric column with some cells missing."""
    rng = np.random.default_rng(seed)
    city = rng.integers(0, len(CITIES), n)
    x = rng.normal(size=n)
    z = rng.normal(size=n) * 10 + 50
    y = (np.isin(city, [0, 3]) ^ (x > 0)).astype(int)
    with open(path, "w") as f:
        f.write("x,city,z,label\n")
        for i in range(n):
            zc = "" if rng.random() < missing else f"{z[i]:.4f}"
            f.write(f"{x[i]:.5f},{CITIES[city[i]]},{zc},{'yes' if y[i] else 'no'}\n")
    return x, city, z, y


def main(*args):
    return cli.main([str(a) for a in args])


def test_string_columns_train_and_predict_with_embeddings(tmp_path, capsys):
    data, out = tmp_path / "d.csv", tmp_path / "m.nnc"
    write_mixed(data)
    assert main("train", data, "--target", "label", "--out", out, "--categorical", "auto",
                "--epochs", "40", "--hidden", "32") == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "categorical: city (5)" in text
    accuracy = float(text.split("training accuracy ")[1].split()[0])
    assert accuracy > 0.95  # the xor needs the city: a model that ignored it scores ~0.5
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    assert meta["table"]["categories"] == [sorted(CITIES)]
    model = nc.load(str(out))
    first = model.layers[0]
    assert isinstance(first, nc.TabularInput) and first.unknown == "reserve"
    assert first.categorical == {2: 5}

    new = tmp_path / "new.csv"
    new.write_text("x,city,z\n1.0,paris,50\n1.0,london,50\n1.0,tokyo,50\n")
    assert main("predict", out, new) == 0
    preds = capsys.readouterr().out.split()
    assert preds[:3] == ["label", "no", "yes"]  # x > 0: paris -> no, london -> yes
    assert len(preds) == 4  # tokyo (unseen) predicts through the reserved row
    prep = TablePrep.from_json(meta["table"])
    cells = np.array([["1.0", "tokyo", "50"]])
    assert prep.transform(cells)[0, -1] == 5  # the code TabularInput reads as "unknown"


def test_text_column_without_categorical_is_refused_with_a_hint(tmp_path, capsys):
    data = tmp_path / "d.csv"
    write_mixed(data, n=20)
    assert main("train", data, "--target", "label", "--out", tmp_path / "m.nnc") == 2
    assert "--categorical auto" in capsys.readouterr().err


def test_missing_values_without_impute_are_refused_with_a_hint(tmp_path, capsys):
    data = tmp_path / "d.csv"
    write_mixed(data, n=50, missing=0.2)
    args = ("train", data, "--target", "label", "--out", tmp_path / "m.nnc")
    assert main(*args, "--categorical", "auto") == 2
    err = capsys.readouterr().err
    assert "missing value" in err and "column 'z'" in err and "--impute" in err
    assert main(*args, "--categorical", "auto", "--missing-indicator") == 2
    assert "--missing-indicator needs --impute" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["mean", "median", "zero"])
@pytest.mark.parametrize("indicator", [False, True])
def test_each_impute_mode_saves_training_statistics(tmp_path, capsys, mode, indicator):
    data, out = tmp_path / "d.csv", tmp_path / "m.nnc"
    _, _, _, _ = write_mixed(data, n=120, missing=0.25)
    flags = ["--missing-indicator"] if indicator else []
    assert main("train", data, "--target", "label", "--out", out, "--categorical", "auto",
                "--impute", mode, "--epochs", "2", *flags) == 0  # fmt: skip
    capsys.readouterr()
    meta = json.loads((tmp_path / "m.nnc.json").read_text())["table"]
    rows = [r.split(",") for r in data.read_text().splitlines()[1:]]
    stat = {"mean": np.mean, "median": np.median, "zero": lambda v: 0.0}[mode]
    want_x = stat(np.array([float(r[0]) for r in rows]))
    want = stat(np.array([float(r[2]) for r in rows if r[2]]))
    assert meta["impute_values"] == pytest.approx([want_x, want], rel=1e-12)
    assert meta["indicator_columns"] == ([1] if indicator else [])
    model = nc.load(str(out))
    assert model.input_dim == 3 + indicator  # x, z, [z missing], city code
    # predict: a missing cell gets the training statistic, and its indicator is 1
    prep = TablePrep.from_json(meta)
    got = prep.transform(np.array([["0.5", "rome", ""]]))
    z_std = (want - meta["mean"][1]) / meta["scale"][1]
    assert got[0, 1] == pytest.approx(z_std, rel=1e-6, abs=1e-6)
    if indicator:
        assert got[0, 2] == 1.0
    new = tmp_path / "new.csv"
    new.write_text("label,x,city,z\n?,0.5,rome,\n?,-1,NA,3\n")  # column order and an NA city
    assert main("predict", out, new, "--out", tmp_path / "p.csv") == 0
    assert len((tmp_path / "p.csv").read_text().split()) == 3


def test_prep_statistics_come_from_the_training_rows_only():
    cells = np.array([["1", "a"], ["3", "b"], ["", "a"], ["100", "c"]])
    prep = TablePrep(["n", "c"], [False, True], "mean", True).fit(cells[:3])
    assert prep.imputer.statistics_.tolist() == [2.0]  # not (1 + 3 + 100) / 3
    assert prep.encoder.categories_[0].tolist() == ["a", "b"]
    got = prep.transform(cells[3:])
    assert got[0, -1] == 2  # "c" was not in the training rows: the reserved code
    back = TablePrep.from_json(json.loads(json.dumps(prep.to_json())))
    np.testing.assert_array_equal(back.transform(cells), prep.transform(cells))


def test_cv_with_categorical_and_impute(tmp_path, capsys):
    data = tmp_path / "d.csv"
    write_mixed(data, n=600, missing=0.1)
    assert main("cv", data, "--target", "label", "--categorical", "auto", "--impute", "median",
                "--folds", "3", "--epochs", "40", "--hidden", "32") == 0  # fmt: skip
    text = capsys.readouterr().out
    assert text.count("\nfold ") == 3
    assert float(text.split("mean accuracy: ")[1].split()[0]) > 0.85


def test_cv_fits_the_preprocessing_on_each_training_part(tmp_path, capsys, monkeypatch):
    data = tmp_path / "d.csv"
    write_mixed(data, n=90, missing=0.1)
    seen = []
    fit = TablePrep.fit

    def recording_fit(self, cells):
        seen.append(len(cells))
        return fit(self, cells)

    monkeypatch.setattr(TablePrep, "fit", recording_fit)
    assert main("cv", data, "--target", "label", "--categorical", "auto", "--impute", "mean",
                "--folds", "3", "--epochs", "1") == 0  # fmt: skip
    capsys.readouterr()
    # the first fit describes the whole table in the report's header; each fold's model sees
    # only the preprocessing fitted on its 60 training rows
    assert seen == [90, 60, 60, 60]


@pytest.mark.parametrize("impute", ["none", "mean"])
@pytest.mark.parametrize("plant", [None, (3, 2, np.nan), (7, 4, np.inf), (5, 0, -np.inf)])
def test_a_table_of_numbers_reads_as_its_text_does(impute, plant):
    """.npz tables (and the digits) skip the text parse, all columns at once: the same values,
    and the same first error, as the same table read cell by cell from text."""
    from nncore._cli_table import TableError

    cells = np.random.default_rng(0).normal(size=(40, 6))
    cells[1, 5] = np.nan  # missing in a later column: the planted cell's column comes first
    if plant is not None:
        cells[plant[0], plant[1]] = plant[2]
    names, kinds = [f"c{j}" for j in range(6)], [False, True, False, False, False, False]
    prep = TablePrep(names, kinds, impute, False)
    text = np.array([[repr(float(v)) for v in row] for row in cells], dtype=object)

    def read(c):
        try:
            return prep._numeric_values(c)
        except TableError as e:
            return str(e)

    a, b = read(cells), read(text)
    if isinstance(b, str):
        assert a == b
    else:
        np.testing.assert_array_equal(a, b)
