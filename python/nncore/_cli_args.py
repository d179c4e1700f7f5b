"""The command line's arguments: the parser (every option with its default and valid values in
``--help``; the CLI reference page is generated from it) and the checks of every value, run
before any data is read."""

from __future__ import annotations

import argparse
import os

from ._cli_csv import SEP_NAMES, check_encoding, parse_sep
from ._cli_fit import FitSettings
from ._cli_folds import Spec
from ._config import __version__
from ._schema import ACTIVATIONS, OPTIMIZERS

# Tuned on digits for >= 0.975 mean 5-fold accuracy: 96 units, Adam lr 3e-3. Early stopping on
# 20% of the training rows with patience 20 ends digits near 40-120 epochs and small regressions
# (statsmodels' grunfeld) near 50-220; 500 is only the ceiling.
DEFAULTS = {"hidden": "96", "epochs": 500, "batch_size": 32, "lr": 3e-3, "folds": 5,
            "patience": 20, "validation_fraction": 0.2}  # fmt: skip
LOSSES = {"classification": ("cross_entropy", "focal"), "regression": ("mse", "mae", "huber")}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Adds "(default: X)" to every option that has a value worth naming."""

    def _get_help_string(self, action):
        text = action.help or ""
        d = action.default
        if "(default" in text or d is argparse.SUPPRESS or action.required:
            return text
        if d is None:
            return text + " (default: none)"
        if isinstance(d, bool):  # a flag
            return text + (" (default: off)" if not d else " (default: on)")
        if action.option_strings or action.nargs in ("?", "*"):
            text += " (default: %(default)s)"
        return text


def _hidden(text: str) -> list:
    try:
        h = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated widths such as 128,64, got {text!r}"
        ) from None
    if not h or any(v < 1 for v in h):
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return h


def _data_options(p) -> None:
    g = p.add_argument_group("reading the table")
    g.add_argument("--sep", default="auto", metavar="SEP",
                   help="the CSV separator: one character, or "
                        f"{', '.join(SEP_NAMES)}; auto picks the one of , ; tab | that "
                        "splits every line into as many fields as the header")  # fmt: skip
    g.add_argument("--encoding", default="utf-8", help="the file's text encoding "
                   "(a byte-order mark is skipped), e.g. latin-1, cp1252")  # fmt: skip
    g.add_argument("--decimal", default=".", choices=[".", ","], metavar="MARK",
                   help="the decimal mark in numbers: . or , (',' reads 1,5 as 1.5)")  # fmt: skip


def _model_options(p) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--target", metavar="COLUMN", help="the target column; required for a CSV file")
    g.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="auto: text or at most 50 distinct integers -> classification",
    )
    g.add_argument(
        "--categorical",
        choices=["none", "auto"],
        default="none",
        help="auto: text columns become integer codes feeding learned embeddings",
    )
    g.add_argument(
        "--embed-dim",
        type=int,
        default=None,
        metavar="N",
        help="embedding width (default: round(1.6 * categories^0.56), 2..16)",
    )
    g.add_argument(
        "--impute",
        choices=["none", "mean", "median", "zero"],
        default="none",
        help="fill missing numeric cells with the training rows' statistic",
    )
    g.add_argument(
        "--missing-indicator",
        action="store_true",
        help="add a 0/1 column per imputed column (needs --impute)",
    )
    _data_options(p)
    _network_options(p)
    _training_options(p)


def _network_options(p) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--hidden",
        type=_hidden,
        default=DEFAULTS["hidden"],
        metavar="WIDTHS",
        help="hidden layer widths, comma-separated, e.g. 128,64",
    )
    g.add_argument(
        "--activation",
        choices=[a for a in ACTIVATIONS if a != "softmax"],
        default="relu",
        metavar="NAME",
        help="hidden activation: %(choices)s",
    )
    g.add_argument("--dropout", type=float, default=0.0, help="dropout rate in [0, 1)")
    g.add_argument("--batchnorm", action="store_true", help="BatchNorm before each activation")
    g.add_argument("--l2", type=float, default=0.0, help="L2 penalty on the weights")
    g.add_argument("--loss", choices=["auto", *LOSSES["classification"], *LOSSES["regression"]],
                   default="auto", help="auto: cross_entropy for classification, mse for "
                   "regression; a regression loss implies --task regression")  # fmt: skip


def _training_options(p) -> None:
    g = p.add_argument_group("training")
    g.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adam",
        metavar="NAME",
        help="optimizer: %(choices)s",
    )
    g.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="learning rate")
    g.add_argument(
        "--epochs",
        type=int,
        default=DEFAULTS["epochs"],
        help="the most epochs (early stopping usually ends sooner)",
    )
    g.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="batch size")
    g.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=True,
                   help="stop when the loss on a held-out part of the training rows has not "
                   "improved for --patience epochs and keep the best epoch's weights "
                   "(default: on)")  # fmt: skip
    g.add_argument(
        "--patience",
        type=int,
        default=DEFAULTS["patience"],
        help="epochs without improvement before early stopping",
    )
    g.add_argument(
        "--validation-fraction",
        type=float,
        default=DEFAULTS["validation_fraction"],
        metavar="F",
        help="share of the training rows held out for early stopping",
    )
    g.add_argument("--seed", type=int, default=0, help="seeds weights, shuffles and splits")
    g.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for training (default: the core's choice, all cores)",
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print one line per epoch (per fold in cv): loss, validation loss, time",
    )


def build_parser(error_cls, commands: dict) -> argparse.ArgumentParser:
    """The parser; ``error_cls`` is raised (one line) for a bad argument."""

    class Parser(argparse.ArgumentParser):
        def error(self, message):  # one line, status 2, no usage dump
            raise error_cls(message)

    kw: dict = {"formatter_class": _Formatter}
    parser = Parser(prog="nncore", description="Train, cross-validate and run MLPs with nncore. "
                    "With no command, runs 'cv' (on the embedded digits data if no file is "
                    "given).", **kw)  # fmt: skip
    parser.add_argument("--version", action="version", version=f"nncore {__version__}")
    parser.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print where the C++ inference API's CMake package is installed",
    )
    parser.add_argument(
        "--include",
        action="store_true",
        help="print where the C++ inference API's headers (nncore/model.h) are",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    p = sub.add_parser("cv", help="k-fold cross-validation: a score per fold, mean ± std", **kw)
    p.add_argument(
        "data", nargs="?", default=None, help="CSV or .npz file (default: the embedded digits data)"
    )
    _model_options(p)
    g = p.add_argument_group("cross-validation")
    g.add_argument("--folds", type=int, default=DEFAULTS["folds"], help="number of folds (>= 2)")
    g.add_argument("--jobs", type=int, default=None,
                   help="folds trained at once, in threads, sharing --threads (-1: one per "
                   "thread; default: one per thread up to --folds, or 1 with --verbose); the "
                   "scores equal --jobs 1")  # fmt: skip
    p.set_defaults(func=commands["cv"])
    p = sub.add_parser("train", help="train on every row, write the model and its sidecar", **kw)
    p.add_argument("data", help="CSV or .npz file")
    _model_options(p)
    p.add_argument(
        "--out",
        required=True,
        metavar="MODEL",
        help="model file to write (and MODEL.json, the sidecar predict reads)",
    )
    p.set_defaults(func=commands["train"])
    p = sub.add_parser("predict", help="predict with a model written by 'train'", **kw)
    p.add_argument("model", help="the model file (its sidecar MODEL.json next to it)")
    p.add_argument("data", help="CSV or .npz file with the training feature columns")
    p.add_argument("--out", default=None, metavar="CSV", help="where to write (default: stdout)")
    p.add_argument(
        "--proba",
        action="store_true",
        help="class probabilities, one column per class named by the class",
    )
    _data_options(p)
    p.set_defaults(func=commands["predict"])
    return parser


def check(args, error_cls) -> None:
    """Raise ``error_cls`` for the first bad value; needs no data (so runs before reading)."""

    def need(ok: bool, text: str):
        if not ok:
            raise error_cls(text)

    if getattr(args, "command", None) is None:
        raise error_cls("no command: use cv, train or predict (see nncore --help)")
    try:
        args.sep = parse_sep(args.sep)
        check_encoding(args.encoding)
    except ValueError as e:
        raise error_cls(str(e)) from None
    need(not (args.decimal == "," and args.sep == ","), "--decimal , needs --sep other than ','")
    if args.command == "predict":
        return
    need(args.epochs >= 1, f"--epochs must be >= 1, got {args.epochs}")
    need(args.batch_size >= 1, f"--batch-size must be >= 1, got {args.batch_size}")
    need(0.0 <= args.dropout < 1.0, f"--dropout must be in [0, 1), got {args.dropout}")
    need(args.lr > 0, f"--lr must be > 0, got {args.lr}")
    need(args.l2 >= 0, f"--l2 must be >= 0, got {args.l2}")
    need(args.patience >= 0, f"--patience must be >= 0, got {args.patience}")
    f = args.validation_fraction
    need(0.0 < f < 1.0, f"--validation-fraction must be in (0, 1), got {f}")
    need(args.embed_dim is None or args.embed_dim >= 1, f"--embed-dim must be >= 1, got "
         f"{args.embed_dim}")  # fmt: skip
    need(not args.missing_indicator or args.impute != "none",
         "--missing-indicator needs --impute mean|median|zero")  # fmt: skip
    _check_loss(args, error_cls)
    if args.command == "cv":
        need(args.folds >= 2, f"--folds must be >= 2, got {args.folds}")
        need(args.jobs is None or args.jobs >= 1 or args.jobs == -1,
             f"--jobs must be >= 1 or -1, got {args.jobs}")  # fmt: skip
    if args.command == "train":
        parent = os.path.dirname(os.path.abspath(args.out))
        need(os.path.isdir(parent), f"--out: no directory {parent}")
        need(not os.path.isdir(args.out), f"--out {args.out} is a directory: give a file name")
    if args.threads is not None:
        need(args.threads >= 1, f"--threads must be >= 1, got {args.threads}")
        from ._config import set_num_threads

        set_num_threads(args.threads)


def _check_loss(args, error_cls) -> None:
    if args.loss == "auto":
        return
    task = next(t for t, names in LOSSES.items() if args.loss in names)
    if args.task == "auto":
        args.task = task  # a regression loss means a regression target
    elif args.task != task:
        raise error_cls(f"--loss {args.loss} is a {task} loss, but --task is {args.task}")


def spec(args) -> Spec:
    """The model and training settings of parsed ``cv``/``train`` arguments."""
    fit = FitSettings(args.epochs, args.batch_size, args.early_stopping, args.patience,
                      args.validation_fraction, args.verbose)  # fmt: skip
    return Spec(args.hidden, args.activation, args.dropout, args.batchnorm, args.optimizer,
                args.lr, args.l2, args.seed, None if args.loss == "auto" else args.loss,
                args.embed_dim, args.impute, args.missing_indicator, fit)  # fmt: skip
