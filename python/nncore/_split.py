"""Index helpers for hold-out splits used inside fit (validation_split)."""

from __future__ import annotations

from typing import Any

import numpy as np


def holdout_indices(
    n: int, fraction: float, seed: int, stratify: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, holdout_idx): a shuffled hold-out of about ``fraction`` of n rows. With
    ``stratify`` (labels), each class contributes its share (rounded), at least one row per class
    that has two or more rows."""
    rng = np.random.default_rng([int(seed), 0x5EED])
    if stratify is None:
        perm = rng.permutation(n)
        k = max(1, int(round(fraction * n)))
        if k >= n:
            raise ValueError(f"validation_split={fraction} leaves no training rows")
        return np.sort(perm[k:]), np.sort(perm[:k])
    y = np.asarray(stratify)
    parts = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        k = int(round(fraction * len(idx)))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        else:
            k = 0
        parts.append(idx[:k])
    hold = np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)
    if len(hold) == 0:
        raise ValueError(f"validation_split={fraction} holds out no rows")
    mask = np.ones(n, bool)
    mask[hold] = False
    return np.flatnonzero(mask), hold
