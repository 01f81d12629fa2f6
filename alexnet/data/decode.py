"""One image file to uint8 RGB (3, H, W), with the paper's preprocessing (Section 2).

Shorter side rescaled to 256, the central 256x256 patch cropped; any PIL mode becomes RGB, and a
file that cannot be decoded raises :class:`CorruptImageError` naming it.
"""

from __future__ import annotations

import os

import torch


class CorruptImageError(ValueError):
    """An image file that PIL cannot decode; the message names the file."""


def _to_rgb(image):
    """Any PIL mode (grayscale, palette, CMYK, RGBA, 16-bit) as 8-bit RGB: the network sees three channels."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # PIL's advice for palettes with transparency; the alpha is then dropped
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")  # 16-bit grey to 8-bit
    return image.convert("RGB")


def decode_image(path: str | os.PathLike, image_size: int | None = 256) -> torch.Tensor:
    """Decode one image file into uint8 RGB (3, H, W), with the paper's preprocessing (Section 2).

    "Given a rectangular image, we first rescaled the image such that the shorter side was of
    length 256, and then cropped out the central 256x256 patch": with ``image_size=256`` this is
    torchvision's ``Resize(256)`` then ``CenterCrop(256)`` on the PIL image. ``image_size=None``
    keeps the image's own size. Grayscale, palette and CMYK images become RGB; a photo's EXIF
    orientation is applied, so a camera's portrait shot is upright. A file that cannot be decoded,
    or that PIL refuses as a decompression bomb, raises :class:`CorruptImageError` naming it.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError
    from torchvision.transforms import functional as F

    try:
        with Image.open(path) as image:
            image = _to_rgb(ImageOps.exif_transpose(image))  # loads the pixels: a truncated file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise CorruptImageError(f"cannot decode image {os.fspath(path)!r}: {error}") from error
    if image_size is not None:
        image = F.center_crop(F.resize(_bounded(image, MAX_ASPECT), image_size), image_size)
    return F.pil_to_tensor(image)


MAX_ASPECT = 4  # longer side / shorter side kept before the resize; see _bounded


def _bounded(image, max_aspect: float):
    """Crop a very elongated image to its central ``max_aspect``:1 part before it is resized.

    The centre crop after the resize keeps only the central square, so the far ends of a long
    strip are never seen; resizing them first would cost memory in proportion to the aspect
    ratio (an 8000x2 PNG of a few bytes would become an image of 1,024,000x256 pixels).
    Images up to ``max_aspect``:1 are left exactly as they are.
    """
    width, height = image.size
    short, long = min(width, height), max(width, height)
    if long <= max_aspect * short:
        return image
    keep = max_aspect * short
    start = (long - keep) // 2
    box = (start, 0, start + keep, height) if width > height else (0, start, width, start + keep)
    return image.crop(box)

