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
    listing: dict[str, list[Path]] | None = None,
) -> CachedImageDataset:
    """An ImageNet-style tree ``root/<split>/<class>/<image>`` (classes: the folder names, sorted).

    Images get the paper's preprocessing (:func:`decode_image`) and go through the decode-once
    cache (:func:`decode_cached`), kept in ``cache_dir`` (default ``root/.alexnet-cache``) under a
    name that changes when the list of files, their sizes or modification times, or ``on_error`` change.
    The files are counted before anything is decoded: a split with no images, or a class folder
    with none, is refused. The dataset's ``class_counts`` holds the image files found in each
    class folder (by folder name), before any corrupt file is skipped. ``listing``: the split's
    :func:`list_images`, where the caller has already made it.
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
    by_class = list_images(folder) if listing is None else listing
    _check_listing(by_class, folder, split)
    classes = list(by_class)
    files = [path for found in by_class.values() for path in found]
    labels = [label for label, found in enumerate(by_class.values()) for _ in found]
    cache_name = f"{split}-{image_size}px-{_fingerprint(files, root, on_error)}"
    cache_path = Path(cache_dir if cache_dir is not None else root / ".alexnet-cache") / cache_name
    dataset = decode_cached(files, labels, classes, cache_path, image_size, on_error, num_workers, progress, base=root)
    dataset.class_counts = {name: len(found) for name, found in by_class.items()}
    return dataset


def _check_listing(by_class: dict[str, list[Path]], folder: Path, split: str) -> None:
    """A ``FileNotFoundError`` for a split with no class folders, no images, or a class folder with none."""
    if not by_class:
        raise FileNotFoundError(
            f"{os.fspath(folder)!r} has no class folders: expected {split}/<class name>/<image files>"
        )
    if not any(by_class.values()):
        raise FileNotFoundError(
            f"the split {os.fspath(folder)!r} is empty: no image files ({', '.join(IMAGE_EXTENSIONS)}) in its "
            "class folders"
        )
    empty = [name for name, found in by_class.items() if not found]
    if empty:
        others = f" ({len(empty)} class folders of {split}/ hold none)" if len(empty) > 1 else ""
        raise FileNotFoundError(
            f"the class folder {os.fspath(folder / empty[0])!r} holds no image files{others}: put the class's "
            "images there or remove the folder"
        )


def _fingerprint(files: list[Path], root: Path, on_error: str) -> str:
    """What the decode-once cache's name changes with: the files' names, sizes and times, and ``on_error``."""
    digest = hashlib.sha1(f"on_error={on_error}\n".encode())
    for path in files:  # names as bytes (any file name, UTF-8 or not), sizes and times: a replaced image is seen
        stat = path.stat()
        digest.update(os.fsencode(path.relative_to(root)) + f":{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def list_images(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """The image files of one split folder, by class folder (names sorted): found by extension, never decoded.

    Hidden files and folders are left out. A class folder with no images maps to an empty list.
    """
    folder = Path(folder)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    return {
        name: [
            path
            for path in sorted((folder / name).rglob("*"))
            if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
        ]
        for name in classes
    }
