"""Figures for the chapters (matplotlib): training curves, activations, pooling windows, dropout ensembles.

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
from matplotlib.ticker import MaxNLocator

from alexnet.claims.fit import History
from alexnet.nn.activations import ACTIVATION_FUNCTIONS, activation_and_gradient

__all__ = [
    "plot_curves",
    "plot_band",
    "plot_time_to_target",
    "plot_activations",
    "plot_pooling_windows",
    "plot_ensemble",
    "plot_bars",
    "plot_training",
    "kernel_tiles",
    "plot_kernels",
    "plot_neighbours",
    "plot_top5",
    "plot_forest",
    "table",
]

_STYLES = ["-", "--", "-.", ":"]


def _axes(ax: Axes | None, figsize=(6, 4)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


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
    fig, ax = _axes(ax)
    for i, (name, hist) in enumerate(histories.items()):
        values = getattr(hist, key, None)
        if not values:
            raise ValueError(f"history {name!r} has no values for {key!r}")
        ax.plot(hist.epochs_of(key), [100 * v for v in values], _STYLES[i % len(_STYLES)], marker="o", label=name)
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
    fig, ax = _axes(ax)
    for i, (name, histories) in enumerate(runs.items()):
        series = [getattr(h, key) for h in histories]
        if not series or not all(series):
            raise ValueError(f"arm {name!r} has no values for {key!r}")
        epochs = min(len(s) for s in series)
        x = histories[0].epochs_of(key)[:epochs]  # the seeds of an arm share their epochs of evaluation
        _mean_and_range(ax, x, [s[:epochs] for s in series], _STYLES[i % len(_STYLES)], f"{name} ({len(series)} seeds)",
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
    fig, ax = _axes(ax)
    for i, (name, histories) in enumerate(runs.items()):
        series = [h.train_error for h in histories]
        epochs = min(len(s) for s in series)
        x = [0, *histories[0].epoch[:epochs]]
        line = _mean_and_range(ax, x, [[start] + s[:epochs] for s in series], _STYLES[i % len(_STYLES)],
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


def plot_activations(names: Sequence[str] = ("sigmoid", "tanh", "relu"), limit: float = 6.0) -> Figure:
    """Each activation and its derivative on [-limit, limit]: where the saturating ones stop passing gradient."""
    unknown = [n for n in names if n not in ACTIVATION_FUNCTIONS]
    if unknown or not names:
        raise ValueError(f"names must be among {sorted(ACTIVATION_FUNCTIONS)}, got {list(names)!r}")
    x = torch.linspace(-limit, limit, 601)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, name in enumerate(names):
        y, dy = activation_and_gradient(name, x)
        left.plot(x, y, _STYLES[i % 4], label=name)
        right.plot(x, dy, _STYLES[i % 4], label=name)
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
    fig, ax = _axes(ax, figsize=(6, 2.4))
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
    fig, ax = _axes(ax)
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


def plot_bars(
    values: Mapping[str, float], ylabel: str = "error (%)", ax: Axes | None = None, title: str = ""
) -> Figure:
    """A bar per arm of an ablation; ``values`` are fractions in [0, 1], drawn in %."""
    if not values:
        raise ValueError("plot_bars needs at least one value")
    fig, ax = _axes(ax, figsize=(5, 3.5))
    bars = ax.bar(list(values), [100 * v for v in values.values()], color=[f"C{i}" for i in range(len(values))])
    ax.bar_label(bars, fmt="%.2f")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- the training chapter (Section 5, Figures 3-4)


def plot_training(history: Sequence[Mapping[str, float]], title: str = "") -> Figure:
    """The curves of a run of :func:`alexnet.training.loop.train`: training loss, validation top-1/top-5 error, learning rate.

    ``history`` is the list of per-epoch records (``TrainResult.history`` or
    :func:`alexnet.training.checkpoint.read_metrics`). Epochs where the learning rate was divided are marked.
    """
    if not history:
        raise ValueError("plot_training needs at least one epoch of metrics")
    epochs = [r["epoch"] for r in history]
    fig, (loss_ax, err_ax, lr_ax) = plt.subplots(1, 3, figsize=(13, 3.6))
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "-o", label="training loss")
    if "val_loss" in history[0]:
        loss_ax.plot(epochs, [r["val_loss"] for r in history], "--o", label="validation loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_title("cross-entropy")
    loss_ax.legend()
    err_ax.plot(epochs, [100 * r["val_top1_error"] for r in history], "-o", label="top-1")
    err_ax.plot(epochs, [100 * r["val_top5_error"] for r in history], "--o", label="top-5")
    if "train_top1_error" in history[0]:
        err_ax.plot(epochs, [100 * r["train_top1_error"] for r in history], ":", label="top-1 (training crops)")
    err_ax.set_xlabel("epoch")
    err_ax.set_ylabel("error (%)")
    err_ax.set_ylim(bottom=0)
    err_ax.set_title("validation error")
    err_ax.legend()
    lrs = [r["lr"] for r in history]
    lr_ax.step(epochs, lrs, where="post")
    lr_ax.set_yscale("log")
    lr_ax.set_xlabel("epoch")
    lr_ax.set_title("learning rate")
    for e, (before, after) in zip(epochs[1:], zip(lrs, lrs[1:], strict=False), strict=False):
        if after < before:
            for ax in (loss_ax, err_ax, lr_ax):
                ax.axvline(e - 0.5, color="grey", linewidth=0.8, linestyle=":")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def kernel_tiles(weight: torch.Tensor, scale: str = "each") -> torch.Tensor:
    """Conv1 kernels (K, 3, h, w) as RGB tiles in [0, 1], (K, h, w, 3): zero weight is mid-grey.

    ``scale="each"`` stretches every kernel by its own largest absolute weight (shows the shape
    of weak kernels too); ``"all"`` uses one scale for all, so that contrast compares across kernels.
    """
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ValueError(f"expected first-layer kernels of shape (K, 3, h, w), got {tuple(weight.shape)}")
    if scale not in ("each", "all"):
        raise ValueError(f"scale must be 'each' or 'all', got {scale!r}")
    w = weight.detach().float().cpu()
    if scale == "each":
        peak = w.abs().amax(dim=(1, 2, 3), keepdim=True)
    else:
        peak = w.abs().max().expand(len(w), 1, 1, 1)
    return (0.5 + 0.5 * w / peak.clamp_min(1e-12)).clamp(0, 1).permute(0, 2, 3, 1)


def plot_kernels(weight: torch.Tensor, towers: int = 2, columns: int = 16, scale: str = "each") -> Figure:
    """The first layer's kernels as images, as Figure 3 shows conv1's 96 kernels of 11x11x3.

    With ``towers=2`` the first half of the kernels (the paper's GPU 1) fill the upper block and
    the second half (GPU 2) the lower one, separated by a gap, as in Figure 3.
    """
    tiles = kernel_tiles(weight, scale)
    if towers not in (1, 2) or len(tiles) % towers:
        raise ValueError(f"towers must be 1 or 2 and divide the {len(tiles)} kernels, got {towers}")
    per_tower = len(tiles) // towers
    columns = min(columns, per_tower)
    rows_per_tower = -(-per_tower // columns)
    rows = towers * rows_per_tower
    fig = plt.figure(figsize=(columns * 0.55, rows * 0.55 + 0.3 * towers))
    grid = fig.add_gridspec(towers, 1, hspace=0.25)
    for t in range(towers):
        sub = grid[t].subgridspec(rows_per_tower, columns, wspace=0.08, hspace=0.08)
        for i in range(rows_per_tower * columns):
            ax = fig.add_subplot(sub[i // columns, i % columns])
            ax.set_axis_off()
            if i < per_tower:
                ax.imshow(tiles[t * per_tower + i].numpy(), interpolation="nearest")
        if towers == 2:
            fig.text(0.08, 1 - (t + 0.5) / towers, f"tower {t + 1}", rotation=90, va="center", ha="center")
    return fig


def plot_neighbours(
    queries: torch.Tensor,
    neighbours: torch.Tensor,
    query_labels: Sequence[str] | None = None,
    neighbour_labels: Sequence[Sequence[str]] | None = None,
) -> Figure:
    """Figure 4 (right): each query image in the first column, its nearest training images in feature space beside it.

    ``queries`` are uint8 images (Q, 3, H, W); ``neighbours`` (Q, k, 3, H, W), nearest first.
    """
    if queries.dim() != 4 or neighbours.dim() != 5 or len(queries) != len(neighbours):
        raise ValueError(
            f"expected queries (Q, 3, H, W) and neighbours (Q, k, 3, H, W), got {tuple(queries.shape)} and {tuple(neighbours.shape)}"
        )
    q, k = neighbours.shape[:2]
    fig, axes = plt.subplots(q, k + 1, figsize=(1.3 * (k + 1), 1.4 * q), squeeze=False)
    for i in range(q):
        row = [queries[i], *neighbours[i]]
        for j, image in enumerate(row):
            ax = axes[i][j]
            ax.imshow(image.permute(1, 2, 0).cpu().numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            label = (
                (query_labels[i] if query_labels else "")
                if j == 0
                else (neighbour_labels[i][j - 1] if neighbour_labels else "")
            )
            ax.set_xlabel(label, fontsize=7)
            if j == 0:
                for side in ax.spines.values():
                    side.set_edgecolor("C3")
                    side.set_linewidth(2)
    axes[0][0].set_title("query", fontsize=8)
    for j in range(1, k + 1):
        axes[0][j].set_title(f"#{j}", fontsize=8)
    fig.tight_layout()
    return fig


def plot_top5(
    images: torch.Tensor, probabilities: torch.Tensor, labels: Sequence[int], classes: Sequence[str], columns: int = 4
) -> Figure:
    """Figure 4 (left): each image with the five classes the network finds most probable, as bars.

    As in the paper, the true class is written under the image, and its bar is red where it is
    among the five. ``images`` are uint8 (N, 3, H, W); ``probabilities`` (N, classes), e.g. from
    :func:`alexnet.training.evaluate.ten_crop_predict`.
    """
    if images.dim() != 4 or probabilities.dim() != 2 or not len(images) == len(probabilities) == len(labels):
        raise ValueError(
            f"expected images (N, 3, H, W), probabilities (N, C) and N labels, got {tuple(images.shape)}, "
            f"{tuple(probabilities.shape)} and {len(labels)}"
        )
    n, k = len(images), min(5, probabilities.shape[1])
    rows = -(-n // columns)
    fig, axes = plt.subplots(2 * rows, columns, figsize=(2.3 * columns, 3.3 * rows), squeeze=False,
                             gridspec_kw={"height_ratios": [1.2, 1.0] * rows})  # fmt: skip
    for i in range(rows * columns):
        picture, bars = axes[2 * (i // columns)][i % columns], axes[2 * (i // columns) + 1][i % columns]
        picture.axis("off")
        if i >= n:
            bars.axis("off")
            continue
        picture.imshow(images[i].permute(1, 2, 0).cpu().numpy())
        picture.set_title(classes[labels[i]], fontsize=9)
        p, top = probabilities[i].float().topk(k)
        colours = ["C3" if int(c) == int(labels[i]) else "C0" for c in top]
        bars.barh(range(k), p.tolist(), color=colours)
        bars.set_yticks(range(k), [classes[int(c)] for c in top], fontsize=8)
        bars.invert_yaxis()
        bars.set_xlim(0, 1)
        bars.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
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
