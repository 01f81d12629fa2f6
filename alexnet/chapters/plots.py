"""Figures of the claims' experiments (Sections 3.1-4.2): curves of runs as in Figure 1, each arm's mean and
range over seeds, the time to a target, an ablation's bars, and every claim's effect with its interval.

Every function draws on a new figure (or on the axes it is given) and returns the figure, so
that a chapter can call ``plt.show()`` and a test can inspect what was drawn. The mechanism chapters'
own figures are in :mod:`alexnet.chapters.mechanism_plots`, the training chapter's in
:mod:`alexnet.chapters.training_plots`; every figure is importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from alexnet.chapters.axes import STYLES, figure_and_axes
from alexnet.claims.fit import History

__all__ = ["plot_curves", "plot_band", "plot_time_to_target", "plot_bars", "plot_forest", "table"]


def plot_curves(
    histories: Mapping[str, History],
    key: str = "train_error",
    target: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """One curve per run of ``key`` (an error in [0, 1], plotted in %) against epochs, as in Figure 1.

    Solid, dashed, ... lines in the order of ``histories`` (Figure 1: solid ReLU, dashed tanh);
    ``target`` draws a horizontal line (Figure 1's 25% training error).
    """
    if not histories:
        raise ValueError("plot_curves needs at least one history")
    fig, ax = figure_and_axes(ax)
    for i, (name, hist) in enumerate(histories.items()):
        values = getattr(hist, key, None)
        if not values:
            raise ValueError(f"history {name!r} has no values for {key!r}")
        ax.plot(hist.epochs_of(key), [100 * v for v in values], STYLES[i % len(STYLES)], marker="o", label=name)
    if target is not None:
        ax.axhline(100 * target, color="grey", linewidth=0.8, label=f"{100 * target:g}%")
    ax.set_xlabel("epochs")
    ax.set_ylabel(key.replace("_", " ") + " (%)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(title or key.replace("_", " "))
    return fig


def _mean_and_range(ax: Axes, x, series: Sequence[Sequence[float]], style: str, label: str, **line):
    """The mean over ``series`` (errors in [0, 1], drawn in %) as a line, and a band from the lowest to the highest."""
    values = torch.tensor(series) * 100
    (drawn,) = ax.plot(x, values.mean(0), style, label=label, **line)
    ax.fill_between(x, values.min(0).values, values.max(0).values, color=drawn.get_color(), alpha=0.2)
    return drawn


def plot_band(
    runs: Mapping[str, Sequence[History]],
    key: str = "val_error",
    target: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Per arm, the mean over seeds of ``key`` (an error in [0, 1], in %) against epochs, with a band from
    the lowest to the highest seed. Runs stopped early (at a target) count only while they all ran."""
    if not runs:
        raise ValueError("plot_band needs at least one arm")
    fig, ax = figure_and_axes(ax)
    for i, (name, histories) in enumerate(runs.items()):
        series = [getattr(h, key) for h in histories]
        if not series or not all(series):
            raise ValueError(f"arm {name!r} has no values for {key!r}")
        epochs = min(len(s) for s in series)
        x = histories[0].epochs_of(key)[:epochs]  # the seeds of an arm share their epochs of evaluation
        _mean_and_range(ax, x, [s[:epochs] for s in series], STYLES[i % len(STYLES)], f"{name} ({len(series)} seeds)",
                        marker="o")  # fmt: skip
    if target is not None:
        ax.axhline(100 * target, color="grey", linewidth=0.8, label=f"{100 * target:g}%")
    ax.set_xlabel("epochs")
    ax.set_ylabel(key.replace("_", " ") + " (%)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_time_to_target(
    runs: Mapping[str, Sequence[History]],
    times: Mapping[str, Sequence[float]],
    target: float,
    start: float,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Figure 1's view of a time-to-target claim: per arm, the training error (on the fly, in %) from ``start``
    (chance) at epoch 0, its mean and range over the seeds for as long as every seed trained, and each seed's
    epochs to ``target`` (``times``, the claim's measure) as a tick on the target line."""
    fig, ax = figure_and_axes(ax)
    for i, (name, histories) in enumerate(runs.items()):
        series = [h.train_error for h in histories]
        epochs = min(len(s) for s in series)
        x = [0, *histories[0].epoch[:epochs]]
        line = _mean_and_range(ax, x, [[start] + s[:epochs] for s in series], STYLES[i % len(STYLES)],
                               f"{name}: mean of {len(series)} seeds")  # fmt: skip
        ax.plot(times[name], [100 * target] * len(times[name]), "|", color=line.get_color(), markersize=14,
                markeredgewidth=2, label=f"{name}: each seed's epochs to {100 * target:g}%")  # fmt: skip
    ax.axhline(100 * target, color="grey", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epochs")
    ax.set_ylabel("training error (%)")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 100 * start + 5)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_bars(
    values: Mapping[str, float], ylabel: str = "error (%)", ax: Axes | None = None, title: str = ""
) -> Figure:
    """A bar per arm of an ablation; ``values`` are fractions in [0, 1], drawn in %."""
    if not values:
        raise ValueError("plot_bars needs at least one value")
    fig, ax = figure_and_axes(ax, figsize=(5, 3.5))
    bars = ax.bar(list(values), [100 * v for v in values.values()], color=[f"C{i}" for i in range(len(values))])
    ax.bar_label(bars, fmt="%.2f")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def plot_forest(results: Sequence, ax_pair: Sequence[Axes] | None = None) -> Figure:
    """The claims' effects with their 95% intervals, the paper's magnitude marked where it gives one.

    ``results`` are :class:`alexnet.claims.runner.ClaimResult` objects (e.g. the recorded ones). Ratio claims
    (Figure 1's speed-up) are drawn on a log axis of their own, the others in points of error; a
    positive effect is the paper's direction, and the dotted line is "no effect".
    """
    ratios = [r for r in results if r.claim.ratio]
    points = [r for r in results if not r.claim.ratio]
    if not results:
        raise ValueError("plot_forest needs at least one result")
    if ax_pair is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 0.6 * max(len(points), 2) + 1.6),
                                 gridspec_kw={"width_ratios": [1, 2]})  # fmt: skip
    else:
        axes, fig = list(ax_pair), ax_pair[0].figure
    for ax, group, scale, none, label in (
        (axes[0], ratios, 1.0, 1.0, "ratio (log scale)"),
        (axes[1], points, 100.0, 0.0, "effect (points of error)"),
    ):
        marked = False
        for y, r in enumerate(reversed(group)):
            c, e = r.claim, r.effect
            shift = 1.0 if c.ratio else 0.0  # a ratio's effect is stored as ratio - 1
            mid, (low, high) = scale * (e.effect + shift), (scale * (v + shift) for v in e.ci95)
            ax.plot([low, high], [y, y], color="black", linewidth=2)
            ax.plot([mid], [y], "s", color="black")
            if c.paper_value is not None:
                ax.plot([scale * c.paper_value], [y], "v", color="tab:red", markersize=9,
                        label=None if marked else "the paper")  # fmt: skip
                marked = True
        ax.axvline(none, color="grey", linestyle=":", linewidth=1)
        ax.set_yticks(range(len(group)), [f"{r.claim.name} ({r.claim.section})" for r in reversed(group)])
        ax.set_xlabel(label)
        ax.set_ylim(-0.7, max(len(group), 1) - 0.3)
        if group and group[0].claim.ratio:
            ax.set_xscale("log")
            ax.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
            ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.set_xlim(0.8, 10)
        if any(r.claim.paper_value is not None for r in group):
            ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("each claim: mean effect (square) and 95% interval over the recorded seeds")
    fig.tight_layout()
    return fig


def table(header: Sequence[str], rows: Sequence[Sequence]):
    """A table for a reader: Markdown that Jupyter and the built book show as an HTML table
    (the last expression of a cell, or ``display(table(...))``)."""
    from IPython.display import Markdown

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return Markdown("\n".join(lines))
