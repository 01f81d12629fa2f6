"""Every bad input gets one line that says what was expected (issue 12, part 3).

Each parametrised case is one bad input: a batch, a config value, an image file, a dataset file,
a checkpoint. A case passes when the package raises one of its clear error types (or, from the
command line, exits 1) with a one-line message that matches the case's pattern. The cases use
only names that existed before the fix, so the same file can be run against an older tree to
count how many of them were already clear.
"""

import dataclasses
import math
import os
import pickle
import shutil
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet import build_model
from alexnet import data as data_module
from alexnet.cli.main import main
from alexnet.data import CorruptImageError, decode_image, load_dataset
from alexnet.nn.config import AlexNetConfig
from alexnet.training.checkpoint import CHECKPOINT_NAME, TrainingError, load_checkpoint, model_from_checkpoint
from alexnet.training.config import TrainConfig
from alexnet.training.loop import train

# where the private names live: alexnet/data/ since it became a package, alexnet/data.py before
decode_module = getattr(data_module, "decode", data_module)
downloads_module = getattr(data_module, "downloads", data_module)

CLEAR = (ValueError, TrainingError, FileNotFoundError, CorruptImageError)


def _one_line(error: BaseException, pattern: str) -> None:
    import re

    text = str(error)
    assert "\n" not in text.strip(), f"more than one line: {text!r}"
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"


# ----------------------------------------------------------------------------- the model's input

MODEL = build_model("paper", width=0.125, image_size=67, num_classes=4)
x32 = torch.zeros(2, 3, 67, 67)


def _nan():
    x = x32.clone()
    x[0, 0, 5, 5] = float("nan")
    return x


def _inf():
    x = x32.clone()
    x[1, 2, 0, 0] = float("inf")
    return x


def _half_weights():
    return build_model("paper", width=0.125, image_size=67, num_classes=4).half()(x32)


BATCHES = {
    "float64": (lambda: MODEL(x32.double()), r"weights are torch.float32 but the images are torch.float64"),
    "float16": (lambda: MODEL(x32.half()), r"images are torch.float16.*x.to\(torch.float32\)"),
    "bfloat16": (lambda: MODEL(x32.bfloat16()), r"images are torch.bfloat16"),
    "empty": (lambda: MODEL(x32[:0]), r"empty batch"),
    "nan-pixel": (lambda: MODEL(_nan()), r"1 NaN or infinite pixel"),
    "inf-pixel": (lambda: MODEL(_inf()), r"1 NaN or infinite pixel"),
    "float16-weights": (_half_weights, r"weights are torch.float16 but the images are torch.float32"),
}


@pytest.mark.parametrize("case", BATCHES)
def test_bad_batches(case):
    call, pattern = BATCHES[case]
    with pytest.raises(CLEAR) as info:
        call()
    _one_line(info.value, pattern)


def test_good_batches_still_pass():
    assert MODEL(x32).shape == (2, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts inside the layers: allowed
        assert MODEL(x32).shape == (2, 4)
    model = build_model("paper", width=0.125, image_size=67, num_classes=4).double()
    assert model(x32.double()).dtype == torch.float64  # a float64 network takes float64 batches
    model.check_finite = False
    assert torch.isnan(model(_nan().double())).any()  # the check can be turned off


# ----------------------------------------------------------------------------- configurations

MODEL_OPTIONS = {
    "width=inf": ({"width": math.inf}, r"width must be a finite number, got inf"),
    "width=nan": ({"width": math.nan}, r"width must be a finite number"),
    "width='1'": ({"width": "1"}, r"width must be a finite number, got '1'"),
    "num_classes=2.5": ({"num_classes": 2.5}, r"num_classes must be an integer, got 2.5"),
    "num_classes='10'": ({"num_classes": "10"}, r"num_classes must be an integer"),
    "num_classes=True": ({"num_classes": True}, r"num_classes must be an integer, got True"),
    "image_size=227.5": ({"image_size": 227.5}, r"image_size must be an integer, got 227.5"),
    "dropout=nan": ({"dropout": math.nan}, r"dropout must be a finite number"),
    "lrn_alpha=inf": ({"lrn_alpha": math.inf}, r"lrn_alpha must be a finite number"),
    "lrn='yes'": ({"lrn": "yes"}, r"lrn must be True or False"),
    "groups=2.0": ({"groups": 2.0}, r"groups must be an integer"),
    "conv_channels floats": (
        {"conv_channels": (96.5, 256, 384, 384, 256)},
        r"conv_channels must be a sequence of 5 integers",
    ),
}


@pytest.mark.parametrize("case", MODEL_OPTIONS)
def test_bad_model_options(case):
    options, pattern = MODEL_OPTIONS[case]
    with pytest.raises(CLEAR) as info:
        build_model("paper", **options)
    _one_line(info.value, pattern)
    with pytest.raises(CLEAR):
        AlexNetConfig(**options)


TRAIN_OPTIONS = {
    "epochs=2.5": ({"epochs": 2.5}, r"epochs must be an integer, got 2.5"),
    "epochs='3'": ({"epochs": "3"}, r"epochs must be an integer"),
    "batch_size=32.0": ({"batch_size": 32.0}, r"batch_size must be an integer"),
    "lr=nan": ({"lr": math.nan}, r"lr must be a finite number"),
    "lr=inf": ({"lr": math.inf}, r"lr must be a finite number"),
    "momentum=nan": ({"momentum": math.nan}, r"momentum must be a finite number"),
    "weight_decay=nan": ({"weight_decay": math.nan}, r"weight_decay must be a finite number"),
    "pca_std=inf": ({"pca_std": math.inf}, r"pca_std must be a finite number"),
    "seed=2**64": ({"seed": 2**64}, r"seed must be an integer in \[0, 2\*\*63\)"),
    "seed=-1": ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*63\)"),
    "seed=1.5": ({"seed": 1.5}, r"seed must be an integer"),
    "ten_crop='no'": ({"ten_crop": "no"}, r"ten_crop must be True or False"),
    "model_options=None": ({"model_options": None}, r"model_options must be a dict"),
    "out=5": ({"out": 5}, r"out must be a string or a path or None"),
    "num_workers=-1": ({"num_workers": -1}, r"num_workers must be a non-negative integer"),
    "stop_after=0": ({"stop_after": 0}, r"stop_after must be None or a positive integer"),
    "device=0": ({"device": 0}, r"device must be a string"),
}


@pytest.mark.parametrize("case", TRAIN_OPTIONS)
def test_bad_train_options(case):
    options, pattern = TRAIN_OPTIONS[case]
    with pytest.raises(CLEAR) as info:
        TrainConfig(**options)
    _one_line(info.value, pattern)


CLI_OPTIONS = {
    "--seed 2**64": (["--seed", str(2**64)], r"argument --seed: expected a whole number from 0 to 2\*\*63 - 1"),
    "--lr nan": (["--lr", "nan"], r"argument --lr: expected a number above 0, got 'nan'"),
    "--width inf": (["--width", "inf"], r"argument --width: expected a number above 0, got 'inf'"),
    "--dropout nan": (
        ["--dropout", "nan"],
        r"argument --dropout: expected a number from 0 to 1 \(excluded\), got 'nan'",
    ),
}


@pytest.mark.parametrize("case", CLI_OPTIONS)
def test_bad_cli_options(case, tmp_path, capsys):
    """Values the command line cannot run stop it while it is read: exit status 2 and one line, no traceback."""
    argv, pattern = CLI_OPTIONS[case]
    with pytest.raises(SystemExit) as stop:
        main(["train", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress", *argv])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.startswith("python -m alexnet train: error:")
    _one_line(err, pattern)
    assert not (tmp_path / "run").exists()  # before any work


# ----------------------------------------------------------------------------- image files


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
    _one_line(info.value, "broken.png")


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


# ----------------------------------------------------------------------------- CIFAR-10 and Imagenette files


def _cifar(root, monkeypatch, meta=None, labels=None, data=None):
    import hashlib

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
    monkeypatch.setattr(downloads_module, "_cifar10_md5", lambda: sums, raising=False)
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
    _one_line(info.value, pattern)


def test_a_half_extracted_cifar10_file_is_named(tmp_path):
    """A batch cut short (an extraction that stopped): its checksum names it and says what to do."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(b"\x80\x02}q\x00")
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00(U\x04data")
    with pytest.raises(CLEAR) as info:
        load_dataset("cifar10", "test", root=tmp_path)
    _one_line(info.value, r"batches.meta.*not the CIFAR-10 file torchvision pins.*download again")


def test_a_corrupt_download_is_one_line(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    monkeypatch.setattr(tv_utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(tv_utils, "_urlretrieve", lambda url, filename, chunk_size=0: open(filename, "wb").close())
    for name in ("cifar10", "imagenette"):
        with pytest.raises(CLEAR) as info:
            load_dataset(name, "val", root=tmp_path / name, download=True)
        _one_line(info.value, r"damaged or not the file torchvision pins.*try again")
        assert not list((tmp_path / name).glob("*.t*gz"))  # the bad download is not kept


# ----------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad-inputs") / "run"
    config = TrainConfig(
        model_options={"width": 0.125, "image_size": 67},
        dataset_options={"num_images": 64, "image_size": 72, "num_classes": 4},
        val_options={"num_images": 16},
        epochs=1,
        batch_size=32,
        ten_crop=False,
        progress=False,
        device="cpu",
        out=str(out),
    )
    train(config)
    return out


def _edited(run, tmp_path, edit):
    state = load_checkpoint(run)
    edit(state)
    out = tmp_path / "edited"
    out.mkdir()
    torch.save(state, out / CHECKPOINT_NAME)
    return out / CHECKPOINT_NAME


def _wrong_weights(state):
    state["model_config"] = {**state["model_config"], "width": 0.25}


CHECKPOINTS = {
    "no config": (lambda s: s.pop("config"), r"lacks 'config'"),
    "no model": (lambda s: s.pop("model"), r"lacks 'model'"),
    "no rng": (lambda s: s.pop("rng"), r"lacks 'rng'"),
    "weights of another config": (_wrong_weights, r"weights do not match its model_config"),
    "newer format": (lambda s: s.update(format=99), r"written by a newer alexnet.*upgrade"),
    "epoch as text": (lambda s: s.update(epoch="1"), r"'epoch' must be an integer"),
}


@pytest.mark.parametrize("case", CHECKPOINTS)
def test_bad_checkpoints_evaluate(case, run, tmp_path, capsys):
    edit, pattern = CHECKPOINTS[case]
    path = _edited(run, tmp_path, edit)
    try:
        status = main(["evaluate", str(path), "--device", "cpu"])
    except Exception as error:
        pytest.fail(f"a traceback instead of a message: {type(error).__name__}: {error}")
    err = capsys.readouterr().err.strip()
    assert status == 1
    _one_line(err, pattern)


def test_a_damaged_rng_state_on_resume_is_one_line(run, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(run, out)
    state = load_checkpoint(out)
    state["rng"] = {"python": "garbage", "torch": torch.zeros(3)}
    torch.save(state, out / CHECKPOINT_NAME)
    config = TrainConfig(**{**state["config"], "out": str(out), "resume": True, "epochs": 2})
    with pytest.raises(CLEAR) as info:
        train(config)
    _one_line(info.value, r"random-number states \('rng'\) are damaged")


def test_a_truncated_checkpoint_is_one_line(run, tmp_path):
    data = (run / CHECKPOINT_NAME).read_bytes()
    (tmp_path / CHECKPOINT_NAME).write_bytes(data[: len(data) // 2])
    with pytest.raises(CLEAR) as info:
        load_checkpoint(tmp_path)
    _one_line(info.value, r"not a readable checkpoint")


def test_model_from_checkpoint_names_a_mismatch(run):
    state = load_checkpoint(run)
    _wrong_weights(state)
    with pytest.raises(CLEAR) as info, warnings.catch_warnings():
        model_from_checkpoint(state)
    _one_line(info.value, r"weights do not match")


def test_no_config_is_changed_by_the_checks():
    """The checks accept what the package's own presets and recipes pass (numpy numbers too)."""
    assert build_model("paper", width=np.float64(0.25), num_classes=np.int64(10)).config.num_classes == 10
    config = TrainConfig(lr=1, epochs=np.int64(3))
    assert dataclasses.replace(config, seed=2**63 - 1).seed == 2**63 - 1
