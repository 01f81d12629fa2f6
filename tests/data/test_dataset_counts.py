"""Datasets are counted before use: a split with fewer images than published, an empty class or an empty split is refused.

Real Imagenette has 9,469 training images, so the stand-ins here declare their own published
counts (``downloads.PUBLISHED_COUNTS``) and hold ten images, one in each WordNet-id folder.
"""

import re

import pytest
from PIL import Image
from torchvision.datasets import Imagenette

from alexnet.data import IMAGENETTE_FOLDERS, downloads, load_dataset

from .test_datasets import _pin_md5, _write_cifar

WNIDS = list(Imagenette._WNID_TO_CLASS)  # the ten class folders of every Imagenette archive


def _one_line(error, pattern):
    text = str(error.value)
    assert "\n" not in text, f"more than one line: {text!r}"
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"


def _images(folder, names):
    """One small decodable image per name, in ``folder/<name>/``."""
    for i, name in enumerate(names):
        (folder / name).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (12, 10), (20 * i, 2, 3)).save(folder / name / f"{name}_{i}.JPEG")


def _imagenette(root, size, split):
    folder = root / IMAGENETTE_FOLDERS[size]
    _images(folder / split, WNIDS)
    return folder


def test_the_published_counts():
    assert downloads.PUBLISHED_COUNTS == {
        "cifar10": {"train": 50_000, "test": 10_000},
        "imagenette": {"train": 9_469, "val": 3_925},
    }


@pytest.mark.parametrize("split", ["train", "val"])
@pytest.mark.parametrize("size", list(IMAGENETTE_FOLDERS))
def test_imagenette_is_counted_against_its_published_count(tmp_path, monkeypatch, size, split):
    folder = _imagenette(tmp_path, size, split)
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "imagenette", {split: 10})
    ds = load_dataset("imagenette", split, root=tmp_path, size=size, image_size=8, progress=False)
    assert len(ds) == 10 and ds.class_counts == dict.fromkeys(WNIDS, 1)
    next((folder / split / WNIDS[3]).iterdir()).unlink()  # a class folder holding fewer files
    with pytest.raises(ValueError) as error:
        load_dataset("imagenette", split, root=tmp_path, size=size, image_size=8, progress=False)
    _one_line(error, rf"Imagenette \({size}\) at .*{split}' is incomplete: expected 10 images, found 9; delete ")
    _one_line(error, r"download=True \(--download from the command line\)")


def test_a_half_extracted_imagenette_names_the_missing_class_folders(tmp_path, monkeypatch):
    folder = _imagenette(tmp_path, "320px", "train")
    for wnid in WNIDS[-2:]:
        next((folder / "train" / wnid).iterdir()).unlink()
        (folder / "train" / wnid).rmdir()
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "imagenette", {"train": 10})
    with pytest.raises(ValueError) as error:
        load_dataset("imagenette", "train", root=tmp_path, image_size=8, progress=False)
    _one_line(error, rf"expected 10 images, found 8 \(class folders missing: {WNIDS[-2]}, {WNIDS[-1]}\)")
    _one_line(error, r"delete '.*imagenette2-320' and load it again with download=True")


def test_a_stand_in_is_refused_against_the_real_published_count(tmp_path):
    _imagenette(tmp_path, "160px", "val")
    with pytest.raises(ValueError) as error:
        load_dataset("imagenette", "val", root=tmp_path, size="160px", image_size=8, progress=False)
    _one_line(error, r"expected 3925 images, found 10;")


def test_an_empty_imagenette_split_is_refused_with_the_counts(tmp_path, monkeypatch):
    (tmp_path / "imagenette2-320" / "train").mkdir(parents=True)  # an extraction that stopped at once
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "imagenette", {"train": 10})
    with pytest.raises(ValueError) as error:
        load_dataset("imagenette", "train", root=tmp_path, image_size=8, progress=False)
    _one_line(error, rf"expected 10 images, found 0 \(class folders missing: {', '.join(WNIDS)}\)")


# ----------------------------------------------------------------------------- CIFAR-10


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_short_cifar10_split_is_refused_with_the_counts(tmp_path, monkeypatch, split):
    folder, _ = _write_cifar(tmp_path)  # 3 images in each batch: 15 for training, 3 for testing
    _pin_md5(monkeypatch, folder)
    assert len(load_dataset("cifar10", split, root=tmp_path)) == (15 if split == "train" else 3)
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "cifar10", {"train": 16, "test": 4})
    with pytest.raises(ValueError) as error:
        load_dataset("cifar10", split, root=tmp_path)
    found = 15 if split == "train" else 3
    _one_line(error, rf"CIFAR-10 at .* is incomplete: expected {found + 1} {split} images, found {found} in ")
    _one_line(error, r"delete '.*cifar-10-batches-py' and load it again with download=True \(--download")


def test_cifar10_is_held_to_its_published_count(tmp_path, monkeypatch):
    folder, _ = _write_cifar(tmp_path)
    _pin_md5(monkeypatch, folder)
    monkeypatch.setattr(downloads, "PUBLISHED_COUNTS", {"cifar10": {"train": 50_000, "test": 10_000}})
    with pytest.raises(ValueError) as error:
        load_dataset("cifar10", "val", root=tmp_path)
    _one_line(error, r"expected 10000 val images, found 3 in test_batch;")


# ----------------------------------------------------------------------------- image folders


def test_an_image_folder_counts_its_classes(tmp_path):
    _images(tmp_path / "train", ["cat", "cat", "dog"])
    (tmp_path / "train" / "dog" / "notes.txt").write_text("not an image")
    ds = load_dataset("imagefolder", root=tmp_path, image_size=8, progress=False)
    assert ds.classes == ["cat", "dog"] and ds.class_counts == {"cat": 2, "dog": 1} and len(ds) == 3


def test_an_image_folder_refuses_an_empty_class(tmp_path):
    _images(tmp_path / "train", ["cat", "dog"])
    (tmp_path / "train" / "bird").mkdir()
    (tmp_path / "train" / "bird" / "notes.txt").write_text("not an image")
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("imagefolder", root=tmp_path, image_size=8, progress=False)
    _one_line(error, r"the class folder '.*train/bird' holds no image files: put the class's images there")
    (tmp_path / "train" / "fish").mkdir()
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("imagefolder", root=tmp_path, image_size=8, progress=False)
    _one_line(error, r"'.*train/bird' holds no image files \(2 class folders of train/ hold none\)")


def test_an_image_folder_refuses_an_empty_split(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / "val" / name).mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("imagefolder", "val", root=tmp_path, image_size=8, progress=False)
    _one_line(error, r"the split '.*val' is empty: no image files \(\.jpg.*\) in its class folders$")
    for name in ("cat", "dog"):
        (tmp_path / "val" / name).rmdir()
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("imagefolder", "val", root=tmp_path, image_size=8, progress=False)
    _one_line(error, r"'.*val' has no class folders")
