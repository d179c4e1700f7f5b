"""Plots for training runs: learning curves, per-layer gradient norms (``fit(diagnostics=True)``),
cross-validation fold scores and 2-D decision boundaries of toy problems.

Needs matplotlib (``pip install nncore[plot]``), imported on first use. Each function draws on the
given ``ax`` (or a new figure) and returns the matplotlib Figure. Not included: interactive or
animated plots (see TensorFlow Playground for the classic interactive view of decision boundaries).
"""

from __future__ import annotations

import numpy as np

_HIDDEN = {"lr", "time", "grad_norm", "reg_loss", "nonfinite_steps"}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "nncore.plot needs matplotlib: pip install nncore[plot] (or pip install matplotlib)"
        ) from e
    return plt


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    _pyplot()
    return ax.figure, ax


def _history_dict(history) -> dict:
    h = getattr(history, "history", history)
    if not isinstance(h, dict):
        raise TypeError(f"expected a History or a dict of lists, got {type(history).__name__}")
    return h


def _epochs(history, n):
    ep = getattr(history, "epoch", None)
    if ep is not None and len(ep) == n:
        return [e + 1 for e in ep]
    return list(range(1, n + 1))


def learning_curve(history, metric: str = "loss", *, ax=None, log: bool = False):
    """Training and validation curves of one metric over epochs.

    Parameters
    ----------
    history : History or dict of lists
        What ``fit`` returns (or its ``.history``): ``metric`` and/or ``"val_" + metric``.
    metric : str
        ``"loss"``, ``"accuracy"`` or any other recorded key.
    ax : matplotlib Axes, optional
        Draw there; by default on a new figure.
    log : bool
        Logarithmic y axis.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When neither ``metric`` nor ``"val_" + metric`` is in the history.
    TypeError
        When ``history`` is neither a History nor a dict.
    ImportError
        When matplotlib is not installed.

    Examples
    --------
    >>> from nncore import plot
    >>> fig = plot.learning_curve({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['train', 'validation']
    """
    h = _history_dict(history)
    if metric not in h and "val_" + metric not in h:
        avail = ", ".join(k for k in h if "/" not in k)
        raise ValueError(f"no {metric!r} in the history (available: {avail})")
    fig, ax = _axes(ax)
    for key, style, label in ((metric, "-", "train"), ("val_" + metric, "--", "validation")):
        if key in h:
            vals = np.asarray(h[key], dtype=float)
            ax.plot(_epochs(history, len(vals)), vals, style, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if log:
        ax.set_yscale("log")
    ax.set_title(f"{metric}: train vs validation")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def learning_curves(history, metrics=None, *, figsize=None):
    """One panel per metric, each with its training and validation curves.

    Parameters
    ----------
    history : History or dict of lists
        As for :func:`learning_curve`.
    metrics : str or list of str, optional
        Default: ``loss`` and every other recorded metric (accuracy, ...), without the
        learning rate, times and diagnostics series.
    figsize : (float, float), optional
        Default: 5 inches wide per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When there is nothing to plot or a metric is missing.

    Examples
    --------
    >>> from nncore import plot
    >>> h = {"loss": [0.9, 0.5], "accuracy": [0.7, 0.8], "val_loss": [1.0, 0.7], "lr": [0.1, 0.1]}
    >>> fig = plot.learning_curves(h)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    h = _history_dict(history)
    if metrics is None:
        names = []
        for k in h:
            base = k[4:] if k.startswith("val_") else k
            if "/" in base or base in _HIDDEN or base in names:
                continue
            names.append(base)
        metrics = sorted(names, key=lambda m: (m != "loss", names.index(m)))
    elif isinstance(metrics, str):
        metrics = [metrics]
    if not metrics:
        raise ValueError("the history has no metrics to plot")
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(metrics), figsize=figsize or (5 * len(metrics), 3.8), squeeze=False
    )
    for m, ax in zip(metrics, axes[0]):
        learning_curve(history, m, ax=ax)
    fig.tight_layout()
    return fig


def gradient_norms(history, *, series: str = "grad_norm", ax=None, log: bool = True):
    """One per-layer diagnostics series over epochs, one line per layer.

    Parameters
    ----------
    history : History or dict of lists
        From ``fit(diagnostics=True)``, which records ``grad_norm/<layer>`` and the other
        series (see :mod:`nncore.diagnostics`).
    series : str
        ``grad_norm`` (weight-gradient norms, the default), ``weight_norm``, ``update_ratio``,
        ``dead`` or ``saturated``.
    ax : matplotlib Axes, optional
        Draw there; by default on a new figure.
    log : bool
        Logarithmic y axis for the norm and ratio series.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When the history has no such series (trained without ``diagnostics=True``).

    Examples
    --------
    >>> from nncore import plot
    >>> h = {"loss": [1.0, 0.5], "grad_norm/0": [0.02, 0.01], "grad_norm/2": [0.5, 0.3]}
    >>> fig = plot.gradient_norms(h)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['layer 0', 'layer 2']
    """
    from .diagnostics import series as _series

    data = _series(history, series)
    if not data:
        raise ValueError(
            f"the history has no '{series}/<layer>' series: train with fit(..., diagnostics=True)"
        )
    fig, ax = _axes(ax)
    for layer, vals in data.items():
        ax.plot(_epochs(history, len(vals)), vals, marker="o", markersize=3, label=f"layer {layer}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(series)
    if log and series in ("grad_norm", "weight_norm", "update_ratio"):
        ax.set_yscale("log")
    ax.set_title(f"{series} per layer")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def cv_scores(scores, *, kind: str = "box", ax=None, keys=None):
    """Per-fold scores of a cross-validation; the title gives each key's mean and standard
    deviation.

    Parameters
    ----------
    scores : dict or array-like
        What ``cross_validate`` returns (``{"test_accuracy": [...], "train_accuracy": [...],
        "fit_time": [...], ...}``: the ``test_``/``train_`` keys are drawn unless ``keys``
        names others), or a plain list of fold scores.
    kind : {"box", "bar"}
        ``box``: one box per key with the folds as points; ``bar``: one bar per fold, grouped
        by key.
    ax : matplotlib Axes, optional
        Draw there; by default on a new figure.
    keys : list of str, optional
        The dict keys to draw.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unknown ``kind`` or no scores.

    Examples
    --------
    >>> from nncore import plot
    >>> fig = plot.cv_scores({"test_accuracy": [0.95, 0.97, 0.96], "fit_time": [0.1] * 3})
    >>> fig.axes[0].get_title()
    'cross-validation: test_accuracy 0.960±0.008'
    """
    if kind not in ("box", "bar"):
        raise ValueError(f"kind must be 'box' or 'bar', got {kind!r}")
    if isinstance(scores, dict):
        if keys is None:
            keys = [k for k in scores if k.startswith(("test_", "train_"))] or [
                k for k in scores if not k.endswith("_time")
            ]
        data = {k: np.asarray(scores[k], dtype=float).ravel() for k in keys}
    else:
        data = {"score": np.asarray(scores, dtype=float).ravel()}
    if not data or any(v.size == 0 for v in data.values()):
        raise ValueError("no fold scores to plot")
    fig, ax = _axes(ax)
    names = list(data)
    if kind == "box":
        ax.boxplot([data[k] for k in names])
        ax.set_xticks(range(1, len(names) + 1), names)
        for i, k in enumerate(names, start=1):
            jitter = np.linspace(-0.08, 0.08, data[k].size) if data[k].size > 1 else [0.0]
            ax.plot(i + np.asarray(jitter), data[k], "o", alpha=0.7, markersize=4)
    else:
        nf = max(v.size for v in data.values())
        width = 0.8 / len(names)
        for j, k in enumerate(names):
            ax.bar(np.arange(data[k].size) + j * width, data[k], width, label=k)
        ax.set_xticks(np.arange(nf) + 0.4 - width / 2, [f"fold {i + 1}" for i in range(nf)])
        ax.legend(fontsize="small")
    ax.set_ylabel("score")
    means = ", ".join(f"{k} {v.mean():.3f}±{v.std():.3f}" for k, v in data.items())
    ax.set_title(f"cross-validation: {means}", fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def decision_boundary(
    model, X, y=None, *, ax=None, resolution: int = 200, padding: float = 0.5, cmap: str = "RdBu"
):
    """Decision regions of a model with two inputs, as TensorFlow Playground draws them.

    The model's ``predict`` runs on a grid covering X: with several outputs the regions are the
    predicted class, with one output the predicted value or probability (and, for
    ``binary_cross_entropy``, the 0.5 contour). The data points are drawn on top, coloured by y.

    Parameters
    ----------
    model : object with ``predict``
        E.g. a fitted :class:`nncore.Sequential` with ``input_dim=2``.
    X : array-like of shape (n, 2)
        The points; the plotted area covers them.
    y : array-like, optional
        Labels (or one-hot rows) to colour the points.
    ax : matplotlib Axes, optional
        Draw there; by default on a new figure.
    resolution : int
        Grid points per axis (at least 2).
    padding : float
        Margin around the data, in input units.
    cmap : str
        Matplotlib colormap.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When X is not (n, 2) or ``resolution < 2``.

    Examples
    --------
    >>> import numpy as np
    >>> import nncore as nc
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 1])
    >>> model = nc.Sequential([nc.Dense(2)], input_dim=2, seed=0)
    >>> model = model.compile(optimizer=nc.optim.Adam(lr=0.1), loss="cross_entropy")
    >>> history = model.fit(X, y, epochs=50, batch_size=4)
    >>> fig = nc.plot.decision_boundary(model, X, y, resolution=50)
    >>> fig.axes[0].get_title()
    'decision boundary'
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs X of shape (n, 2), got {X.shape}")
    if resolution < 2:
        raise ValueError("resolution must be >= 2")
    fig, ax = _axes(ax, figsize=(5, 5))
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    out = np.asarray(model.predict(grid))
    if out.ndim == 2 and out.shape[1] > 1:
        z = out.argmax(axis=1).reshape(gx.shape)
        k = out.shape[1]
        ax.contourf(gx, gy, z, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35)
    else:
        z = out.reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=20, cmap=cmap, alpha=0.35)
        fig.colorbar(cs, ax=ax)
        if getattr(model, "loss", None) == "binary_cross_entropy":
            ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1)
    if y is not None:
        yy = np.asarray(y)
        if yy.ndim == 2:
            yy = yy.argmax(axis=1) if yy.shape[1] > 1 else yy[:, 0]
        ax.scatter(X[:, 0], X[:, 1], c=yy, cmap=cmap, edgecolors="k", s=18)
    else:
        ax.scatter(X[:, 0], X[:, 1], c="k", s=10)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title("decision boundary")
    return fig


__all__ = ["cv_scores", "decision_boundary", "gradient_norms", "learning_curve", "learning_curves"]
