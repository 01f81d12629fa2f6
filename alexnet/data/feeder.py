"""The data feeder: a split as uint8 batches on the training device, in the order the loop asks for.

A split held in memory as one uint8 tensor (synthetic data, the decode-once cache of
:mod:`alexnet.data`) goes to the device once, and a batch is then an index lookup there; any other
dataset streams through a ``DataLoader``. The loop, not the feeder, draws the order (one seed per
epoch), so a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from alexnet.data import load_dataset

__all__ = ["Feeder", "load_splits"]


def load_splits(config: Any) -> tuple[Any, Any]:
    """The training and validation splits a :class:`~alexnet.training.config.TrainConfig` names (``val_options`` for the second only)."""
    train_set = load_dataset(
        config.dataset, "train", root=config.data_root, download=config.download, **config.dataset_options
    )
    val_options = {**config.dataset_options, **config.val_options}
    val_set = load_dataset(config.dataset, "val", root=config.data_root, download=config.download, **val_options)
    return train_set, val_set


class Feeder:
    """A split as uint8 batches on the device, in a given order; in memory when the dataset allows it."""

    def __init__(self, dataset, device: torch.device, num_workers: int) -> None:
        self.dataset, self.device, self.num_workers = dataset, device, num_workers
        images = getattr(dataset, "images", None)
        self.in_memory = isinstance(images, torch.Tensor) and images.dtype == torch.uint8
        if self.in_memory and device.type == "cuda":  # a split larger than half the free GPU memory streams instead
            free, _ = torch.cuda.mem_get_info(device)
            self.in_memory = images.numel() * images.element_size() < free // 2
        if self.in_memory:  # the whole split goes to the device once; batches are then index lookups
            self.images = images.to(device)
            self.labels = dataset.labels.to(device)
        self.classes = list(getattr(dataset, "classes", []))

    def __len__(self) -> int:
        return len(self.dataset)

    def mean_sample(self) -> torch.Tensor:
        """The images to take the mean image over: all of them where they are one (possibly memory-mapped)
        uint8 tensor, as Section 2 does, else an even sample of 2,048 decoded ones."""
        images = getattr(self.dataset, "images", None)
        if self.in_memory:
            return self.images
        if isinstance(images, torch.Tensor) and images.dtype == torch.uint8:
            return images
        return self.sample()

    def sample(self, count: int = 2048) -> torch.Tensor:
        """Up to ``count`` uint8 images (for statistics of datasets that are not in memory)."""
        if self.in_memory:
            return self.images
        step = max(1, len(self.dataset) // count)
        return torch.stack([self.dataset[i][0] for i in range(0, len(self.dataset), step)])

    def batches(self, order: torch.Tensor, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """uint8 images and labels on the device, ``batch_size`` at a time, following ``order``."""
        if self.in_memory:
            order = order.to(self.device)
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                yield self.images[idx], self.labels[idx]
            return
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(self.dataset, order.tolist()),
            batch_size=batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        for x, y in loader:
            yield x.to(self.device, non_blocking=True), torch.as_tensor(y).to(self.device, non_blocking=True)
