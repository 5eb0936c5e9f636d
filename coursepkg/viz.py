"""Matplotlib helpers for the notebooks: training curves, decision boundaries, images, functions.

Nothing in the core imports this module; it only reads models, histories and data.
"""

from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, keys=None, axes=None, label: str = ""):
    """Loss curves on the left axis, accuracy curves on the right, against the epoch number."""
    plt = _plt()
    keys = keys or [k for k in history.metrics if k not in ("time", "lr")]
    loss_keys = [k for k in keys if "loss" in k]
    other_keys = [k for k in keys if "loss" not in k]
    n_axes = 1 + bool(other_keys)
    if axes is None:
        _, axes = plt.subplots(1, n_axes, figsize=(5 * n_axes, 3.5), squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    for ax, group, ylabel in zip(axes, (loss_keys, other_keys), ("cost", "accuracy")):
        for k in group:
            ax.plot(history.epochs, history[k], marker="o", ms=3, label=f"{label} {k}".strip())
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    return axes


def decision_grid(X, resolution: int = 200, margin: float = 0.5):
    """A ``resolution × resolution`` grid covering the 2-D points ``X`` (plus a margin).

    Returns ``(xx, yy, points)`` with ``points`` of shape ``(resolution², 2)`` ready for a model.
    """
    X = np.asarray(X)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)


def plot_decision_boundary(predict, X, y, ax=None, resolution: int = 200, title: str | None = None):
    """Colour the plane by the class ``predict(points)`` assigns and scatter the data on top.

    ``predict`` maps an ``(m, 2)`` array to class scores ``(m, k)`` (arg-max is taken), to a
    single score per point ``(m,)``/``(m, 1)`` (thresholded at 0.5), or directly to labels.
    A ``Module`` can be passed as ``model.forward`` (use ``model.eval()`` first if it has dropout).
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    xx, yy, points = decision_grid(X, resolution)
    scores = np.asarray(predict(points))
    if scores.ndim == 2 and scores.shape[1] > 1:
        labels = scores.argmax(axis=1)
    else:
        scores = scores.reshape(-1)
        labels = scores if scores.dtype.kind in "iub" else (scores > 0.5).astype(int)
    ax.contourf(xx, yy, labels.reshape(xx.shape), alpha=0.25, cmap="coolwarm",
                levels=np.arange(labels.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1), cmap="coolwarm", edgecolors="k", s=25)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def show_images(images, labels=None, ncols: int = 10, shape=(28, 28), cmap="gray_r", titles=None,
                axes=None, vmin=None, vmax=None):
    """Show a grid of images (rows of ``h·w`` pixels or ``(n, 1, h, w)``), titled by label."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    images = images.reshape(n, *shape)
    nrows = -(-n // ncols)
    if axes is None:
        _, axes = plt.subplots(nrows, min(ncols, n), figsize=(1.1 * min(ncols, n), 1.25 * nrows), squeeze=False)
    axes = np.asarray(axes).reshape(-1)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    return axes


def plot_function_and_derivative(f, df, name: str, z=None, ax=None):
    """Plot an activation ``f(z)`` and its derivative ``f'(z)`` on the same axes."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 2.8))
    z = np.linspace(-5, 5, 401) if z is None else z
    ax.plot(z, f(z), label=f"{name}(z)")
    ax.plot(z, df(z), "--", label=f"{name}'(z)")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_title(name)
    ax.set_xlabel("z")
    ax.legend(fontsize=8)
    return ax
