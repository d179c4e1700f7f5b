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


def layers_forward(layers, h, P, masks=None, prefix=""):
    """Float64 forward of a list of nncore layers in training mode (batchnorm on the batch's
    statistics); P: parameter name -> float64 array; masks: layer name -> the dropout keep mask
    (read from nncore, whose masks are a pure function of seed, step, layer and element)."""
    import nncore as nc

    for j, layer in enumerate(layers):
        name = f"{prefix}{j}"
        if isinstance(layer, nc.Dense):
            z = h @ P[f"{name}.weight"].T
            if f"{name}.bias" in P:
                z = z + P[f"{name}.bias"]
            h = activation(layer.activation, z, layer.alpha)
        elif isinstance(layer, nc.BatchNorm):
            mu, var = h.mean(0), h.var(0)
            h = (h - mu) / np.sqrt(var + layer.eps) * P[f"{name}.weight"] + P[f"{name}.bias"]
        elif isinstance(layer, nc.Activation):
            h = activation(layer.activation, h, layer.alpha)
        elif isinstance(layer, nc.Dropout):
            if layer.rate > 0:
                h = h * masks[name] / (1 - layer.rate)
        elif isinstance(layer, nc.Residual):
            body = layers_forward(layer.layers, h, P, masks, f"{name}.body.")
            proj = P.get(f"{name}.proj.weight")
            h = body + (h if proj is None else h @ proj.T)
        elif isinstance(layer, nc.TabularInput):
            cols = [h[:, layer.numeric]]
            for t, c in enumerate(layer.categorical):
                cols.append(P[f"{name}.weight_{t}"][h[:, c].astype(int)])
            h = np.concatenate(cols, axis=1)
        elif isinstance(layer, nc.Embedding):
            h = P[f"{name}.weight"][h.astype(int)].reshape(len(h), -1)
        else:
            raise TypeError(f"no reference for {layer!r}")
    return h
