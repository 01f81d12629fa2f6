"""No code runs from a downloaded file: checkpoints, CIFAR-10 batches, dataset archives, temporary files.

Every payload here is harmless: if it ran, it would only create a marker file, and each test
checks that the marker is absent.
"""

import dataclasses
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest
import torch

from alexnet import data
from alexnet.cli.main import main
from alexnet.data import downloads, load_dataset
from alexnet.training import checkpoint as ckpt
from alexnet.training.checkpoint import load_checkpoint, save_checkpoint
from alexnet.training.errors import TrainingError
from alexnet.training.loop import train
from alexnet.training.run_folder import CHECKPOINT_NAME, RunFolder


class Payload:
    """Unpickling this calls os.system: a stand-in for any code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _crafted_checkpoint(path, marker, zip_format=True):
    obj = {"format": ckpt.CHECKPOINT_FORMAT, "epoch": 1, "model": {}, "x": Payload(marker)}
    path.parent.mkdir(parents=True, exist_ok=True)
    if zip_format:  # what torch.save writes
        torch.save(obj, path)
    else:  # a plain pickle, the legacy format torch.load also reads
        path.write_bytes(pickle.dumps(obj))
    return path


@pytest.mark.parametrize("zip_format", [True, False])
def test_a_crafted_checkpoint_is_refused_and_nothing_runs(tmp_path, zip_format):
    marker = tmp_path / "PWNED"
    path = _crafted_checkpoint(tmp_path / "run" / CHECKPOINT_NAME, marker, zip_format)
    with pytest.raises(TrainingError, match="refused|nothing in it was run") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_evaluate_and_resume_refuse_a_crafted_checkpoint(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    _crafted_checkpoint(run / CHECKPOINT_NAME, marker)
    assert main(["evaluate", str(run / CHECKPOINT_NAME), "--device", "cpu"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("alexnet evaluate: error:") and "posix.system" in err and "\n" not in err
    tiny = ["--epochs", "1", "--images", "64", "--classes", "4", "--width", "0.125", "--image-size", "67"]
    assert main(["train", "--out", str(run), "--resume", "--device", "cpu", "--no-progress", *tiny]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("alexnet train: error:") and "refused" in err and "\n" not in err
    assert not marker.exists()


def test_a_format_1_checkpoint_with_numpy_random_states_still_loads(tiny_config, tmp_path):
    """Format 1 stored numpy's state as a tuple holding an array: exactly the three numpy names it needs are allowed."""
    config = tiny_config(out=str(tmp_path / "run"))
    train(config)
    state = load_checkpoint(tmp_path / "run")
    assert isinstance(state["rng"]["numpy"]["key"], torch.Tensor)  # format 2: tensors and plain values only
    state["format"] = 1
    state["rng"]["numpy"] = np.random.get_state()
    torch.save(state, tmp_path / "old.pt")
    old = load_checkpoint(tmp_path / "old.pt")
    ckpt.set_rng_states(old["rng"])
    assert np.array_equal(np.random.get_state()[1], state["rng"]["numpy"][1])
    train(dataclasses.replace(config, epochs=2, resume=True))  # the new format resumes too


def test_the_temporary_file_is_new_and_private_and_never_left_behind(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    # a planted link at the name the old writer used (predictable: .checkpoint.pt.tmp<pid>)
    (out / f".{CHECKPOINT_NAME}.tmp{os.getpid()}").symlink_to(victim)
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    save_checkpoint({"epoch": 1, "w": torch.ones(3)}, out)
    assert victim.read_text() == "keep me"
    assert synced, "the checkpoint is flushed to the disk before the rename"
    assert torch.load(out / CHECKPOINT_NAME, weights_only=True)["epoch"] == 1

    def broken(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("simulated failure")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint({"epoch": 2}, out)
    assert [p.name for p in out.glob(".*.tmp")] == []  # the failed write removed its temporary file
    assert torch.load(out / CHECKPOINT_NAME, weights_only=True)["epoch"] == 1  # the old checkpoint is whole


def test_stale_temporary_files_of_ours_are_removed_at_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / f".{CHECKPOINT_NAME}.abc123.tmp", out / f".{CHECKPOINT_NAME}.tmp4242", out / ".metrics.jsonl.x.tmp"]
    for path in stale:
        path.write_bytes(b"x" * 100)
    mine = out / "notes.tmp"
    mine.write_text("not ours")
    with RunFolder(out):
        pass
    assert not any(p.exists() for p in stale) and mine.exists()


# ----------------------------------------------------------------------------- CIFAR-10


def _cifar_folder(root, meta_obj):
    folder = root / data.CIFAR10_FOLDER
    folder.mkdir(parents=True)
    (folder / "batches.meta").write_bytes(pickle.dumps(meta_obj, protocol=2))
    batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def test_a_cifar10_file_with_a_payload_is_refused_by_its_checksum(tmp_path):
    marker = tmp_path / "PWNED"
    _cifar_folder(tmp_path, {"label_names": Payload(marker)})
    with pytest.raises(ValueError, match=r"batches.meta.*not the CIFAR-10 file torchvision pins.*download again"):
        load_dataset("cifar10", "test", root=tmp_path)
    assert not marker.exists()


def test_a_cifar10_payload_is_refused_by_the_restricted_unpickler_too(tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    folder = _cifar_folder(tmp_path, {"label_names": Payload(marker)})
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    monkeypatch.setattr(downloads, "_cifar10_md5", lambda: sums)  # as if the checksum had matched
    with pytest.raises(ValueError, match=r"refused to rebuild posix.system"):
        load_dataset("cifar10", "test", root=tmp_path)
    assert not marker.exists()


def test_the_restricted_unpickler_rebuilds_what_cifar10_holds():
    batch = {"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [1, 2], "batch_label": "x"}
    for protocol in (2, 4):
        got = downloads._BatchUnpickler(io.BytesIO(pickle.dumps(batch, protocol=protocol)), encoding="latin1").load()
        assert np.array_equal(got["data"], batch["data"]) and got["labels"] == [1, 2]


# ----------------------------------------------------------------------------- archives


def _crafted_tar(path, folder, outside):
    with tarfile.open(path, "w:gz") as tar:
        for name, body in [(f"{folder}/ok.txt", b"ok"), ("../escaped.txt", b"evil"), (str(outside), b"evil")]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


@pytest.mark.parametrize("dataset", ["cifar10", "imagenette"])
@pytest.mark.parametrize("checksum_matches", [False, True])
def test_a_crafted_archive_writes_nothing_outside_the_root(tmp_path, monkeypatch, dataset, checksum_matches):
    """The network is replaced by a local crafted archive; the MD5 pin stops it, and the tar filter would too."""
    import torchvision.datasets.utils as tv_utils

    root, outside = tmp_path / "root", tmp_path / "absolute-escape.txt"
    folder = data.CIFAR10_FOLDER if dataset == "cifar10" else data.IMAGENETTE_FOLDERS["320px"]
    crafted = tmp_path / "crafted.tgz"
    _crafted_tar(crafted, folder, outside)
    monkeypatch.setattr(tv_utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(tv_utils, "_urlretrieve", lambda url, filename, chunk_size=0: crafted.replace(filename))
    if checksum_matches:  # suppose an attacker found an MD5 collision: the extractor's filter still holds
        monkeypatch.setattr(tv_utils, "check_integrity", lambda fpath, md5=None: os.path.exists(fpath))
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        load_dataset(dataset, "val", root=str(root), download=True)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]  # nothing beside the root, crafted.tgz consumed
    assert not outside.exists() and not (tmp_path / "escaped.txt").exists()
    assert not (root / folder).exists()  # nothing half-extracted is left looking like a dataset
