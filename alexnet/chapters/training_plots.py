"""The figures of the training chapter: a run's curves (Section 5) and what the trained network learnt
(Section 6.1): Figure 3's first-layer kernels, Figure 4's top-5 predictions and nearest neighbours.

Every function draws on a new figure and returns it, so that a chapter can call ``plt.show()`` and a
test can inspect what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["plot_training", "kernel_tiles", "plot_kernels", "plot_neighbours", "plot_top5"]


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
