"""Datasets for the chapters: every item is ``(image, label)`` with ``image`` a uint8 tensor (3, H, W).

``load_dataset(name, split, root, download, **options)`` is the one entry point.

* ``"synthetic"``: generated here, deterministic, no files: each class is a shape drawn in its
  own colour family on a textured background, at a random place, size and shade. Both cues
  (shape and colour) carry the class, so that a reduced-scale AlexNet with the paper's
  initialisation, which starts slowly without batch normalisation, learns it in a CPU minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch.utils.data import Dataset

__all__ = ["ImageTensorDataset", "load_dataset", "synthetic", "SYNTHETIC_SHAPES", "channel_mean", "to_input"]

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


# ----------------------------------------------------------------------------- synthetic

# Each shape is a mask function of coordinates relative to the shape's centre, in units of its radius.
SYNTHETIC_SHAPES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "disc": lambda x, y: x * x + y * y < 1.0,
    "square": lambda x, y: torch.maximum(x.abs(), y.abs()) < 0.8,
    "triangle": lambda x, y: (y < 0.7) & (y > -0.9 + 1.6 * x.abs()),
    "cross": lambda x, y: ((x.abs() < 0.3) & (y.abs() < 1.0)) | ((y.abs() < 0.3) & (x.abs() < 1.0)),
    "ring": lambda x, y: ((x * x + y * y) < 1.0) & ((x * x + y * y) > 0.45),
    "diamond": lambda x, y: x.abs() + y.abs() < 1.0,
    "bars": lambda x, y: (x.abs() < 1.0) & (y.abs() < 1.0) & (torch.remainder(y * 2.5, 2.0) < 1.0),
    "ex": lambda x, y: (((x - y).abs() < 0.35) | ((x + y).abs() < 0.35)) & (x.abs() < 0.9) & (y.abs() < 0.9),
}


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] to RGB in [0, 1]; inputs broadcast, output has a trailing dimension of 3."""
    k = torch.tensor([5.0, 3.0, 1.0])
    kk = torch.remainder(k + h.unsqueeze(-1) * 6.0, 6.0)
    return v.unsqueeze(-1) - (v * s).unsqueeze(-1) * torch.clamp(torch.minimum(kk, 4.0 - kk), 0.0, 1.0)


def synthetic(
    split: str = "train",
    num_images: int = 1024,
    image_size: int = 64,
    num_classes: int = 4,
    seed: int = 0,
) -> ImageTensorDataset:
    """Generate the synthetic shapes dataset; the same arguments always give the same images.

    Class c is shape ``list(SYNTHETIC_SHAPES)[c]`` in hue c / num_classes (jittered), so the
    classes are balanced (label = index mod num_classes). Splits use disjoint random streams.
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    if not 2 <= num_classes <= len(SYNTHETIC_SHAPES):
        raise ValueError(f"num_classes must be between 2 and {len(SYNTHETIC_SHAPES)}, got {num_classes}")
    if num_images < 1 or image_size < 8:
        raise ValueError(f"need num_images >= 1 and image_size >= 8, got {num_images} and {image_size}")
    g = torch.Generator().manual_seed(1_000_003 * seed + SPLIT_SEEDS[split])
    labels = torch.arange(num_images) % num_classes
    names = list(SYNTHETIC_SHAPES)[:num_classes]
    images = torch.empty(num_images, 3, image_size, image_size, dtype=torch.uint8)
    grid = (torch.arange(image_size, dtype=torch.float32) + 0.5) / image_size
    chunk = max(1, 2**22 // (image_size * image_size))
    for start in range(0, num_images, chunk):
        stop = min(num_images, start + chunk)
        images[start:stop] = _draw(labels[start:stop], names, num_classes, grid, g)
    return ImageTensorDataset(images, labels, names)


def _draw(labels, names, num_classes, grid, g) -> torch.Tensor:
    n = len(labels)
    u = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    # background: a soft gradient of low saturation plus fine noise
    bg_hue, bg_angle = u(n, 1, 1), u(n, 1, 1) * 2 * math.pi
    yy, xx = grid.view(1, -1, 1), grid.view(1, 1, -1)
    ramp = (xx * torch.cos(bg_angle) + yy * torch.sin(bg_angle)) * 0.5 + 0.25
    background = _hsv_to_rgb(bg_hue.expand_as(ramp), 0.25 * torch.ones_like(ramp), 0.35 + 0.4 * ramp)
    # the shape: centre, radius, rotation, and a colour near the class's hue
    radius = 0.18 + 0.14 * u(n, 1, 1)
    cx, cy = radius + (1 - 2 * radius) * u(n, 1, 1), radius + (1 - 2 * radius) * u(n, 1, 1)
    theta = (u(n, 1, 1) - 0.5) * 0.6
    dx, dy = (xx - cx) / radius, (yy - cy) / radius
    rx, ry = dx * torch.cos(theta) + dy * torch.sin(theta), -dx * torch.sin(theta) + dy * torch.cos(theta)
    mask = torch.zeros(n, len(grid), len(grid), dtype=torch.bool)
    for c, name in enumerate(names):
        rows = labels == c
        if rows.any():
            mask[rows] = SYNTHETIC_SHAPES[name](rx[rows], ry[rows])
    hue = torch.remainder(labels.view(n, 1, 1).float() / num_classes + (u(n, 1, 1) - 0.5) * 0.08, 1.0)
    sat, val = 0.6 + 0.4 * u(n, 1, 1), 0.6 + 0.4 * u(n, 1, 1)
    fg = _hsv_to_rgb(hue, sat, val).expand(n, len(grid), len(grid), 3)
    rgb = torch.where(mask.unsqueeze(-1), fg, background)
    rgb = rgb + 0.04 * torch.randn(rgb.shape, generator=g)
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 3, 1, 2).contiguous()


# ----------------------------------------------------------------------------- preprocessing


def channel_mean(images: torch.Tensor) -> torch.Tensor:
    """Mean RGB of uint8 images (N, 3, H, W), in [0, 1]: what Section 2 subtracts from each pixel."""
    return images.float().mean(dim=(0, 2, 3)) / 255.0


def to_input(images: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """uint8 images to the network's float input: scaled to [0, 1], the training set's mean RGB removed."""
    if images.dtype != torch.uint8:
        raise ValueError(f"to_input expects uint8 images, got {images.dtype}")
    mean = mean.to(images.device, torch.float32).view(1, 3, 1, 1) if images.dim() == 4 else mean.view(3, 1, 1)
    return images.float().div_(255.0).sub_(mean)


# ----------------------------------------------------------------------------- entry point

LOADERS: dict[str, Callable[..., ImageTensorDataset]] = {}


def load_dataset(name: str, split: str = "train", root: str = "data", download: bool = False, **options) -> Dataset:
    """Load dataset ``name`` (see the module docstring) for ``split``; options go to its loader."""
    if name == "synthetic":
        return synthetic(split, **options)
    if name in LOADERS:
        return LOADERS[name](split=split, root=root, download=download, **options)
    known = ["synthetic", *LOADERS]
    raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(known)}")
