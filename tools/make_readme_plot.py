"""Regenerate docs/learning_curve.png (linked from the README): a digits MLP's train vs validation
loss and accuracy, drawn with nncore.plot on the Agg backend.

    PYTHONPATH=python python tools/make_readme_plot.py [out.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nncore as nc  # noqa: E402
from nncore import plot  # noqa: E402


def main(out: str) -> None:
    X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
    model = nc.Sequential(
        [nc.Dense(128, "relu"), nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0
    )
    opt = nc.optim.Adam(lr=1e-3)
    model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=40, batch_size=32, validation_split=0.2, seed=0)
    fig = plot.learning_curves(history, figsize=(9, 3.6))
    fig.suptitle(f"digits, 64-128-64-10 MLP, {type(opt).__name__}", fontsize="medium")
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}: final val_accuracy {history.history['val_accuracy'][-1]:.4f}")


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else str(Path(__file__).parents[1] / "docs" / "learning_curve.png")
    )
