"""Error rates as the paper reports them: top-1 and top-5 (Section 6, Tables 1 and 2)."""

from __future__ import annotations

import torch

__all__ = ["topk_error"]


def topk_error(logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> dict[int, float]:
    """Fraction of examples whose true label is not among the ``k`` highest scores, for each k.

    Returns ``{k: error}`` with errors in [0, 1]. A k larger than the number of classes is
    clamped to it (every label is then "in the top k", error 0).
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, classes), got {tuple(logits.shape)}")
    if targets.shape != logits.shape[:1]:
        raise ValueError(
            f"targets must have shape ({logits.shape[0]},) to match the logits, got {tuple(targets.shape)}"
        )
    if logits.shape[0] == 0:
        raise ValueError("topk_error needs at least one example")
    classes = logits.shape[1]
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(
            f"targets must be class indices in [0, {classes - 1}], got range [{int(targets.min())}, {int(targets.max())}]"
        )
    top = logits.topk(min(max(ks), classes), dim=1).indices
    hit = top == targets.unsqueeze(1)
    return {k: 1.0 - hit[:, : min(k, classes)].any(dim=1).float().mean().item() for k in ks}
