"""What every figure of the chapters shares: a new figure or the axes a caller gives, and the line styles.

Figures draw runs in the order they are given, solid, dashed, dash-dot, dotted, as Figure 1 draws the
ReLU network solid and the tanh network dashed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["STYLES", "figure_and_axes"]

STYLES = ["-", "--", "-.", ":"]


def figure_and_axes(ax: Axes | None, figsize=(6, 4)) -> tuple[Figure, Axes]:
    """A new figure of ``figsize`` inches and its axes, or the figure of the axes ``ax`` and ``ax``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax
