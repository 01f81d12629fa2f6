"""The datasets: synthetic, photos, image folders with the decode-once cache, Imagenette and CIFAR-10 (offline fakes),
and the unusual or damaged files each one meets."""

import hashlib
import importlib.util
import json
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from alexnet.data import (
    PHOTOS,
    CorruptImageError,
    ImageTensorDataset,
    decode_image,
    downloads,
    load_dataset,
    photo_credits,
    photos,
    synthetic,
)
from alexnet.data import cache as cache_module
from alexnet.data import decode as decode_module

from ..messages import CLEAR, assert_one_line


def test_synthetic_is_deterministic_balanced_and_split():
    a = synthetic("train", num_images=40, image_size=32, num_classes=4, seed=3)
    b = load_dataset("synthetic", "train", num_images=40, image_size=32, num_classes=4, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.images.dtype == torch.uint8 and a.images.shape == (40, 3, 32, 32)
    assert torch.bincount(a.labels).tolist() == [10, 10, 10, 10]
    val = synthetic("val", num_images=40, image_size=32, num_classes=4, seed=3)
    assert not torch.equal(a.images, val.images)
    image, label = a[5]
    assert image.shape == (3, 32, 32) and label == 1


def test_synthetic_images_are_not_noise():
    ds = synthetic("train", num_images=64, image_size=48, num_classes=8)
    # the class's shape is drawn in the class's hue: the mean image differs between classes
    means = torch.stack([ds.images[ds.labels == c].float().mean(0) for c in range(8)])
    assert (means[0] - means[4]).abs().mean() > 10
    assert ds.images.float().std() > 20


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="split must be one of"):
        synthetic("training")
    with pytest.raises(ValueError, match="num_classes must be between 2 and 8"):
        synthetic(num_classes=20)
    with pytest.raises(ValueError, match="known datasets: synthetic"):
        load_dataset("imagenet21k")


def test_image_tensor_dataset_checks():
    with pytest.raises(ValueError, match="uint8"):
        ImageTensorDataset(torch.zeros(2, 3, 4, 4), torch.zeros(2), ["a"])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
        ImageTensorDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 2]), ["a", "b"])


# ----------------------------------------------------------------------------- photos


def test_photos_are_real_colour_photographs_with_credits():
    ds = load_dataset("photos", image_size=64)
    assert ds.images.shape == (len(PHOTOS), 3, 64, 64) and ds.classes == [p.name for p in PHOTOS]
    assert ds.labels.tolist() == list(range(len(PHOTOS)))
    # colour: the channels differ; real: many grey levels
    assert all((img[0].float() - img[2].float()).abs().mean() > 2 for img, _ in ds)
    assert all(len(torch.unique(img)) > 100 for img, _ in ds)
    credits = photo_credits()
    assert len(credits) == len(PHOTOS) and all("licence: " in line and line.split("licence: ")[1] for line in credits)
    with pytest.raises(ValueError, match="pass patch_size"):
        photos("val")


def test_photo_patches_come_from_disjoint_quadrants():
    full = photos(image_size=32).images
    train = photos("train", image_size=32, patch_size=8, patches_per_photo=6, seed=1)
    val = photos("val", image_size=32, patch_size=8, patches_per_photo=6, seed=1)
    assert train.images.shape == (6 * len(PHOTOS), 3, 8, 8)
    assert torch.bincount(train.labels).tolist() == [6] * len(PHOTOS)
    assert torch.equal(train.images, photos("train", image_size=32, patch_size=8, patches_per_photo=6, seed=1).images)

    def places(patch, label):
        return {
            (y, x) for y in range(25) for x in range(25) if torch.equal(full[label, :, y : y + 8, x : x + 8], patch)
        }

    def quadrant(y, x):
        return (y >= 16, x >= 16) if max(y % 16, x % 16) <= 8 else None

    for ds, allowed in ((train, {(False, False), (True, True)}), (val, {(False, True), (True, False)})):
        for patch, label in ds:
            found = {quadrant(y, x) for y, x in places(patch, label)}
            assert found and found <= allowed
    with pytest.raises(ValueError, match="patch_size must lie in"):
        photos("train", image_size=32, patch_size=17)


def test_photos_name_the_missing_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "skimage" else real(name, *a))
    with pytest.raises(ImportError, match="pip install scikit-image"):
        photos()


# ----------------------------------------------------------------------------- image folders and the cache


def _write_tree(root, split="train"):
    """A small ImageNet-style tree: RGB JPEG, grayscale, palette, CMYK, RGBA, and one corrupt file."""
    rng = np.random.default_rng(0)
    cat, dog = root / split / "cat", root / split / "dog"
    cat.mkdir(parents=True)
    dog.mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(cat / "rgb.jpg")
    Image.fromarray(rng.integers(0, 256, (50, 30), dtype=np.uint8), "L").save(cat / "gray.png")
    Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).quantize(16).save(cat / "palette.png")
    Image.fromarray(rng.integers(0, 256, (36, 36, 4), dtype=np.uint8), "CMYK").save(cat / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 256, (33, 35, 4), dtype=np.uint8), "RGBA").save(dog / "rgba.png")
    (dog / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    (dog / "notes.txt").write_text("not an image")
    return [cat / "cmyk.jpg", cat / "gray.png", cat / "palette.png", cat / "rgb.jpg", dog / "rgba.png"]


def test_decode_image_is_torchvisions_resize_and_centre_crop(tmp_path):
    files = _write_tree(tmp_path)
    paper = T.Compose([T.Resize(24), T.CenterCrop(24), T.PILToTensor()])
    for path in files:
        image = decode_image(path, 24)
        assert image.dtype == torch.uint8 and image.shape == (3, 24, 24)
        assert torch.equal(image, paper(Image.open(path).convert("RGB"))), path.name
    gray = decode_image(files[1], None)
    assert gray.shape == (3, 50, 30) and torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])
    deep = (np.arange(16 * 16).reshape(16, 16) * 256).astype(np.uint16)  # 16-bit grey becomes its top 8 bits
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert torch.equal(decode_image(tmp_path / "deep.png", None)[1], torch.from_numpy((deep >> 8).astype(np.uint8)))
    with pytest.raises(CorruptImageError, match="broken.jpg"):
        decode_image(tmp_path / "train" / "dog" / "broken.jpg")


def test_image_folder_decodes_once_and_reuses_the_cache(tmp_path, monkeypatch):
    files = _write_tree(tmp_path)
    with pytest.warns(UserWarning, match="broken.jpg"):
        ds = load_dataset("imagefolder", "train", root=tmp_path, image_size=24, progress=False)
    assert ds.classes == ["cat", "dog"] and ds.labels.tolist() == [0, 0, 0, 0, 1]
    assert ds.files == [str(f.relative_to(tmp_path)) for f in files] and ds.skipped == ["train/dog/broken.jpg"]
    assert torch.equal(ds.images[3], decode_image(files[3], 24))
    torch.testing.assert_close(ds.mean_rgb, ds.images.double().mean(dim=(0, 2, 3)).float() / 255)
    cache = sorted(p.name for p in (tmp_path / ".alexnet-cache").iterdir())
    assert len(cache) == 2 and cache[0].endswith(".json") and cache[1].endswith(".npy")  # no temporary files left

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(cache_module, "decode_image", no_decoding)  # where the cache's decoder looks it up
    with pytest.warns(UserWarning, match=r"1 corrupt image\(s\) were skipped.*broken.jpg"):
        again = load_dataset("imagefolder", "train", root=tmp_path, image_size=24)
    assert torch.equal(again.images, ds.images) and torch.equal(again.labels, ds.labels)
    # a changed tree gets a new cache
    (tmp_path / "train" / "dog" / "broken.jpg").unlink()
    with pytest.raises(AssertionError, match="decoded again"):
        load_dataset("imagefolder", "train", root=tmp_path, image_size=24)


def test_image_folder_can_stop_at_a_corrupt_file_and_leaves_no_partial_cache(tmp_path):
    _write_tree(tmp_path)
    with pytest.raises(CorruptImageError, match="broken.jpg"):
        load_dataset("imagefolder", root=tmp_path, image_size=24, on_error="raise", progress=False)
    assert list((tmp_path / ".alexnet-cache").iterdir()) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(load_dataset("imagefolder", root=tmp_path, image_size=24, progress=False)) == 5


def test_image_folder_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no image folder at .*missing.*train/<class name>"):
        load_dataset("imagefolder", root=tmp_path / "missing")
    (tmp_path / "val").mkdir()
    with pytest.raises(FileNotFoundError, match="has no class folders"):
        load_dataset("imagefolder", "val", root=tmp_path)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        load_dataset("imagefolder", root=tmp_path, download=True)
    with pytest.raises(ValueError, match="known datasets: synthetic, photos, cifar10, imagenette, imagefolder"):
        load_dataset("imagenet")


def test_imagenette_reads_torchvisions_layout_offline(tmp_path, monkeypatch):
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "imagenette", {"train": 1, "val": 1})  # one image stands in
    folder = tmp_path / "imagenette2-320" / "val" / "n01440764"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((40, 50, 3), 90, dtype=np.uint8)).save(folder / "a.JPEG")
    ds = load_dataset("imagenette", "val", root=tmp_path, image_size=32, progress=False)
    assert ds.classes == ["tench"] and ds.images.shape == (1, 3, 32, 32)
    with pytest.raises(FileNotFoundError, match=r"download=True.*imagenette2-320.tgz"):
        load_dataset("imagenette", "train", root=tmp_path)


def _write_cifar(root, per_batch=3, labels=None):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": per_batch}, f)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": list(labels if labels is not None else rng.integers(0, 10, per_batch).tolist()),
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        batches[name] = batch
    return folder, batches


def _pin_md5(monkeypatch, folder):
    """The package checks torchvision's MD5 sums and the published counts; these fake files get their own."""
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    monkeypatch.setattr(downloads, "_cifar10_md5", lambda: sums)
    monkeypatch.setitem(downloads.PUBLISHED_COUNTS, "cifar10", {"train": 15, "test": 3})  # 3 images a batch


def test_cifar10_reads_the_pickled_batches(tmp_path, monkeypatch):
    folder, batches = _write_cifar(tmp_path)
    _pin_md5(monkeypatch, folder)
    train = load_dataset("cifar10", "train", root=tmp_path)
    test = load_dataset("cifar10", "val", root=tmp_path)
    assert train.images.shape == (15, 3, 32, 32) and len(test) == 3 and train.classes[0] == "airplane"
    first = batches["data_batch_1"]["data"][0]
    assert torch.equal(train.images[0, 0], torch.from_numpy(first[:1024].reshape(32, 32)))  # the red plane
    assert train.labels[:3].tolist() == batches["data_batch_1"]["labels"]
    assert torch.equal(test.images, torch.from_numpy(batches["test_batch"]["data"].reshape(3, 3, 32, 32)))


def test_cifar10_bad_files_are_reported(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"download=True.*cifar-10-python.tar.gz"):
        load_dataset("cifar10", root=tmp_path)
    folder, _ = _write_cifar(tmp_path / "a", labels=[0, 3, 10])
    _pin_md5(monkeypatch, folder)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        load_dataset("cifar10", root=tmp_path / "a")
    folder, _ = _write_cifar(tmp_path / "b")
    (folder / "test_batch").write_bytes(b"garbage")
    _pin_md5(monkeypatch, folder)
    with pytest.raises(ValueError, match="test_batch.*not a CIFAR-10 batch file"):
        load_dataset("cifar10", "test", root=tmp_path / "b")


def test_cache_metadata_is_checked(tmp_path):
    _write_tree(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset("imagefolder", root=tmp_path, image_size=24, progress=False)
    meta_path = ds.cache_path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["image_size"] = 32
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="does not match its .*json; rebuilding it"):
        rebuilt = load_dataset("imagefolder", root=tmp_path, image_size=24, progress=False)
    assert torch.equal(rebuilt.images, ds.images)  # a damaged cache is only a cache: it is built again


# ----------------------------------------------------------------------------- image files that are unusual or damaged


def _tree(root, files):
    for relative, image in files.items():
        path = root / "train" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
    return root


def test_a_decompression_bomb_is_skipped_like_a_corrupt_file(tmp_path, monkeypatch):
    _tree(tmp_path, {"a/ok.png": Image.new("RGB", (40, 40)), "a/bomb.png": Image.new("RGB", (400, 400))})
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # 400x400 is then over twice the limit: PIL refuses it
    with pytest.warns(UserWarning, match="bomb.png"):
        ds = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    assert len(ds) == 1 and ds.skipped == ["train/a/bomb.png"]


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = 255  # left half white, stored landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    upright = decode_image(tmp_path / "photo.jpg", image_size=None)
    assert upright.shape == (3, 40, 20)  # portrait, as the camera meant it
    assert upright[:, :18].float().mean() > 200 and upright[:, 22:].float().mean() < 50  # white half on top


def test_a_very_elongated_image_is_cropped_before_the_resize(tmp_path, monkeypatch):
    Image.new("RGB", (8000, 2), (10, 200, 30)).save(tmp_path / "strip.png")
    sizes = []
    real_resize = decode_module.__dict__.get("_bounded")
    from torchvision.transforms import functional as F

    resize = F.resize
    monkeypatch.setattr(
        F, "resize", lambda image, size, *a, **k: sizes.append(image.size) or resize(image, size, *a, **k)
    )
    image = decode_image(tmp_path / "strip.png", 256)
    assert image.shape == (3, 256, 256) and image[:, 0, 0].tolist() == [10, 200, 30]
    assert real_resize is not None and max(w * h for w, h in sizes) <= 64  # 8x2 pixels go to the resize, not 8000x2


def test_a_non_utf8_file_name_is_cached(tmp_path):
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: not UTF-8
    _tree(tmp_path, {f"a/{name}": Image.new("RGB", (40, 40), (1, 2, 3))})
    ds = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    assert len(ds) == 1 and ds.images[0, :, 0, 0].tolist() == [1, 2, 3]


def test_a_replaced_image_of_the_same_size_is_decoded_again(tmp_path):
    _tree(tmp_path, {"a/x.png": Image.new("RGB", (40, 40), (1, 2, 3))})
    first = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    path = tmp_path / "train" / "a" / "x.png"
    size = path.stat().st_size
    Image.new("RGB", (40, 40), (3, 2, 1)).save(path)
    assert path.stat().st_size == size
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    again = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    assert first.images[0, :, 0, 0].tolist() == [1, 2, 3] and again.images[0, :, 0, 0].tolist() == [3, 2, 1]


def test_on_error_raise_is_honoured_when_a_skipping_cache_exists(tmp_path):
    _tree(tmp_path, {"a/ok.png": Image.new("RGB", (40, 40))})
    (tmp_path / "train" / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.warns(UserWarning):
        load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    with pytest.raises(CorruptImageError) as info:
        load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False, on_error="raise")
    assert_one_line(info.value, "broken.png")


@pytest.mark.parametrize("damage", ["truncated-npy", "corrupt-json"])
def test_a_damaged_cache_is_rebuilt(tmp_path, damage):
    _tree(tmp_path, {"a/x.png": Image.new("RGB", (40, 40), (1, 2, 3)), "a/y.png": Image.new("RGB", (40, 40))})
    ds = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    if damage == "truncated-npy":
        ds.cache_path.write_bytes(ds.cache_path.read_bytes()[:500])
    else:
        ds.cache_path.with_suffix(".json").write_text('{"format": 1, "count"')
    with pytest.warns(UserWarning, match="rebuilding it"):
        again = load_dataset("imagefolder", root=tmp_path, image_size=32, progress=False)
    assert again.images[0, :, 0, 0].tolist() == [1, 2, 3]


# ----------------------------------------------------------------------------- CIFAR-10 and Imagenette files that are damaged


def _cifar(root, monkeypatch, meta=None, labels=None, data=None):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"class{i}" for i in range(10)]
    (folder / "batches.meta").write_bytes(pickle.dumps(meta if meta is not None else {"label_names": names}))
    batch = {
        "data": data if data is not None else np.zeros((2, 3072), np.uint8),
        "labels": labels if labels is not None else [0, 1],
    }
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    monkeypatch.setattr(downloads, "_cifar10_md5", lambda: sums)
    return folder


CIFAR = {
    "labels as strings": ({"labels": ["cat", "dog"]}, r"test_batch.*'labels' as a list of integers"),
    "labels as floats": ({"labels": [0.0, 1.5]}, r"test_batch.*'labels' as a list of integers"),
    "no label_names": ({"meta": {"names": ["a"]}}, r"batches.meta.*label_names.*download again"),
    "data as a list": ({"data": [[0] * 3072] * 2}, r"test_batch.*expected 'data' as uint8 rows of 3072"),
}


@pytest.mark.parametrize("case", CIFAR)
def test_bad_cifar10_files(case, tmp_path, monkeypatch):
    options, pattern = CIFAR[case]
    _cifar(tmp_path, monkeypatch, **options)
    with pytest.raises(CLEAR) as info:
        load_dataset("cifar10", "test", root=tmp_path)
    assert_one_line(info.value, pattern)


def test_a_half_extracted_cifar10_file_is_named(tmp_path):
    """A batch cut short (an extraction that stopped): its checksum names it and says what to do."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(b"\x80\x02}q\x00")
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00(U\x04data")
    with pytest.raises(CLEAR) as info:
        load_dataset("cifar10", "test", root=tmp_path)
    assert_one_line(info.value, r"batches.meta.*not the CIFAR-10 file torchvision pins.*download again")


def test_a_corrupt_download_is_one_line(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    monkeypatch.setattr(tv_utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(tv_utils, "_urlretrieve", lambda url, filename, chunk_size=0: open(filename, "wb").close())
    for name in ("cifar10", "imagenette"):
        with pytest.raises(CLEAR) as info:
            load_dataset(name, "val", root=tmp_path / name, download=True)
        assert_one_line(info.value, r"damaged or not the file torchvision pins.*try again")
        assert not list((tmp_path / name).glob("*.t*gz"))  # the bad download is not kept
