"""The decode-once cache (Section 2's 256x256 images as one uint8 array file on disk).

Image files are decoded once into ``<name>.npy`` (with ``<name>.json`` beside it) and memory-mapped
on later runs, so that no epoch decodes a JPEG again; a damaged cache is rebuilt.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from alexnet.data.decode import CorruptImageError, decode_image
from alexnet.data.tensors import ImageTensorDataset


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

