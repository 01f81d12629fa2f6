"""Real colour photographs that installed packages ship (``"photos"``): scikit-image, scikit-learn, matplotlib.

``PHOTOS`` names each one's source and licence: the whole photos for pictures, or patches of
them for a small real-image task, "which photo did this patch come from?".
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch

from alexnet.data.decode import decode_image
from alexnet.data.tensors import SPLIT_SEEDS, ImageTensorDataset


@dataclass(frozen=True)
class Photo:
    """A colour photograph that an installed package ships, with its source and licence."""

    name: str
    package: str  # the importable package whose folder holds the file
    file: str  # the path inside that package
    source: str
    licence: str


def _shipped(package: str, folder: str, shipper: str, *photos: tuple[str, str, str, str]) -> tuple[Photo, ...]:
    """The photos ``package`` ships in its ``folder``, each given as (name, file, source, licence); every source
    ends with the name of who ships it, ``shipper``."""
    return tuple(Photo(name, package, folder + file, f"{source} ({shipper})", licence)
                 for name, file, source, licence in photos)  # fmt: skip


# Sources and licences as each package documents them: scikit-image in the docstrings of
# skimage.data (astronaut, chelsea, coffee, rocket, immunohistochemistry), scikit-learn in
# sklearn/datasets/images/README.txt; matplotlib's sample_data README names no licence.
PHOTOS: tuple[Photo, ...] = (
    *_shipped("skimage", "data/", "scikit-image",
              ("astronaut", "astronaut.png", "Eileen Collins, NASA Great Images database",
               "public domain: no known copyright restrictions"),
              ("chelsea", "chelsea.png", "Chelsea the cat, photographed by Stefan van der Walt", "CC0"),
              ("coffee", "coffee.png", "a coffee cup, Pikolo Espresso Bar, photographed by Rachel Michetti", "CC0"),
              ("rocket", "rocket.jpg", "DSCOVR lifting off on a Falcon 9, SpaceX Photos on Flickr",
               "public domain, released by SpaceX"),
              ("ihc", "ihc.png",
               "immunohistochemical staining of colonic glands, Center for Microscopy And Molecular Imaging",
               "no known copyright restrictions")),
    *_shipped("sklearn", "datasets/images/", "scikit-learn",
              ("china", "china.jpg", "danielbuechele on Flickr, retrieved by Robert Layton", "CC BY 2.0"),
              ("flower", "flower.jpg", "vultilion on Flickr, retrieved by Robert Layton", "CC BY 2.0")),
    *_shipped("matplotlib", "mpl-data/sample_data/", "matplotlib sample data",
              ("grace_hopper", "grace_hopper.jpg", "U.S. Navy portrait of Grace Hopper",
               "public domain as a work of the U.S. federal government (matplotlib names no licence)")),
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


def _photos_loader(split: str = "train", root=None, download: bool = False, **options) -> ImageTensorDataset:
    return photos(split, **options)  # shipped with installed packages: nothing to find under root or download
