"""Monte-Carlo dropout (Gal & Ghahramani 2016): the mean and spread of a model's outputs over
several dropout masks, with everything else (batchnorm) in evaluation mode.

Sample s of rows [1024·c, 1024·(c+1)) draws its masks from the key (seed, step=s, draw=c)
(``_core.Network.forward_mc``; the Philox counter of element i of layer l is
(i, s, l | c << 16)), so the result depends on the seed, the sample count and the rows' positions,
never on the thread count or the ISA."""

from __future__ import annotations

import numpy as np

from ._validation import check_seed

_CHUNK = 1024  # rows per forward: bounds the workspace, and is part of the mask key
_MAX_CHUNKS = 1 << 16  # the chunk index has 16 bits in the key


def check_mc_samples(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"mc_samples must be a positive integer, got {value!r}")
    if value >= 2**32:
        raise ValueError(f"mc_samples must be < 2**32 (it keys the masks), got {value}")
    return int(value)


def mc_predict(net, X, transform, mc_samples, seed, return_std):
    """Mean (and population standard deviation) of transform(output) over mc_samples masks,
    accumulated in float64 in sample order (Welford), returned as float32."""
    n = X.shape[0]
    if n > _CHUNK * _MAX_CHUNKS:
        raise ValueError(
            f"Monte-Carlo dropout predicts at most {_CHUNK * _MAX_CHUNKS} rows per call "
            f"(the chunk index keys the masks), got {n}: split X"
        )
    seed = check_seed(seed)
    k = net.output_dim
    mean = np.zeros((n, k), np.float64)
    m2 = np.zeros((n, k), np.float64) if return_std else None
    for c, r0 in enumerate(range(0, n, _CHUNK)):
        xc = X[r0 : r0 + _CHUNK]
        mu = mean[r0 : r0 + _CHUNK]
        for s in range(mc_samples):
            y = transform(net.forward_mc(xc, seed, s, c)).astype(np.float64)
            d = y - mu
            mu += d / (s + 1)
            if m2 is not None:
                m2[r0 : r0 + _CHUNK] += d * (y - mu)
    if m2 is None:
        return mean.astype(np.float32)
    return mean.astype(np.float32), np.sqrt(m2 / mc_samples).astype(np.float32)
