"""The synthetic shapes dataset (``"synthetic"``): generated here, deterministic, no files.

Each class is a shape drawn in its own colour family on a textured background, at a random place,
size and shade. Both cues (shape and colour) carry the class, so that a reduced-scale AlexNet with
the paper's initialisation, which starts slowly without batch normalisation, learns it in a CPU minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from alexnet.data.tensors import SPLIT_SEEDS, ImageTensorDataset

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
    random_hue: bool = False,
    contrast: float = 0.0,
    clutter: int = 0,
) -> ImageTensorDataset:
    """Generate the synthetic shapes dataset; the same arguments always give the same images.

    Class c is shape ``list(SYNTHETIC_SHAPES)[c]`` in hue c / num_classes (jittered), so the
    classes are balanced (label = index mod num_classes). Splits use disjoint random streams.

    Harder variants, for experiments whose mechanism has nothing to do when colour alone tells
    the classes apart: ``random_hue`` draws each shape's hue at random (its shape is then the only
    cue); ``contrast`` > 0 multiplies each image's deviation from mid-grey by a gain drawn
    log-uniformly from [1 / (1 + contrast), 1 + contrast] and shifts its brightness by up to
    ``contrast / 4`` (what a brightness normalisation and colour noise are for); ``clutter``
    draws that many small distractor blobs of random hue behind the shape.
    """
    if contrast < 0 or clutter < 0:
        raise ValueError(f"contrast and clutter must not be negative, got {contrast!r} and {clutter!r}")
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
        images[start:stop] = _draw(labels[start:stop], names, num_classes, grid, g, random_hue, contrast, clutter)
    return ImageTensorDataset(images, labels, names)


def _draw(labels, names, num_classes, grid, g, random_hue=False, contrast=0.0, clutter=0) -> torch.Tensor:
    n = len(labels)
    u = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    # background: a soft gradient of low saturation plus fine noise
    bg_hue, bg_angle = u(n, 1, 1), u(n, 1, 1) * 2 * math.pi
    yy, xx = grid.view(1, -1, 1), grid.view(1, 1, -1)
    ramp = (xx * torch.cos(bg_angle) + yy * torch.sin(bg_angle)) * 0.5 + 0.25
    background = _hsv_to_rgb(bg_hue.expand_as(ramp), 0.25 * torch.ones_like(ramp), 0.35 + 0.4 * ramp)
    for _ in range(clutter):  # small blobs of random hue, behind the shape
        bx, by, br = u(n, 1, 1), u(n, 1, 1), 0.05 + 0.07 * u(n, 1, 1)
        blob = ((xx - bx) ** 2 + (yy - by) ** 2) < br**2
        colour = _hsv_to_rgb(u(n, 1, 1), 0.5 + 0.5 * u(n, 1, 1), 0.4 + 0.6 * u(n, 1, 1))
        background = torch.where(blob.unsqueeze(-1), colour, background)
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
    if random_hue:
        hue = u(n, 1, 1)
    fg = _hsv_to_rgb(hue, sat, val).expand(n, len(grid), len(grid), 3)
    rgb = torch.where(mask.unsqueeze(-1), fg, background)
    rgb = rgb + 0.04 * torch.randn(rgb.shape, generator=g)
    if contrast > 0:
        gain = torch.exp((2 * u(n, 1, 1, 1) - 1) * math.log1p(contrast))
        shift = (2 * u(n, 1, 1, 1) - 1) * contrast / 4
        rgb = (rgb - 0.5) * gain + 0.5 + shift
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 3, 1, 2).contiguous()


def _synthetic_loader(split: str = "train", root=None, download: bool = False, **options) -> ImageTensorDataset:
    return synthetic(split, **options)  # generated here: nothing to find under root or download
