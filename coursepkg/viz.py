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


def plot_decision_line(w, b, X=None, y=None, ax=None, lims=(-0.5, 1.5), shade: bool = True,
                       label: str | None = None, **line_kwargs):
    """Draw a linear unit's decision line ``w₁x₁ + w₂x₂ + b = 0`` (and its data) in 2-D.

    ``shade`` tints the half-plane where ``z = x·w + b > 0`` (the unit outputs 1). ``X, y``
    (optional) are scattered on top, coloured by label. ``lims`` is the square plotting window
    (ignored when ``X`` is given: the window then covers the data plus a margin). Returns ``ax``.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.4))
    w = np.asarray(w, dtype=float).reshape(-1)
    b = float(np.asarray(b).reshape(()))
    if X is not None:
        X = np.asarray(X)
        lo, hi = float(X.min()) - 0.5, float(X.max()) + 0.5
    else:
        lo, hi = lims
    if shade:
        xx, yy = np.meshgrid(np.linspace(lo, hi, 200), np.linspace(lo, hi, 200))
        ax.contourf(xx, yy, (w[0] * xx + w[1] * yy + b > 0).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["#dde6f5", "#f7dcd5"], alpha=0.8)
    line_kwargs.setdefault("color", "k")
    if abs(w[1]) > 1e-12:  # x₂ = −(w₁x₁ + b)/w₂
        xs = np.array([lo, hi])
        ax.plot(xs, -(w[0] * xs + b) / w[1], label=label, **line_kwargs)
    elif abs(w[0]) > 1e-12:  # vertical line x₁ = −b/w₁
        ax.axvline(-b / w[0], label=label, **line_kwargs)
    if X is not None:
        ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1) if y is not None else None,
                   cmap="coolwarm", vmin=0, vmax=1, edgecolors="k", s=70, zorder=3)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_compute_graph(nodes, edges, values=None, grads=None, ax=None, title: str | None = None):
    """Draw a computational graph with forward values (green, above) and gradients (red, below).

    ``nodes`` maps a name to ``(x, y, label)``: its position and the text in its circle (an
    operation such as ``"+"`` or ``"×"``, or a variable name). ``edges`` lists ``(src, dst)``
    pairs; an edge carries ``src``'s value forward and ``∂f/∂src`` backward, so ``values`` and
    ``grads`` (optional) map node names to the numbers written on the edges leaving them (on a
    short stub to the right for a node without outgoing edge, the output).
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2))
    values, grads = values or {}, grads or {}
    leaving = {src: dst for src, dst in edges}
    for name, (x, y, label) in nodes.items():
        ax.add_patch(plt.Circle((x, y), 0.28, facecolor="#f4f4f4", edgecolor="k", zorder=2))
        ax.text(x, y, label, ha="center", va="center", fontsize=13, zorder=3)
        if name in leaving:
            x2, y2 = nodes[leaving[name]][:2]
            ax.annotate("", xy=(x2, y2), xytext=(x, y), zorder=1,
                        arrowprops=dict(arrowstyle="-|>", shrinkA=15, shrinkB=15, color="k"))
        else:
            x2, y2 = x + 1.0, y
            ax.annotate("", xy=(x2, y2), xytext=(x, y), arrowprops=dict(arrowstyle="-", shrinkA=15))
        mx, my = (x + x2) / 2, (y + y2) / 2
        if name in values:
            ax.text(mx, my + 0.12, f"{values[name]:g}", color="green", ha="center", va="bottom", fontsize=11)
        if name in grads:
            ax.text(mx, my - 0.12, f"{grads[name]:g}", color="red", ha="center", va="top", fontsize=11)
    xs = [p[0] for p in nodes.values()]
    ys = [p[1] for p in nodes.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 1.3)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_confusion_matrix(counts, ax=None, labels=None, cmap="Blues"):
    """Show a confusion matrix ``counts[true, predicted]`` as a heat map with the counts written in.

    Rows are the true classes, columns the predicted ones: the diagonal holds the correct
    predictions, an off-diagonal entry ``[i, j]`` counts examples of class ``i`` taken for ``j``.
    """
    plt = _plt()
    counts = np.asarray(counts)
    k = len(counts)
    labels = list(range(k)) if labels is None else list(labels)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * k + 1.5, 0.55 * k + 1))
    ax.imshow(np.log1p(counts), cmap=cmap)  # log scale: the small off-diagonal counts stay visible
    threshold = np.log1p(counts).max() / 2
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if np.log1p(counts[i, j]) > threshold else "black")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax


def plot_anneal_trace(trace, axes=None, window: int = 50, label: str = ""):
    """Three panels of an ``optim.AnnealTrace``: the temperature ``T(t)`` (log scale), the cost
    ``C`` after each step, and the acceptance rate as a moving average over ``window`` steps."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    window = max(1, min(window, len(trace.accepted)))
    rate = np.convolve(trace.accepted.astype(float), np.ones(window) / window, mode="valid")
    panels = ((trace.t, trace.temperature, "temperature T", "log"),
              (trace.t, trace.cost, "cost C", "linear"),
              (trace.t[window - 1:], rate, f"acceptance rate ({window}-step mean)", "linear"))
    for ax, (t, values, ylabel, scale) in zip(axes, panels):
        ax.plot(t, values, label=label or None)
        ax.set_yscale(scale)
        ax.set_xlabel("step t")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if label:
            ax.legend()
    return axes


def plot_trials(trials, x: str, y: str, ax=None, log=(False, False), title: str | None = None,
                numbers: bool = False, cmap="viridis_r"):
    """Scatter the trials of a ``hyperopt`` search in the plane of hyper-parameters ``x`` and
    ``y``, coloured by their value (dark = good for ``cmap="viridis_r"`` when minimizing), with
    the best trial starred; ``numbers=True`` writes each trial's number next to it."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    xs, ys = np.asarray(trials.column(x), dtype=float), np.asarray(trials.column(y), dtype=float)
    values = trials.values
    cmap = cmap[:-2] if trials.maximize and cmap.endswith("_r") else cmap
    points = ax.scatter(xs, ys, c=values, cmap=cmap, s=30, edgecolors="k", linewidths=0.4)
    best = trials.best
    ax.plot(best[x], best[y], "*", ms=16, mfc="none", mec="red", mew=1.5, label=f"best {best['value']:.3g}")
    if numbers:
        for i, (a, b) in enumerate(zip(xs, ys), start=1):
            ax.annotate(str(i), (a, b), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_xscale("log" if log[0] else "linear")
    ax.set_yscale("log" if log[1] else "linear")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    plt.colorbar(points, ax=ax, label="value")
    return ax


def plot_best_so_far(searches: dict, ax=None, ylabel: str = "best value so far"):
    """The running best ``b_t`` of several searches (``{label: Trials}``) against the trial number;
    a list of ``Trials`` under one label is drawn as its median with the range shaded."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for label, trials in searches.items():
        runs = trials if isinstance(trials, (list, tuple)) else [trials]
        curves = np.array([t.best_so_far() for t in runs])
        t = np.arange(1, curves.shape[1] + 1)
        line, = ax.plot(t, np.median(curves, axis=0), marker="o", ms=3, label=label)
        if len(runs) > 1:
            ax.fill_between(t, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15)
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


_BLOCK_STYLES = {  # how plot_block_diagram draws each kind of block
    "layer": dict(boxstyle="round,pad=0.35", facecolor="#ffe9a8", edgecolor="#9a7b00"),  # σ / tanh layer
    "op": dict(boxstyle="circle,pad=0.2", facecolor="#fbd3d8", edgecolor="#a33"),  # pointwise ×, +, tanh
    "var": dict(boxstyle="round,pad=0.3", facecolor="#e3eefc", edgecolor="#36c"),  # a value: X_t, C_t, …
}


def plot_block_diagram(blocks, arrows, ax=None, title: str | None = None, figsize=(8, 4)):
    """Draw a dataflow diagram (e.g. an LSTM or GRU cell, or an RNN unrolled in time).

    ``blocks`` maps a name to ``(x, y, label, kind)`` with ``kind`` one of ``"layer"`` (a
    weighted layer with its activation: yellow box), ``"op"`` (a pointwise operation such as ×
    or +: pink circle) and ``"var"`` (a value such as ``X_t``: blue box). ``arrows`` lists
    ``(src, dst)`` or ``(src, dst, rad)`` pairs; ``rad ≠ 0`` bends the arrow (an arc).
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    for x, y, label, kind in blocks.values():
        ax.text(x, y, label, ha="center", va="center", fontsize=11, zorder=3, bbox=_BLOCK_STYLES[kind])
    for arrow in arrows:
        src, dst, rad = (tuple(arrow) + (0.0,))[:3]
        ax.annotate("", xy=blocks[dst][:2], xytext=blocks[src][:2], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color="#333", shrinkA=14, shrinkB=14,
                                    connectionstyle=f"arc3,rad={rad}"))
    xs = [b[0] for b in blocks.values()]
    ys = [b[1] for b in blocks.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
