"""The figures of the mechanism chapters: ReLU against the saturating units (Section 3.1), overlapping
pooling windows (Section 3.4) and dropout as an ensemble (Section 4.2).

Every function draws on a new figure (or on the axes it is given) and returns the figure, so
that a chapter can call ``plt.show()`` and a test can inspect what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from alexnet.chapters.axes import STYLES, figure_and_axes
from alexnet.nn.activations import ACTIVATION_FUNCTIONS, activation_and_gradient

__all__ = ["plot_activations", "plot_pooling_windows", "plot_ensemble"]


def plot_activations(names: Sequence[str] = ("sigmoid", "tanh", "relu"), limit: float = 6.0) -> Figure:
    """Each activation and its derivative on [-limit, limit]: where the saturating ones stop passing gradient."""
    unknown = [n for n in names if n not in ACTIVATION_FUNCTIONS]
    if unknown or not names:
        raise ValueError(f"names must be among {sorted(ACTIVATION_FUNCTIONS)}, got {list(names)!r}")
    x = torch.linspace(-limit, limit, 601)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, name in enumerate(names):
        y, dy = activation_and_gradient(name, x)
        left.plot(x, y, STYLES[i % 4], label=name)
        right.plot(x, dy, STYLES[i % 4], label=name)
    left.set_title("activation f(x)")
    right.set_title("gradient f'(x)")
    for ax in (left, right):
        ax.set_xlabel("x")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.legend()
    return fig


def plot_pooling_windows(size: int = 9, kernel: int = 3, stride: int = 2, ax: Axes | None = None) -> Figure:
    """The pooling windows of one row of ``size`` units, one window per output, stacked (Section 3.4).

    Units covered by two windows are shaded darker: with z > s the windows overlap.
    """
    if size < kernel or kernel < 1 or stride < 1:
        raise ValueError(f"need size >= kernel >= 1 and stride >= 1, got size={size}, kernel={kernel}, stride={stride}")
    fig, ax = figure_and_axes(ax, figsize=(6, 2.4))
    starts = list(range(0, size - kernel + 1, stride))
    cover = [0] * size
    for s in starts:
        for u in range(s, s + kernel):
            cover[u] += 1
    for u in range(size):
        ax.add_patch(Rectangle((u, 0), 1, 1, facecolor=str(1 - 0.3 * cover[u]), edgecolor="black"))
    for j, s in enumerate(starts):
        ax.add_patch(Rectangle((s + 0.05, 1.3 + j * 0.5), kernel - 0.1, 0.35, facecolor=f"C{j % 10}", alpha=0.7))
    ax.set_xlim(-0.2, size + 0.2)
    ax.set_ylim(-0.2, 1.5 + 0.5 * len(starts))
    ax.set_yticks([])
    ax.set_xticks([u + 0.5 for u in range(size)], [str(u) for u in range(size)])
    ax.set_title(f"z={kernel}, s={stride}: {len(starts)} windows over {size} units")
    return fig


def plot_ensemble(rows: Sequence[Mapping[str, float]], ax: Axes | None = None) -> Figure:
    """Distance between averaged dropout sub-networks and the scaled network, against their number."""
    rows = [r for r in rows if r.get("samples", 0) > 0]
    if not rows:
        raise ValueError("plot_ensemble needs rows from ensemble_agreement")
    fig, ax = figure_and_axes(ax)
    ks = [r["samples"] for r in rows]
    ax.plot(ks, [r["arithmetic_distance"] for r in rows], "-o", label="arithmetic mean of probabilities")
    ax.plot(ks, [r["geometric_distance"] for r in rows], "--o", label="geometric mean (normalised)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sampled sub-networks averaged")
    ax.set_ylabel("distance to the scaled network")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title("dropout as an ensemble (Section 4.2)")
    return fig
