"""The command line as a newcomer meets it (issue #37): help with defaults and choices, --version,
argument errors before any data is read, --verbose progress, early stopping, rows without a
target dropped and counted, file line numbers in errors, --sep/--encoding/--decimal, the same
report on every path, folds in threads (--jobs) and predict --proba."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import numpy as np
import pytest

import nncore as nc
from nncore import cli
from nncore._cli_args import DEFAULTS

FAST = ["--epochs", "3", "--hidden", "8", "--folds", "2"]


def main(*args):
    return cli.main([str(a) for a in args])


def one_line_error(capsys, code, *words):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


def write_shop(path, n=200, sep=";", missing_target=(), seed=0, decimal="."):
    """A shop's table: a text column (city), numbers, a regression target (spend) and a class
    (churn); the rows in ``missing_target`` have no spend."""
    rng = np.random.default_rng(seed)
    cities = np.array(["Lyon", "Paris", "Nantes", "Lille"])
    city = rng.integers(0, 4, n)
    visits = rng.integers(1, 30, n)
    age = rng.normal(40, 12, n)
    spend = 200 + 15 * visits + 80 * (city == 1) + 2 * age + rng.normal(0, 10, n)
    churn = np.where(visits + 10 * (city == 3) > 15, "stays", "leaves")
    lines = [sep.join(["city", "visits", "age", "spend", "churn"])]
    for i in range(n):
        a = f"{age[i]:.1f}".replace(".", decimal)
        s = "" if i in missing_target else f"{spend[i]:.2f}".replace(".", decimal)
        lines.append(sep.join([cities[city[i]], str(visits[i]), a, s, churn[i]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return spend


# ------------------------------------------------------------------------------------- help
def _entries(text: str) -> dict:
    """{option: its help entry} from argparse's help output."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (-\S+)", line)
        if m:
            current = m.group(1).rstrip(",")
            out[current] = line
        elif current and line.startswith("    "):
            out[current] += " " + line.strip()
        else:
            current = None
    return out


@pytest.mark.parametrize("command", ["cv", "train", "predict"])
def test_help_names_every_default_and_choice(command, capsys):
    assert main(command, "--help") == 0
    entries = _entries(capsys.readouterr().out)
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command").choices[command]
    checked = 0
    for action in sub._actions:
        flag = action.option_strings[0] if action.option_strings else None
        if flag is None or flag == "-h" or action.required:
            continue
        entry = entries[flag]
        assert "(default" in entry, entry
        for choice in action.choices or ():
            assert str(choice) in entry, (choice, entry)
        checked += 1
    assert checked >= (5 if command == "predict" else 25)


def test_version(capsys):
    import nncore as nc

    assert main("--version") == 0
    assert capsys.readouterr().out.strip() == f"nncore {nc.__version__}"


# -------------------------------------------------------------- argument errors before data
@pytest.mark.parametrize(
    "args, words",
    [
        (["--optimizer", "adamx"], ["--optimizer", "invalid choice", "adamw"]),
        (["--loss", "hinge"], ["--loss", "invalid choice"]),
        (["--activation", "swish"], ["--activation", "invalid choice"]),
        (["--loss", "mse", "--task", "classification"], ["regression loss"]),
        (["--lr", "0"], ["--lr must be > 0"]),
        (["--validation-fraction", "1"], ["--validation-fraction"]),
        (["--patience", "-1"], ["--patience"]),
        (["--encoding", "utf-99"], ["unknown encoding 'utf-99'"]),
        (["--sep", "ab"], ["--sep must be one character"]),
        (["--decimal", ",", "--sep", ","], ["--decimal , needs --sep"]),
        (["--hidden", "8,x"], ["--hidden", "128,64"]),
        (["--folds", "1"], ["--folds must be >= 2"]),
        (["--jobs", "0"], ["--jobs must be >= 1"]),
    ],
)
def test_argument_errors_come_before_the_data_is_read(tmp_path, capsys, args, words):
    # the file does not exist: reading it first would report "no such file" instead
    code = main("cv", tmp_path / "absent.csv", "--target", "y", *args)
    err = one_line_error(capsys, code, *words)
    assert "no such file" not in err


def test_train_checks_the_output_directory_before_training(tmp_path, capsys):
    write_shop(tmp_path / "d.csv")
    code = main("train", tmp_path / "d.csv", "--target", "spend", "--out", tmp_path / "no" / "m")
    one_line_error(capsys, code, "--out: no directory")
    assert "epochs" not in capsys.readouterr().out
    code = main("train", tmp_path / "d.csv", "--target", "spend", "--out", tmp_path)
    one_line_error(capsys, code, "is a directory: give a file name")
    assert "epochs" not in capsys.readouterr().out


# ---------------------------------------------------------------------------------- verbose
def test_cv_verbose_prints_every_epoch_of_every_fold(tmp_path, capsys):
    write_shop(tmp_path / "d.csv")
    assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                *FAST, "--no-early-stopping", "--verbose") == 0  # fmt: skip
    out = capsys.readouterr().out
    epochs = re.findall(r"^fold (\d)/2 epoch (\d)/3: loss \d+\.\d+  accuracy .*\(\d+\.\d+ s\)$",
                        out, re.M)  # fmt: skip
    assert epochs == [(f, e) for f in "12" for e in "123"]
    assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto", *FAST) == 0
    assert "epoch 1/3" not in capsys.readouterr().out  # quiet without --verbose


def test_train_verbose_shows_validation_loss_and_the_stop(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)  # noise: nothing to learn
    np.savez(tmp_path / "noise.npz", X=X, y=y)
    assert main("train", tmp_path / "noise.npz", "--out", tmp_path / "m.nnc", "--verbose",
                "--patience", "3") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert re.search(r"^epoch +1/500: loss \S+  val_loss \S+", out, re.M)
    stop = re.search(r"stopped at epoch (\d+): val_loss best at epoch (\d+)", out)
    assert stop and int(stop.group(1)) == int(stop.group(2)) + 3


# --------------------------------------------------------------------------- early stopping
def _fold_epochs(out: str) -> list:
    return [int(m) for m in re.findall(r"^fold \d+: .*\((\d+) epochs", out, re.M)]


def test_early_stopping_is_on_by_default_and_can_be_turned_off(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "noise.npz", X=rng.normal(size=(150, 3)), y=rng.normal(size=150))
    assert main("cv", tmp_path / "noise.npz", "--folds", "2", "--hidden", "8") == 0
    out = capsys.readouterr().out
    assert "early stopping on 20% of the training rows (patience 20)" in out
    assert all(e < DEFAULTS["epochs"] for e in _fold_epochs(out)), out
    assert "best" in out
    assert main("cv", tmp_path / "noise.npz", "--folds", "2", "--hidden", "8", "--epochs", "7",
                "--no-early-stopping") == 0  # fmt: skip
    assert _fold_epochs(capsys.readouterr().out) == [7, 7]


def test_far_from_converged_runs_get_a_note(tmp_path, capsys):
    write_shop(tmp_path / "d.csv")
    args = ["cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto", "--folds", "2"]
    assert main(*args, "--epochs", "6", "--no-early-stopping", "--lr", "1e-4") == 0
    out = capsys.readouterr().out
    assert "note: folds 1, 2: the training loss fell" in out and "far from converged" in out
    assert main(*args, "--epochs", "6", "--lr", "1e-4") == 0  # early stopping hit the ceiling
    assert "val_loss was still improving at epoch 6 of 6: raise --epochs" in capsys.readouterr().out


def test_regression_target_is_standardized_for_training(tmp_path, capsys):
    spend = write_shop(tmp_path / "d.csv")  # spend ~ 400-700: unscaled, 30 epochs reach r2 < 0
    assert main("cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                "--epochs", "30", "--no-early-stopping", "--folds", "3") == 0  # fmt: skip
    r2 = float(re.search(r"mean r2: (\S+)", capsys.readouterr().out).group(1))
    assert r2 > 0.8
    model = tmp_path / "m.nnc"
    assert main("train", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                "--out", model) == 0  # fmt: skip
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    assert meta["format"] == 2 and meta["target_mean"] == pytest.approx(spend.mean(), rel=1e-6)
    capsys.readouterr()
    assert main("predict", model, tmp_path / "d.csv") == 0
    pred = np.array(capsys.readouterr().out.split()[1:], float)
    assert np.corrcoef(pred, spend)[0, 1] > 0.9 and abs(pred.mean() - spend.mean()) < 30


# ----------------------------------------------------------------------- missing targets
def test_rows_without_a_target_are_dropped_and_a_regression_stays_one(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=120, missing_target=(9, 40))
    text = (tmp_path / "d.csv").read_text().splitlines()
    text.insert(5, "")  # a blank line: the counts below are file lines
    text[42] = text[42].replace(";;", ";NA;")  # data row 40 (file line 43), spelled NA
    (tmp_path / "d.csv").write_text("\n".join(text) + "\n")
    assert main("cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                *FAST) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "118 rows used, 2 without a target value dropped (lines 12, 43)" in out
    assert "regression" in out and "mean r2:" in out


# -------------------------------------------------------------------------- file line numbers
def test_errors_name_file_lines_not_fold_rows(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=120)
    lines = (tmp_path / "d.csv").read_text().splitlines()
    lines.insert(3, "")
    lines[1] = 'Lyon;3;"40.5";220;leaves'  # a quoted cell
    lines[90] = ";".join(lines[90].split(";")[:2] + ["", *lines[90].split(";")[3:]])
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    code = main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto", *FAST)
    one_line_error(capsys, code, "missing value", "column 'age'", "line 91", "--impute")
    lines[90] = lines[90].replace(";;", ";old;")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    code = main("cv", tmp_path / "d.csv", "--target", "churn", *FAST)
    one_line_error(capsys, code, "non-numeric", "'Lyon'", "line 2")
    lines[1] = "Lyon;3;40.5;220"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    code = main("cv", tmp_path / "d.csv", "--target", "churn", *FAST)
    one_line_error(capsys, code, "line 2 has 4 fields, the header has 5")


def test_predict_errors_name_file_lines(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=60)
    model = tmp_path / "m.nnc"
    assert main("train", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                "--epochs", "2", "--out", model) == 0  # fmt: skip
    (tmp_path / "new.csv").write_text("city;visits;age;spend\nLyon;3;40;300\n\nParis;x;41;200\n")
    one_line_error(capsys, main("predict", model, tmp_path / "new.csv"), "'x'", "line 4")


# ------------------------------------------------------------------ separators, encodings
def test_semicolon_tab_and_pipe_files_are_detected(tmp_path, capsys):
    for sep in (";", "\t", "|"):
        write_shop(tmp_path / "d.csv", n=60, sep=sep)
        assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                    *FAST) == 0  # fmt: skip
        assert "5 features" not in capsys.readouterr().out  # 4 features and the target


def test_a_wrong_separator_is_one_clear_line(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=60)
    code = main("cv", tmp_path / "d.csv", "--target", "churn", "--sep", ",")
    one_line_error(capsys, code, "one column", "--sep ';'")


def test_decimal_commas(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=60, decimal=",")
    code = main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto", *FAST)
    assert code == 0  # without --decimal the age column is text: it reads as categorical
    out = capsys.readouterr().out
    assert "age (" in out
    assert "note: columns 'age', 'spend' hold numbers with decimal commas but read as text" in out
    (tmp_path / "n.csv").write_text("a;b;y\n1,5;2;0\n2,5;3;1\n")
    one_line_error(capsys, main("cv", tmp_path / "n.csv", "--target", "y"), "'1,5'", "--decimal ,")
    assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                "--decimal", ",", *FAST) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "3 numeric, 1 categorical: city (4)" in out


def test_encoding(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=60)
    text = (tmp_path / "d.csv").read_text().replace("Lille", "Besançon")
    (tmp_path / "d.csv").write_bytes(text.encode("latin-1"))
    line = 1 + text.splitlines().index(next(r for r in text.splitlines() if "Besan" in r))
    code = main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto", *FAST)
    one_line_error(capsys, code, f"line {line} is not valid utf-8", "--encoding")
    assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                "--encoding", "latin-1", *FAST) == 0  # fmt: skip
    capsys.readouterr()
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert (
        main("cv", tmp_path / "bom.csv", "--target", "city", "--categorical", "auto", *FAST) == 0
    )  # fmt: skip  (the BOM is not part of the first column's name)


# ----------------------------------------------------------------- one report, --jobs
def _shape(out: str) -> list:
    """The report's lines with the numbers taken out."""
    return [re.sub(r"[\d.]+", "#", ln.split(":")[0]) for ln in out.splitlines()]


def test_text_and_numeric_tables_print_the_same_report(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=80)
    assert main("cv", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                *FAST) == 0  # fmt: skip
    text = capsys.readouterr().out
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "n.npz", X=rng.normal(size=(80, 3)), y=np.arange(80) % 2)
    assert main("cv", tmp_path / "n.npz", *FAST) == 0
    numeric = capsys.readouterr().out
    assert _shape(text)[1:] == _shape(numeric)[1:]  # the first line names the file
    for out in (text, numeric):
        assert re.search(
            r"^model: MLP .* relu, adam lr=0\.003, cross_entropy loss; up to 3 ", out, re.M
        )
        assert re.search(r"^fold 2: accuracy \S+  \(3 epochs, best \d; \S+ s\)$", out, re.M)


def _fold_lines(out: str) -> list:
    return [ln.split("(")[0] for ln in out.splitlines() if ln.startswith("fold")]


@pytest.mark.parametrize("jobs", [["--jobs", "2"], ["--jobs", "3"], []])  # [] = the default
def test_folds_in_threads_give_the_scores_of_one_job(tmp_path, capsys, jobs):
    write_shop(tmp_path / "d.csv", n=90)
    args = ["cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
            "--epochs", "3", "--hidden", "8", "--folds", "3"]  # fmt: skip
    assert main(*args, "--jobs", "1") == 0
    out = capsys.readouterr().out
    assert "(avx" in out.splitlines()[-1] and "folds at a time" not in out
    one = _fold_lines(out)
    assert main(*args, *jobs) == 0
    out = capsys.readouterr().out
    assert _fold_lines(out) == one and len(one) == 3  # in fold order, the same scores
    if jobs or nc.get_num_threads() > 1:  # the default is one fold per core
        assert "folds at a time" in out.splitlines()[-1]


def test_a_failing_fold_stops_the_others(tmp_path, monkeypatch):
    from nncore import _cli_fit, _cli_folds

    write_shop(tmp_path / "d.csv", n=90)
    fitted, real = [], _cli_fit.fit_model

    def fit_model(factory, X, y, s, prefix="", stop=None):
        if prefix.startswith("fold 1/"):
            time.sleep(0.2)  # the other folds are training by now
            raise RuntimeError("planted failure")
        s = dataclasses.replace(s, epochs=100_000, early_stopping=False)
        fitted.append(real(factory, X, y, s, prefix, stop))
        return fitted[-1]

    monkeypatch.setattr(_cli_folds, "fit_model", fit_model)
    with pytest.raises(RuntimeError, match="planted failure"):
        main("cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto", "--hidden",
             "8", "--folds", "3", "--jobs", "3")  # fmt: skip
    # the folds beside the failing one stopped at their next chunk, far short of 100,000 epochs
    assert len(fitted) == 2 and all(f.epochs_run < 100_000 for f in fitted)


def test_verbose_runs_folds_in_turn(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=90)
    assert main("cv", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                "--verbose", *FAST) == 0  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    first = [ln.split(" epoch")[0] for ln in out if " epoch " in ln]
    assert first == sorted(first)  # fold 1's epochs, then fold 2's
    assert "folds at a time" not in out[-1]


# ------------------------------------------------------------------------- predict --proba
def test_predict_proba_has_one_column_per_class(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=80)
    text = (tmp_path / "d.csv").read_text().replace("leaves", '"leaves, soon"')
    (tmp_path / "d.csv").write_text(text)
    model = tmp_path / "m.nnc"
    assert main("train", tmp_path / "d.csv", "--target", "churn", "--categorical", "auto",
                "--epochs", "5", "--out", model) == 0  # fmt: skip
    capsys.readouterr()
    assert main("predict", model, tmp_path / "d.csv", "--proba") == 0
    import csv
    import io

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["leaves, soon", "stays"]  # the class names, quoted where needed
    p = np.array(rows[1:], float)
    assert p.shape == (80, 2) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert len(np.unique(p[:, 0])) > 20  # probabilities, not one-hot labels
    assert main("predict", model, tmp_path / "d.csv") == 0
    labels = [r[0] for r in csv.reader(io.StringIO(capsys.readouterr().out))][1:]
    assert labels == [rows[0][i] for i in p.argmax(axis=1)]


def test_predict_proba_refuses_a_regression_model(tmp_path, capsys):
    write_shop(tmp_path / "d.csv", n=60)
    model = tmp_path / "m.nnc"
    assert main("train", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                "--epochs", "2", "--out", model) == 0  # fmt: skip
    capsys.readouterr()
    one_line_error(capsys, main("predict", model, tmp_path / "d.csv", "--proba"), "regression")


@pytest.mark.parametrize("change, word", [
    (lambda m: m.update(target_scale=0.0), "target_scale"),
    (lambda m: m.pop("target_mean"), "target_mean"),
    (lambda m: m.update(format=1), "format 2"),
])  # fmt: skip
def test_tampered_target_scaling_is_one_line(tmp_path, capsys, change, word):
    write_shop(tmp_path / "d.csv", n=60)
    model = tmp_path / "m.nnc"
    assert main("train", tmp_path / "d.csv", "--target", "spend", "--categorical", "auto",
                "--epochs", "2", "--out", model) == 0  # fmt: skip
    meta = json.loads((tmp_path / "m.nnc.json").read_text())
    change(meta)
    (tmp_path / "m.nnc.json").write_text(json.dumps(meta))
    capsys.readouterr()
    one_line_error(capsys, main("predict", model, tmp_path / "d.csv"), word)


def test_the_ceiling_note_needs_a_late_best_epoch():
    from nncore._cli_fit import FitSettings, Fitted, convergence_note

    s = FitSettings(epochs=40, batch_size=32, patience=20)
    assert convergence_note(Fitted(None, 40, 25, 0.0), s) is None  # flat since epoch 25
    assert "epoch 39 of 40" in convergence_note(Fitted(None, 40, 39, 0.0), s)
    assert convergence_note(Fitted(None, 30, 10, 0.0), s) is None  # stopped early
    flat = FitSettings(epochs=40, batch_size=32, early_stopping=False)
    assert convergence_note(Fitted(None, 40, None, 0.0, losses=[1.0] * 40), flat) is None
    falling = list(np.linspace(2.0, 1.0, 40))
    assert "far from converged" in convergence_note(
        Fitted(None, 40, None, 0.0, losses=falling), flat
    )
