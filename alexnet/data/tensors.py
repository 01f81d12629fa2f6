"""The dataset every loader returns: uint8 images (N, 3, H, W) held in memory with int64 labels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

SPLIT_SEEDS = {"train": 0, "val": 1, "test": 2}


class ImageTensorDataset(Dataset):
    """Images held in memory as one uint8 tensor (N, 3, H, W) with int64 labels (N,)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be uint8 of shape (N, 3, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
        labels = labels.long()
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(
                f"labels must lie in [0, {len(classes) - 1}] for {len(classes)} classes, "
                f"got [{int(labels.min())}, {int(labels.max())}]"
            )
        self.images, self.labels, self.classes = images, labels, list(classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])

    def __repr__(self) -> str:
        n, _, h, w = self.images.shape
        return f"{type(self).__name__}({n} images, {h}x{w}, {len(self.classes)} classes)"
