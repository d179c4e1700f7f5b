"""Sums of per-row-block vectors in one fixed binary tree, whatever the split of the blocks.

Data-parallel training gives each rank a run of row blocks. If every rank summed its blocks in
its own order and MPI summed the ranks in its order, the rounding would depend on the rank count.
Instead the sum of blocks ``0..n-1`` is defined by one tree: leaves are blocks, node ``(h, j)``
covers blocks ``[j·2^h, (j+1)·2^h)`` and is ``left + right`` (just ``left`` when the right half
lies past block ``n-1``). A rank sums the maximal aligned nodes inside its run (``cover``), the
ranks exchange those node sums, and every rank finishes the same tree: bitwise the same result
for 1, 2, 3 or 64 ranks. Pure numpy; no MPI here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def cover(lo: int, hi: int) -> list[tuple[int, int]]:
    """The maximal aligned nodes ``(h, j)`` that exactly cover blocks ``[lo, hi)``, left to right."""
    out = []
    while lo < hi:
        h = 0
        while lo % (2 << h) == 0 and lo + (2 << h) <= hi:
            h += 1
        out.append((h, lo >> h))
        lo += 1 << h
    return out


def node_sum(h: int, j: int, leaf: Callable[[int], np.ndarray], nblocks: int) -> np.ndarray:
    """The tree sum of node (h, j); ``leaf(i)`` gives block i's vector (called in block order)."""
    if h == 0:
        return leaf(j)
    left = node_sum(h - 1, 2 * j, leaf, nblocks)
    if (2 * j + 1) << (h - 1) >= nblocks:
        return left
    right = node_sum(h - 1, 2 * j + 1, leaf, nblocks)
    return np.add(left, right, out=left if left.flags.writeable else None)


def root_level(nblocks: int) -> int:
    return max(0, (nblocks - 1).bit_length())


def finish(known: dict[tuple[int, int], np.ndarray], nblocks: int) -> np.ndarray:
    """The root sum from node sums that cover all blocks (as gathered from the ranks)."""

    def walk(h: int, j: int) -> np.ndarray:
        got = known.get((h, j))
        if got is not None:
            return got
        if h == 0:
            raise KeyError(f"block {j} is not covered")
        left = walk(h - 1, 2 * j)
        if (2 * j + 1) << (h - 1) >= nblocks:
            return left
        return np.add(left, walk(h - 1, 2 * j + 1))

    return walk(root_level(nblocks), 0)


def split_runs(nblocks: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous runs of blocks for ``parts`` ranks, as even as possible."""
    return [(r * nblocks // parts, (r + 1) * nblocks // parts) for r in range(parts)]
