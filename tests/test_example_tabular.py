"""examples/tabular_residual.py runs on its committed data set (one fold, to stay quick)."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location(
        "tabular_residual", ROOT / "examples" / "tabular_residual.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tabular_example_one_fold():
    ex = _example()
    num, cat, y = ex.load()
    assert num.shape == (333, 4) and cat.shape == (333, 3) and np.isnan(num).sum() == 0
    rng = np.random.default_rng(0)
    te = rng.permutation(len(y))[:80]
    tr = np.setdiff1d(np.arange(len(y)), te)
    scores = ex.fold_scores(num, cat, y, tr, te, seed=0)
    assert scores["residual MLP + embeddings"] > 0.8  # sex from species x size: chance ~0.5
    assert scores["plain MLP + one-hot"] > 0.8
