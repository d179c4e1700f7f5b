"""The command line. With no arguments: train a small MLP on the embedded digits data with a
stratified train/test split and print the test accuracy and the time."""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args) -> int:
    import nncore as nc
    from nncore._split import holdout_indices

    X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
    tr, te = holdout_indices(len(y), 0.2, args.seed, stratify=y)
    model = nc.Sequential([nc.Dense(128, "relu"), nc.Dense(10)], input_dim=64, seed=args.seed)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(X[tr], y[tr], epochs=args.epochs, batch_size=32, verbose=0)
    elapsed = time.perf_counter() - t0
    acc = model.evaluate(X[te], y[te])["accuracy"]
    print(f"digits: {len(tr)} train / {len(te)} test rows, MLP 64-128-10, {args.epochs} epochs")
    print(f"test accuracy: {acc:.4f}")
    print(f"training time: {elapsed:.3f} s ({nc.config()['isa']}, {nc.get_num_threads()} threads)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nncore", description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
