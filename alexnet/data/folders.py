"""An ImageNet-style tree of class folders (``"imagefolder"``): ``root/train/<class>/`` and ``root/val/<class>/``.

The files get the paper's preprocessing (Section 2) and go through the decode-once cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from alexnet.data.cache import CachedImageDataset, decode_cached

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

