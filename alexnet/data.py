"""Datasets for the chapters: every item is ``(image, label)`` with ``image`` a uint8 tensor (3, H, W).

``load_dataset(name, split, root, download, **options)`` is the one entry point.

* ``"synthetic"``: generated here, deterministic, no files: each class is a shape drawn in its
  own colour family on a textured background, at a random place, size and shade. Both cues
  (shape and colour) carry the class, so that a reduced-scale AlexNet with the paper's
  initialisation, which starts slowly without batch normalisation, learns it in a CPU minute.
* ``"photos"``: real colour photographs that scikit-image, scikit-learn and matplotlib ship
  (``PHOTOS`` names each one's source and licence): the whole photos for pictures, or patches
  of them for a small real-image task, "which photo did this patch come from?".
* ``"cifar10"``, ``"imagenette"`` and ``"imagefolder"`` (an ImageNet-style ``train/`` and ``val/``
  tree of class folders): files on disk, fetched with torchvision only when ``download=True``.
  The 256-pixel sets get the paper's preprocessing (Section 2): shorter side rescaled to 256,
  the central 256x256 patch cropped; they are decoded once into a uint8 array file on disk (the
  decode-once cache) and memory-mapped on later runs, so that no epoch decodes a JPEG again.
  The network's input is made from these uint8 images by :class:`alexnet.inputs.ModelInput`
  (Section 2: raw values minus the training set's mean image).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = [
    "ImageTensorDataset",
    "CachedImageDataset",
    "CorruptImageError",
    "photo_path",
    "load_dataset",
    "synthetic",
    "SYNTHETIC_SHAPES",
    "Photo",
    "PHOTOS",
    "photos",
    "photo_credits",
    "cifar10",
    "imagenette",
    "image_folder",
    "decode_image",
    "decode_cached",
    "LOADERS",
]

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


# ----------------------------------------------------------------------------- decoding (Section 2)


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


class _Decoder(Dataset):
    """Files to (index, image or None, error message): lets a DataLoader decode in worker processes."""

    def __init__(self, files: Sequence[Path], image_size: int) -> None:
        self.files, self.image_size = files, image_size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        try:
            return index, decode_image(self.files[index], self.image_size), ""
        except CorruptImageError as error:
            return index, None, str(error)


# ----------------------------------------------------------------------------- the decode-once cache


class CachedImageDataset(ImageTensorDataset):
    """An :class:`ImageTensorDataset` whose images are memory-mapped from a decode-once cache file.

    ``files`` are the decoded files (relative to the tree), ``skipped`` the files that could not
    be decoded, ``mean_rgb`` the images' mean RGB in [0, 1] (a summary; Section 2 subtracts the mean image),
    ``cache_path`` the array file.
    """

    def __init__(self, images, labels, classes, *, files, skipped, mean_rgb, cache_path) -> None:
        super().__init__(images, labels, classes)
        self.files, self.skipped, self.cache_path = list(files), list(skipped), Path(cache_path)
        self.mean_rgb = torch.tensor(mean_rgb, dtype=torch.float32)


CACHE_FORMAT = 1


def decode_cached(
    files: Sequence[str | os.PathLike],
    labels: Sequence[int],
    classes: Sequence[str],
    cache_path: str | os.PathLike,
    image_size: int = 256,
    on_error: str = "skip",
    num_workers: int = 0,
    progress: bool = True,
    base: str | os.PathLike | None = None,
) -> CachedImageDataset:
    """Decode ``files`` once into a uint8 array file at ``cache_path`` (``.npy`` + ``.json``), then reuse it.

    The first call decodes every file with :func:`decode_image` (a progress bar shows it; with
    ``num_workers > 0`` a DataLoader decodes in parallel) into ``<cache_path>.npy`` written under a
    temporary name and renamed when complete; ``<cache_path>.json`` (labels, classes, files, the
    skipped files, the mean RGB) is written last, the same way, and marks the cache as complete.
    Later calls memory-map the array: nothing is decoded again. A corrupt file is skipped with a
    warning naming it (``on_error="skip"``) or stops the build (``on_error="raise"``); the
    skipped files are listed again, with a warning, every time the cache is reused.
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    if len(files) != len(labels):
        raise ValueError(f"got {len(files)} files but {len(labels)} labels")
    if len(labels) and (min(labels) < 0 or max(labels) >= len(classes)):
        raise ValueError(f"labels must lie in [0, {len(classes) - 1}] for {len(classes)} classes")
    cache_path = Path(cache_path)
    array_path, meta_path = (
        cache_path.with_name(cache_path.name + ".npy"),
        cache_path.with_name(cache_path.name + ".json"),
    )
    build = (files, labels, classes, array_path, meta_path, image_size, on_error, num_workers, progress, base)
    if not (meta_path.exists() and array_path.exists()):
        _build_cache(*build)
    try:
        dataset = _open_cache(array_path, meta_path)
    except _DamagedCache as damage:  # e.g. a copy cut short: the cache is only a cache, so build it again
        warnings.warn(f"{damage}; rebuilding it", stacklevel=2)
        array_path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        _build_cache(*build)
        dataset = _open_cache(array_path, meta_path)
    if on_error == "raise" and dataset.skipped:
        raise CorruptImageError(
            f"the cache {os.fspath(array_path)!r} was built skipping {len(dataset.skipped)} corrupt image(s) "
            f"({', '.join(dataset.skipped[:3])}), and on_error='raise' was asked: fix or remove them, then delete "
            "the cache to rebuild it"
        )
    return dataset


class _DamagedCache(ValueError):
    """A cache file that cannot be read back (truncated array, unreadable or mismatched metadata)."""


def _build_cache(files, labels, classes, array_path, meta_path, image_size, on_error, num_workers, progress, base):
    from tqdm.auto import tqdm

    array_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_array = array_path.with_name(f"{array_path.name}.{os.getpid()}.tmp")
    array = np.lib.format.open_memmap(
        tmp_array, mode="w+", dtype=np.uint8, shape=(len(files), 3, image_size, image_size)
    )
    kept_labels, kept_files, skipped = [], [], []
    total = np.zeros(3, dtype=np.float64)
    name = (lambda f: os.path.relpath(f, base)) if base is not None else os.fspath
    loader = DataLoader(_Decoder([Path(f) for f in files], image_size), batch_size=None, num_workers=num_workers)
    try:
        for index, image, error in tqdm(
            loader, total=len(files), desc=f"decoding {array_path.stem}", disable=not progress
        ):
            if image is None:
                if on_error == "raise":
                    raise CorruptImageError(error)
                warnings.warn(f"skipped a corrupt image: {error}", stacklevel=3)
                skipped.append(name(files[index]))
                continue
            array[len(kept_labels)] = image.numpy()
            total += image.double().sum(dim=(1, 2)).numpy()
            kept_labels.append(int(labels[index]))
            kept_files.append(name(files[index]))
        array.flush()
        del array
        os.replace(tmp_array, array_path)
    except BaseException:
        tmp_array.unlink(missing_ok=True)
        raise
    pixels = max(1, len(kept_labels) * image_size * image_size)
    meta = {
        "format": CACHE_FORMAT,
        "count": len(kept_labels),
        "image_size": image_size,
        "classes": list(classes),
        "labels": kept_labels,
        "files": kept_files,
        "skipped": skipped,
        "mean_rgb": (total / pixels / 255.0).tolist(),
    }
    tmp_meta = meta_path.with_name(f"{meta_path.name}.{os.getpid()}.tmp")
    tmp_meta.write_text(json.dumps(meta))
    os.replace(tmp_meta, meta_path)


def _open_cache(array_path: Path, meta_path: Path) -> CachedImageDataset:
    try:
        meta = json.loads(meta_path.read_text())
        # mode "c" (copy-on-write) gives a writable view, so torch.from_numpy accepts it; the file is never changed
        array = np.load(array_path, mmap_mode="c")
        count, size = meta["count"], meta["image_size"]
        keys = ("labels", "classes", "files", "skipped", "mean_rgb")
        whole = meta.get("format") == CACHE_FORMAT and all(k in meta for k in keys) and len(meta["labels"]) == count
    except (OSError, ValueError, KeyError, TypeError, EOFError) as error:
        raise _DamagedCache(
            f"the cache {os.fspath(array_path)!r} or its {meta_path.name} is damaged ({error})"
        ) from None
    if not whole or array.shape[0] < count or array.shape[1:] != (3, size, size):
        raise _DamagedCache(f"the cache {os.fspath(array_path)!r} does not match its {meta_path.name}")
    if meta["skipped"]:
        warnings.warn(
            f"{len(meta['skipped'])} corrupt image(s) were skipped when this cache was built: "
            + ", ".join(meta["skipped"][:10])
            + (" ..." if len(meta["skipped"]) > 10 else ""),
            stacklevel=3,
        )
    return CachedImageDataset(
        torch.from_numpy(array[:count]),
        torch.tensor(meta["labels"], dtype=torch.long),
        meta["classes"],
        files=meta["files"],
        skipped=meta["skipped"],
        mean_rgb=meta["mean_rgb"],
        cache_path=array_path,
    )


# ----------------------------------------------------------------------------- ImageNet-style folders

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".gif", ".tif", ".tiff", ".webp")


def image_folder(
    split: str = "train",
    root: str | os.PathLike = "data",
    download: bool = False,
    image_size: int = 256,
    cache_dir: str | os.PathLike | None = None,
    on_error: str = "skip",
    num_workers: int = 0,
    progress: bool = True,
) -> CachedImageDataset:
    """An ImageNet-style tree ``root/<split>/<class>/<image>`` (classes: the folder names, sorted).

    Images get the paper's preprocessing (:func:`decode_image`) and go through the decode-once
    cache (:func:`decode_cached`), kept in ``cache_dir`` (default ``root/.alexnet-cache``) under a
    name that changes when the list of files, their sizes or modification times, or ``on_error`` change.
    """
    if download:
        raise ValueError(
            "an image folder cannot be downloaded: put your images in root/train/<class>/ and root/val/<class>/"
        )
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val' for an image folder, got {split!r}")
    root = Path(root)
    folder = root / split
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no image folder at {os.fspath(folder)!r}: expected {os.fspath(root)}/{split}/<class name>/<image files> "
            "(the layout of ImageNet's train and val sets after sorting val into class folders)"
        )
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise FileNotFoundError(
            f"{os.fspath(folder)!r} has no class folders: expected {split}/<class name>/<image files>"
        )
    files, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((folder / name).rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
                files.append(path)
                labels.append(label)
    if not files:
        raise FileNotFoundError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {os.fspath(folder)!r}")
    digest = hashlib.sha1(f"on_error={on_error}\n".encode())
    for path in files:  # names as bytes (any file name, UTF-8 or not), sizes and times: a replaced image is seen
        stat = path.stat()
        digest.update(os.fsencode(path.relative_to(root)) + f":{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    cache_name = f"{split}-{image_size}px-{digest.hexdigest()[:12]}"
    cache_path = Path(cache_dir if cache_dir is not None else root / ".alexnet-cache") / cache_name
    return decode_cached(files, labels, classes, cache_path, image_size, on_error, num_workers, progress, base=root)


# ----------------------------------------------------------------------------- Imagenette and CIFAR-10

IMAGENETTE_FOLDERS = {"full": "imagenette2", "320px": "imagenette2-320", "160px": "imagenette2-160"}


def imagenette(
    split: str = "train", root: str | os.PathLike = "data", download: bool = False, size: str = "320px", **options
) -> CachedImageDataset:
    """Imagenette (10 easy ImageNet classes, fast.ai), fetched with torchvision's loader when ``download=True``.

    ``size`` picks the archive ("320px", the default, has shorter sides of 320 >= 256 and is
    about 330 MB; "full"; "160px"). The images then go through :func:`image_folder`, so that
    they get the paper's preprocessing and the decode-once cache; ``options`` go there.
    """
    if size not in IMAGENETTE_FOLDERS:
        raise ValueError(f"size must be one of {sorted(IMAGENETTE_FOLDERS)}, got {size!r}")
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val' for Imagenette, got {split!r}")
    from torchvision.datasets import Imagenette

    folder = Path(root) / IMAGENETTE_FOLDERS[size]
    if download and not (folder / split).is_dir():
        url, md5 = Imagenette._ARCHIVES[size]
        _download_and_extract(url, md5, Path(root), IMAGENETTE_FOLDERS[size])
    if not (folder / split).is_dir():
        url = getattr(Imagenette, "_ARCHIVES", {}).get(size, ("https://github.com/fastai/imagenette",))[0]
        raise FileNotFoundError(
            f"Imagenette ({size}) not found at {os.fspath(folder / split)!r}: call "
            f"load_dataset('imagenette', root={os.fspath(root)!r}, download=True), or download {url} and extract it into "
            f"{os.fspath(root)!r}"
        )
    dataset = image_folder(split, folder, **options)
    names = getattr(Imagenette, "_WNID_TO_CLASS", {})
    dataset.classes = [names.get(wnid, (wnid,))[0] for wnid in dataset.classes]
    return dataset


def _download_and_extract(url: str, md5: str, root: Path, folder: str) -> None:
    """Fetch an archive with torchvision's downloader, check the MD5 it pins, and unpack ``folder`` from it.

    The archive is unpacked into a temporary folder under ``root`` and ``folder`` is moved into
    place only when everything is out, so an interrupted extraction never looks like a dataset.
    Members with absolute paths, ``..`` or links that leave the folder are refused (tarfile's
    "data" filter), and nothing is unpacked from an archive whose MD5 is not the pinned one.
    """
    import shutil
    import tarfile
    import tempfile

    from torchvision.datasets.utils import check_integrity, download_url

    root.mkdir(parents=True, exist_ok=True)
    archive = root / os.path.basename(url)
    try:
        download_url(url, os.fspath(root), archive.name, md5)
    except RuntimeError:  # torchvision: "File not found or corrupted." (the MD5 after the download)
        archive.unlink(missing_ok=True)
        raise ValueError(
            f"the download of {url} is damaged or not the file torchvision pins (MD5 {md5}): it was deleted; "
            "try again, or download it yourself and extract it into " + repr(os.fspath(root))
        ) from None
    except OSError as error:
        raise FileNotFoundError(
            f"could not download {url} into {os.fspath(root)!r} ({error}); check the connection, or download it "
            f"yourself and extract it into {os.fspath(root)!r}"
        ) from None
    if not check_integrity(os.fspath(archive), md5):
        archive.unlink(missing_ok=True)
        raise ValueError(f"{os.fspath(archive)!r} is damaged (its MD5 is not {md5}): it was deleted; download again")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder}.partial-", dir=root))
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
                tar.extractall(staging, filter="data")
            else:
                for member in tar.getmembers():
                    target = os.path.realpath(staging / member.name)
                    if (
                        member.issym()
                        or member.islnk()
                        or os.path.commonpath([target, staging.resolve()]) != os.fspath(staging.resolve())
                    ):
                        raise tarfile.TarError(
                            f"refused member {member.name!r}: outside the archive's folder or a link"
                        )
                tar.extractall(staging)
        if not (staging / folder).is_dir():
            raise ValueError(f"{os.fspath(archive)!r} does not hold the folder {folder!r}")
        if (root / folder).exists():  # a half-extracted copy from before
            shutil.rmtree(root / folder)
        os.replace(staging / folder, root / folder)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"could not extract {os.fspath(archive)!r} ({error}); delete it and download again") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def cifar10(split: str = "train", root: str | os.PathLike = "data", download: bool = False) -> ImageTensorDataset:
    """CIFAR-10 (Krizhevsky 2009): 32x32 images in 10 classes, 50,000 for training and 10,000 for testing.

    Reads the pickled batches of the Python version (``root/cifar-10-batches-py``), which
    ``download=True`` fetches with torchvision's ``CIFAR10``. ``"val"`` and ``"test"`` both
    name the test batch. The images are already raw pixels, so no cache is needed.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test' for CIFAR-10, got {split!r}")
    folder = Path(root) / CIFAR10_FOLDER
    batches = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    if download and not all((folder / b).exists() for b in [*batches, "batches.meta"]):
        from torchvision.datasets import CIFAR10

        _download_and_extract(CIFAR10.url, CIFAR10.tgz_md5, Path(root), CIFAR10_FOLDER)
    missing = [b for b in [*batches, "batches.meta"] if not (folder / b).exists()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 not found at {os.fspath(folder)!r} (missing {', '.join(missing)}): call "
            f"load_dataset('cifar10', root={os.fspath(root)!r}, download=True), or download {CIFAR10_URL} "
            f"and extract it into {os.fspath(root)!r}"
        )
    md5 = _cifar10_md5()
    meta = _unpickle(folder / "batches.meta", md5.get("batches.meta"))
    names = meta.get("label_names")
    if not isinstance(names, list) or not names or not all(isinstance(c, (str, bytes)) for c in names):
        raise ValueError(
            f"{os.fspath(folder / 'batches.meta')!r} has no list of class names ('label_names'): not CIFAR-10's "
            f"batches.meta; delete {os.fspath(folder)!r} and download again (download=True)"
        )
    classes = [c.decode("latin1") if isinstance(c, bytes) else c for c in names]
    images, labels = [], []
    for name in batches:
        path = folder / name
        batch = _unpickle(path, md5.get(name))
        data = batch.get("data")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise ValueError(f"{os.fspath(path)!r}: expected 'data' as uint8 rows of 3072 pixels, got {got}")
        batch_labels = batch.get("labels")
        if not isinstance(batch_labels, list) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in batch_labels
        ):
            raise ValueError(f"{os.fspath(path)!r}: expected 'labels' as a list of integers (class indices)")
        if len(batch_labels) != len(data):
            raise ValueError(f"{os.fspath(path)!r}: {len(data)} images but {len(batch_labels)} labels")
        images.append(torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()))
        labels.append(torch.tensor([int(v) for v in batch_labels], dtype=torch.long))
    return ImageTensorDataset(torch.cat(images), torch.cat(labels), classes)


class _BatchUnpickler(pickle.Unpickler):
    """Rebuilds what a CIFAR-10 batch holds (dicts, lists, strings, numbers, numpy arrays) and nothing else.

    A pickle names the functions that rebuild its objects; a plain unpickler calls whatever it
    names (e.g. ``os.system``). This one knows three names: numpy's array reconstruction, the
    array type and the dtype type; any other is refused before it could run.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return getattr(np, name) if module == "numpy" else _numpy_reconstruct()
        if (module, name) == ("_codecs", "encode"):  # how Python 3 writes bytes at protocol 2
            return _latin1_bytes
        raise pickle.UnpicklingError(f"refused to rebuild {module}.{name}: a CIFAR-10 batch holds only numpy arrays")


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refused to rebuild bytes with encoding {encoding!r}")
    return text.encode("latin1")


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _cifar10_md5() -> dict[str, str]:
    """The MD5 sums torchvision pins for the files of ``cifar-10-batches-py`` (file name -> MD5)."""
    from torchvision.datasets import CIFAR10

    return {name: md5 for name, md5 in [*CIFAR10.train_list, *CIFAR10.test_list]} | {
        CIFAR10.meta["filename"]: CIFAR10.meta["md5"]
    }


def _check_md5(path: Path, expected: str | None) -> None:
    if expected is None:
        return
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ValueError(
            f"{os.fspath(path)!r} is not the CIFAR-10 file torchvision pins (MD5 {digest.hexdigest()}, expected "
            f"{expected}): a damaged, half-extracted or foreign file; delete {os.fspath(path.parent)!r} and "
            "download again (download=True)"
        )


def _unpickle(path: Path, md5: str | None = None) -> dict:
    """One CIFAR-10 batch file: its checksum first, then a restricted unpickler (never plain ``pickle``)."""
    _check_md5(path, md5)
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{os.fspath(path)!r} is not a CIFAR-10 batch file: {error}") from error
    if not isinstance(batch, dict):
        raise ValueError(f"{os.fspath(path)!r} is not a CIFAR-10 batch file (expected a pickled dict)")
    return batch


# ----------------------------------------------------------------------------- photos shipped by installed packages


@dataclass(frozen=True)
class Photo:
    """A colour photograph that an installed package ships, with its source and licence."""

    name: str
    package: str  # the importable package whose folder holds the file
    file: str  # the path inside that package
    source: str
    licence: str


# Sources and licences as each package documents them: scikit-image in the docstrings of
# skimage.data (astronaut, chelsea, coffee, rocket, immunohistochemistry), scikit-learn in
# sklearn/datasets/images/README.txt; matplotlib's sample_data README names no licence.
PHOTOS: tuple[Photo, ...] = (
    Photo("astronaut", "skimage", "data/astronaut.png",
          "Eileen Collins, NASA Great Images database (scikit-image)", "public domain: no known copyright restrictions"),
    Photo("chelsea", "skimage", "data/chelsea.png",
          "Chelsea the cat, photographed by Stefan van der Walt (scikit-image)", "CC0"),
    Photo("coffee", "skimage", "data/coffee.png",
          "a coffee cup, Pikolo Espresso Bar, photographed by Rachel Michetti (scikit-image)", "CC0"),
    Photo("rocket", "skimage", "data/rocket.jpg",
          "DSCOVR lifting off on a Falcon 9, SpaceX Photos on Flickr (scikit-image)", "public domain, released by SpaceX"),
    Photo("ihc", "skimage", "data/ihc.png",
          "immunohistochemical staining of colonic glands, Center for Microscopy And Molecular Imaging (scikit-image)",
          "no known copyright restrictions"),
    Photo("china", "sklearn", "datasets/images/china.jpg",
          "danielbuechele on Flickr, retrieved by Robert Layton (scikit-learn)", "CC BY 2.0"),
    Photo("flower", "sklearn", "datasets/images/flower.jpg",
          "vultilion on Flickr, retrieved by Robert Layton (scikit-learn)", "CC BY 2.0"),
    Photo("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
          "U.S. Navy portrait of Grace Hopper (matplotlib sample data)",
          "public domain as a work of the U.S. federal government (matplotlib names no licence)"),
)  # fmt: skip

PIP_NAMES = {"skimage": "scikit-image", "sklearn": "scikit-learn", "matplotlib": "matplotlib"}


def photo_credits() -> list[str]:
    """One line per photo: its name, source and licence (print them under any picture of them)."""
    return [f"{p.name}: {p.source}; licence: {p.licence}" for p in PHOTOS]


def photo_path(photo: Photo) -> Path:
    """Where the installed package keeps ``photo``; a clear error if the package or the file is missing."""
    spec = importlib.util.find_spec(photo.package)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"the 'photos' dataset needs {PIP_NAMES[photo.package]} for the photo {photo.name!r}: "
            f"pip install {PIP_NAMES[photo.package]} (or pip install 'alexnet[dev]')"
        )
    path = Path(spec.origin).parent / photo.file
    if not path.exists():
        raise FileNotFoundError(
            f"{PIP_NAMES[photo.package]} is installed but does not ship {photo.file} ({photo.name!r})"
        )
    return path


def photos(
    split: str = "train",
    image_size: int = 256,
    patch_size: int | None = None,
    patches_per_photo: int = 32,
    seed: int = 0,
) -> ImageTensorDataset:
    """The photos of ``PHOTOS`` (label = index in ``PHOTOS``), or patches of them.

    Without ``patch_size``: the whole photos with the paper's preprocessing (shorter side to
    ``image_size``, centre crop), split ``"train"`` only. With ``patch_size``: a small real-image
    task, "which photo did this patch come from?". Each photo, at ``image_size``, is cut into four
    quadrants like a chessboard: training patches come from the top-left and bottom-right
    quadrants, validation patches from the other two, so that no pixel is in both splits.
    ``patches_per_photo`` patches per photo at random places (seeded), half from each quadrant.
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8, got {image_size}")
    full = torch.stack([decode_image(photo_path(p), image_size) for p in PHOTOS])
    names = [p.name for p in PHOTOS]
    if patch_size is None:
        if split != "train":
            raise ValueError(
                f"the whole photos have one split, 'train'; pass patch_size for 'train'/'val' patches (got {split!r})"
            )
        return ImageTensorDataset(full, torch.arange(len(PHOTOS)), names)
    if split == "test":
        raise ValueError("photo patches have two splits, 'train' and 'val' (two quadrants each)")
    half = image_size // 2
    if not 1 <= patch_size <= half:
        raise ValueError(f"patch_size must lie in [1, {half}] (half of image_size={image_size}), got {patch_size}")
    if patches_per_photo < 1:
        raise ValueError(f"patches_per_photo must be at least 1, got {patches_per_photo}")
    quadrants = [(0, 0), (half, half)] if split == "train" else [(0, half), (half, 0)]
    g = torch.Generator().manual_seed(1_000_003 * seed + SPLIT_SEEDS[split])
    offsets = torch.randint(0, half - patch_size + 1, (len(PHOTOS), patches_per_photo, 2), generator=g)
    patches, labels = [], []
    for label in range(len(PHOTOS)):
        for k in range(patches_per_photo):
            qy, qx = quadrants[k % 2]
            y, x = qy + int(offsets[label, k, 0]), qx + int(offsets[label, k, 1])
            patches.append(full[label, :, y : y + patch_size, x : x + patch_size])
            labels.append(label)
    return ImageTensorDataset(torch.stack(patches), torch.tensor(labels), names)


# ----------------------------------------------------------------------------- entry point


def _photos_loader(split: str = "train", root=None, download: bool = False, **options) -> ImageTensorDataset:
    return photos(split, **options)  # shipped with installed packages: nothing to find under root or download


LOADERS: dict[str, Callable[..., ImageTensorDataset]] = {
    "photos": _photos_loader,
    "cifar10": cifar10,
    "imagenette": imagenette,
    "imagefolder": image_folder,
}


def load_dataset(name: str, split: str = "train", root: str = "data", download: bool = False, **options) -> Dataset:
    """Load dataset ``name`` (see the module docstring) for ``split``; options go to its loader."""
    if name == "synthetic":
        return synthetic(split, **options)
    if name in LOADERS:
        return LOADERS[name](split=split, root=root, download=download, **options)
    known = ["synthetic", *LOADERS]
    raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(known)}")
