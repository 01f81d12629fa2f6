"""Stand-ins for the datasets that full mode downloads, in their real on-disk formats but a few images big.

The rehearsal tests (``test_rehearsal.py``) serve these archives over a local HTTP server, so the
chapters reach them through the package's real download, checksum, extraction and cache code:
``cifar10_archive`` is ``cifar-10-python.tar.gz`` with the Python version's pickled batches
(``data_batch_1..5``, ``test_batch``, ``batches.meta``, protocol 2 as Python 2 wrote them);
``imagenette_archive`` is ``imagenette2-320.tgz`` with ``train/`` and ``val/`` folders of WordNet ids
and JPEGs of varied sizes, among them a grayscale and a CMYK one, as the real archive has.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _cifar_batch(rng: np.random.Generator, n: int, label: str) -> bytes:
    labels = [int(v) for v in rng.integers(0, 10, n)]
    # each class a colour, plus noise: the images carry their label, as a learnable stand-in should
    base = np.array([[(37 * c) % 256, (91 * c) % 256, (173 * c) % 256] for c in labels], dtype=np.int16)
    pixels = base[:, :, None] + rng.integers(-40, 41, (n, 3, 1024))
    data = np.clip(pixels, 0, 255).astype(np.uint8).reshape(n, 3072)
    batch = {"batch_label": label, "labels": labels, "data": data, "filenames": [f"standin_{i}.png" for i in range(n)]}
    return pickle.dumps(batch, protocol=2)


def cifar10_archive(folder: Path, per_batch: int = 16, seed: int = 0) -> tuple[Path, dict[str, str], dict[str, int]]:
    """``folder/cifar-10-python.tar.gz``; returns its path, the MD5 of it and of each file in it, and the counts."""
    rng = np.random.default_rng(seed)
    files = {f"data_batch_{i}": _cifar_batch(rng, per_batch, f"training batch {i} of 5") for i in range(1, 6)}
    files["test_batch"] = _cifar_batch(rng, per_batch, "testing batch 1 of 1")
    meta = {"num_cases_per_batch": per_batch, "label_names": CIFAR10_CLASSES, "num_vis": 3072}
    files["batches.meta"] = pickle.dumps(meta, protocol=2)
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in files.items():
            _add(tar, f"cifar-10-batches-py/{name}", data)
    sums = {name: hashlib.md5(data, usedforsecurity=False).hexdigest() for name, data in files.items()}
    sums["archive"] = md5(archive)
    return archive, sums, {"train": 5 * per_batch, "test": per_batch}


def _jpeg(rng: np.random.Generator, colour: int, size: tuple[int, int], mode: str) -> bytes:
    w, h = size
    rgb = np.clip(np.array([(37 * colour) % 256, (91 * colour) % 256, (173 * colour) % 256])
                  + rng.integers(-50, 51, (h, w, 3)), 0, 255).astype(np.uint8)  # fmt: skip
    image = Image.fromarray(rgb, "RGB").convert(mode)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def imagenette_archive(folder: Path, wnids: list[str], per_class: dict[str, int], seed: int = 0):
    """``folder/imagenette2-320.tgz`` with ``per_class[split]`` images per class; returns the path, its MD5, the counts.

    The shorter side is 320 as in the real archive, the longer one varies; the first training image
    is grayscale and the second CMYK (the real archive has both kinds)."""
    rng = np.random.default_rng(seed)
    archive = folder / "imagenette2-320.tgz"
    counts = {}
    with tarfile.open(archive, "w:gz") as tar:
        for split, n in per_class.items():
            counts[split] = n * len(wnids)
            for c, wnid in enumerate(wnids):
                for i in range(n):
                    long = int(rng.integers(320, 480))
                    size = (long, 320) if i % 2 else (320, long)
                    mode = {0: "L", 1: "CMYK"}.get(i, "RGB") if (split == "train" and c == 0) else "RGB"
                    _add(tar, f"imagenette2-320/{split}/{wnid}/{wnid}_{i}.JPEG", _jpeg(rng, c, size, mode))
        _add(tar, "imagenette2-320/noisy_imagenette.csv", b"path,noisy_labels_0,is_valid\n")
    return archive, md5(archive), counts
