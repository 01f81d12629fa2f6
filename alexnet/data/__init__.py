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
  The network's input is made from these uint8 images by :class:`ModelInput` (Section 2: raw
  values minus the training set's mean image; ``CONVENTIONS``: the paper's, or torchvision's).

Augmentation (Section 4.1) is ``augment``: random crops and their mirror images, the ten test
patches, PCA lighting, and :class:`Augment`, the layer that applies them to a batch on its device.

One module per dataset (``shapes``, ``shipped_photos``, ``folders``, ``downloads``), with the
decoding (``decode``) and the decode-once cache (``cache``) apart; the input convention in
``inputs``, augmentation in ``augment``. Every name in ``__all__`` is importable from here
(``from alexnet.data import ModelInput, load_dataset``), and ``inputs`` and ``augment`` are
attributes too. The trainer's batch feeder, ``alexnet.data.feeder``, loads its splits with
:func:`load_dataset` from here, so it is imported from its module, not here.
"""

from __future__ import annotations

from collections.abc import Callable

from torch.utils.data import Dataset

from alexnet._exports import public_names
from alexnet.data import augment, inputs
from alexnet.data.cache import CACHE_FORMAT, CachedImageDataset, decode_cached
from alexnet.data.decode import MAX_ASPECT, CorruptImageError, decode_image
from alexnet.data.downloads import CIFAR10_FOLDER, CIFAR10_URL, IMAGENETTE_FOLDERS, cifar10, imagenette
from alexnet.data.folders import IMAGE_EXTENSIONS, image_folder
from alexnet.data.shapes import SYNTHETIC_SHAPES, _synthetic_loader, synthetic
from alexnet.data.shipped_photos import PHOTOS, PIP_NAMES, Photo, _photos_loader, photo_credits, photo_path, photos
from alexnet.data.tensors import SPLIT_SEEDS, ImageTensorDataset

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
    "SPLIT_SEEDS",
    "CACHE_FORMAT",
    "MAX_ASPECT",
    "IMAGE_EXTENSIONS",
    "IMAGENETTE_FOLDERS",
    "CIFAR10_FOLDER",
    "CIFAR10_URL",
    "PIP_NAMES",
    # Section 2: the network's input, and Section 4.1: augmentation (their modules' public names, below)
    *inputs.__all__,
    *augment.__all__,
    "inputs",
    "augment",
]
# ModelInput, Augment, ten_crop ...: read from their modules on first use
__getattr__, __dir__ = public_names(__name__, ("inputs", "augment"))


LOADERS: dict[str, Callable[..., ImageTensorDataset]] = {
    "synthetic": _synthetic_loader,
    "photos": _photos_loader,
    "cifar10": cifar10,
    "imagenette": imagenette,
    "imagefolder": image_folder,
}


def load_dataset(name: str, split: str = "train", root: str = "data", download: bool = False, **options) -> Dataset:
    """Load dataset ``name`` (see the module docstring) for ``split``; options go to its loader."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(LOADERS)}")
    return LOADERS[name](split=split, root=root, download=download, **options)
