"""The datasets fetched with torchvision when ``download=True``: Imagenette and CIFAR-10.

An archive is unpacked only if its MD5 is the one torchvision pins, and only inside its folder.
Imagenette's images then go through :func:`alexnet.data.image_folder`; CIFAR-10's pickled batches
are checked against their MD5 sums and read by a restricted unpickler, never by plain ``pickle``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from alexnet.data.cache import CachedImageDataset
from alexnet.data.folders import image_folder, list_images
from alexnet.data.tensors import ImageTensorDataset

# ----------------------------------------------------------------------------- Imagenette and the archives

IMAGENETTE_FOLDERS = {"full": "imagenette2", "320px": "imagenette2-320", "160px": "imagenette2-160"}

# The published number of images in each split; a copy that holds fewer is incomplete and is refused.
# CIFAR-10: "There are 50000 training images and 10000 test images" (https://www.cs.toronto.edu/~kriz/cifar.html).
# Imagenette v2 (the archives above; the same images in each size): fastai/imagenette's noisy_imagenette.csv
# (commit b291a9487f1382a088e3424b1f9f8d34e3d1d62c, unchanged at ba8db39559154607fecd46bfff9068f074082af4)
# lists 9,469 training (is_valid False) and 3,925 validation images (is_valid True), 858 to 993 per class.
PUBLISHED_COUNTS = {
    "cifar10": {"train": 50_000, "test": 10_000},
    "imagenette": {"train": 9_469, "val": 3_925},
}


def imagenette(
    split: str = "train", root: str | os.PathLike = "data", download: bool = False, size: str = "320px", **options
) -> CachedImageDataset:
    """Imagenette (10 easy ImageNet classes, fast.ai), fetched with torchvision's loader when ``download=True``.

    ``size`` picks the archive ("320px", the default, has shorter sides of 320 >= 256 and is
    about 330 MB; "full"; "160px"). The images then go through :func:`image_folder`, so that
    they get the paper's preprocessing and the decode-once cache; ``options`` go there. A split
    with fewer image files than ``PUBLISHED_COUNTS`` gives (a half-extracted copy) is refused.
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
    names = getattr(Imagenette, "_WNID_TO_CLASS", {})
    by_class = list_images(folder / split)
    found, expected = sum(len(files) for files in by_class.values()), PUBLISHED_COUNTS["imagenette"][split]
    if found < expected:
        missing = [wnid for wnid in names if wnid not in by_class]
        gone = f" (class folders missing: {', '.join(missing)})" if missing else ""
        raise ValueError(
            f"Imagenette ({size}) at {os.fspath(folder / split)!r} is incomplete: expected {expected} images, found "
            f"{found}{gone}; delete {os.fspath(folder)!r} and load it again with download=True (--download from the "
            "command line)"
        )
    dataset = image_folder(split, folder, listing=by_class, **options)
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


# ----------------------------------------------------------------------------- CIFAR-10

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def cifar10(split: str = "train", root: str | os.PathLike = "data", download: bool = False) -> ImageTensorDataset:
    """CIFAR-10 (Krizhevsky 2009): 32x32 images in 10 classes, 50,000 for training and 10,000 for testing.

    Reads the pickled batches of the Python version (``root/cifar-10-batches-py``), which
    ``download=True`` fetches with torchvision's ``CIFAR10``. ``"val"`` and ``"test"`` both
    name the test batch. The images are already raw pixels, so no cache is needed. A split with
    fewer images than ``PUBLISHED_COUNTS`` gives is refused.
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
    found, expected = sum(len(v) for v in labels), PUBLISHED_COUNTS["cifar10"]["train" if split == "train" else "test"]
    if found < expected:
        raise ValueError(
            f"CIFAR-10 at {os.fspath(folder)!r} is incomplete: expected {expected} {split} images, found {found} "
            f"in {', '.join(batches)}; delete {os.fspath(folder)!r} and load it again with download=True "
            "(--download from the command line)"
        )
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
