"""A drawing of the network as Figure 2 of the paper lays it out: two towers, and where they talk.

Each layer is a pair of boxes (one per tower, i.e. per GPU in Section 3.2) whose height grows
with the layer's kernel count; arrows show which tower's outputs feed which tower's inputs,
read from the model's ``groups`` (a grouped conv keeps each tower to itself).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from torch import nn

__all__ = ["tower_diagram"]


def tower_diagram(model: nn.Module, ax=None):
    """Draw ``model``'s conv and fc layers as one or two towers; returns the matplotlib Axes."""
    layers = [(name, m) for name, m in model.named_layers() if isinstance(m, (nn.Conv2d, nn.Linear))]
    towers = max((m.groups for _, m in layers if isinstance(m, nn.Conv2d)), default=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 3.6 if towers == 2 else 2.4))
    widest = max(m.out_channels if isinstance(m, nn.Conv2d) else m.out_features for _, m in layers)
    tops = {}
    for x, (name, m) in enumerate(layers):
        units = m.out_channels if isinstance(m, nn.Conv2d) else m.out_features
        height = 0.25 + 0.65 * (units / widest) ** 0.5
        for t in range(towers):
            y = (1.15 * (towers - 1 - t)) if towers == 2 else 0.0
            ax.add_patch(plt.Rectangle((x - 0.3, y), 0.6, height, color="C0" if t == 0 else "C1", alpha=0.8))
            per_tower = units // towers
            ax.text(x, y + height + 0.04, f"{per_tower}", ha="center", va="bottom", fontsize=8)
            tops[(x, t)] = y + height / 2
        ax.text(x, -0.25, name, ha="center", va="top", fontsize=9)
    for x in range(1, len(layers)):
        _, m = layers[x]
        crosses = towers == 2 and not (isinstance(m, nn.Conv2d) and m.groups == 2)
        for t_in in range(towers):
            for t_out in range(towers):
                if t_in == t_out or crosses:
                    ax.annotate(
                        "",
                        xy=(x - 0.3, tops[(x, t_out)]),
                        xytext=(x - 0.7, tops[(x - 1, t_in)]),
                        arrowprops={"arrowstyle": "->", "color": "k" if t_in == t_out else "C3", "lw": 1},
                    )
    ax.set_xlim(-0.6, len(layers) - 0.4)
    ax.set_ylim(-0.5, 2.3 if towers == 2 else 1.2)
    ax.axis("off")
    label = "two towers (red: where they exchange activations)" if towers == 2 else "one tower"
    ax.set_title(f"{label}; numbers are kernels or units per tower")
    return ax
