"""Float64 numpy reference implementations of nncore's maths, for gradient checks."""

from __future__ import annotations

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
_erf = np.vectorize(math.erf)


def activation(name: str, z: np.ndarray, alpha: float | None = None) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if name == "linear":
        return z.copy()
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        a = 0.01 if alpha is None else alpha
        return np.where(z > 0, z, a * z)
    if name == "elu":
        a = 1.0 if alpha is None else alpha
        return np.where(z > 0, z, a * np.expm1(np.minimum(z, 0)))
    if name == "selu":
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))
    if name == "gelu":
        return 0.5 * z * (1 + _erf(z / math.sqrt(2)))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softplus":
        return np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20))))
    if name == "silu":
        return z / (1 + np.exp(-z))
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(name)


def layernorm(x, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """torch.nn.LayerNorm over the last axis: biased variance; gamma/beta None = 1 / 0."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(-1, keepdims=True)
    y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def loss(name: str, pred: np.ndarray, y: np.ndarray, weights=None, delta: float = 1.0) -> float:
    p = np.asarray(pred, dtype=np.float64)
    n, k = p.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if name == "cross_entropy":
        lse = np.log(np.exp(p - p.max(1, keepdims=True)).sum(1)) + p.max(1)
        if y.ndim == 1:
            t = np.eye(k)[y]
        else:
            t = np.asarray(y, dtype=np.float64)
        per = (t * (lse[:, None] - p)).sum(1)
        return float((w * per).sum() / n)
    t = np.asarray(y, dtype=np.float64).reshape(n, k)
    d = p - t
    if name == "mse":
        per = d * d
    elif name == "mae":
        per = np.abs(d)
    elif name == "huber":
        per = np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
    elif name == "binary_cross_entropy":
        per = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    elif name == "poisson":  # half deviance, the output is log(mean)
        per = np.exp(p) - p * t + np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t
    else:
        raise ValueError(name)
    return float((w[:, None] * per).sum() / (n * k))


def mlp_forward(x, params, layers):
    """layers: list of (units, activation) Dense layers; params: {"i.weight", "i.bias"} float64."""
    h = np.asarray(x, dtype=np.float64)
    for i, (_, act) in enumerate(layers):
        h = activation(act, h @ params[f"{i}.weight"].T + params[f"{i}.bias"])
    return h


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of scalar f at x (float64), coordinate by coordinate."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


def rel_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))
