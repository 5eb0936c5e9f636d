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
