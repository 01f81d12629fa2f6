"""The trainer (alexnet.training.loop): exact resume, a run that goes wrong, the full-mode recipe on a CPU."""

import dataclasses
import json

import pytest
import torch

from alexnet.training.checkpoint import load_checkpoint, model_from_checkpoint, read_metrics
from alexnet.training.config import TrainConfig
from alexnet.training.errors import TrainingError
from alexnet.training.loop import train
from alexnet.training.recipes import CHAPTER_8_FULL
from alexnet.training.run_folder import CHECKPOINT_NAME, METRICS_NAME
from alexnet.training.step import TrainStep

TIMING = ("images_per_second", "epoch_seconds")


@pytest.fixture(scope="module")
def tiny(tiny_config):
    """Three epochs of 192 images, ten-crop error at the end."""
    return tiny_config(dataset_options={"num_images": 192}, val_options={"num_images": 64}, epochs=3, ten_crop=True)


def test_resume_after_epoch_one_gives_the_metrics_of_an_uninterrupted_run(tiny, tmp_path):
    whole = train(dataclasses.replace(tiny, out=str(tmp_path / "whole")))
    train(dataclasses.replace(tiny, out=str(tmp_path / "parts"), stop_after=1))
    assert [r["epoch"] for r in read_metrics(tmp_path / "parts")] == [1]
    resumed = train(dataclasses.replace(tiny, out=str(tmp_path / "parts"), resume=True))

    def strip(history):
        return [{k: v for k, v in r.items() if k not in TIMING} for r in history]

    assert strip(read_metrics(tmp_path / "whole")) == strip(read_metrics(tmp_path / "parts"))  # bitwise on CPU
    assert strip(whole.history) == strip(resumed.history)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    record = read_metrics(tmp_path / "whole")[-1]
    for key in ("epoch", "train_loss", "val_top1_error", "val_top5_error", "lr", "val_ten_crop_top1_error"):
        assert key in record
    checkpoint = load_checkpoint(tmp_path / "whole")
    assert checkpoint["epoch"] == 3 and {"model", "optimizer", "scheduler", "rng", "config"} <= set(checkpoint)
    model = model_from_checkpoint(checkpoint)
    assert not model.training and model.config.num_classes == 4
    assert not list(tmp_path.glob("*/.*tmp*"))  # atomic writes leave no temporary files


def test_resume_refuses_a_checkpoint_of_another_run(tiny, tmp_path):
    out = str(tmp_path / "run")
    train(dataclasses.replace(tiny, out=out, epochs=1, ten_crop=False))
    other = dataclasses.replace(tiny, out=out, resume=True, model_options={**tiny.model_options, "width": 0.25})
    with pytest.raises(TrainingError, match="belongs to another run.*width"):
        train(other)
    with pytest.raises(TrainingError, match="not a readable checkpoint"):
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
        load_checkpoint(tmp_path / "bad")


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = TrainStep.__call__

    def poisoned(self, x, y):
        calls["n"] += 1
        loss, logits = real(self, x, y)
        return (loss * float("nan"), logits) if calls["n"] > 6 else (loss, logits)  # 6 steps = epoch 1

    monkeypatch.setattr(TrainStep, "__call__", poisoned)
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match="became NaN in epoch 2.*epoch 1\\) is kept"):
        train(dataclasses.replace(tiny, out=str(out), ten_crop=False))
    assert load_checkpoint(out)["epoch"] == 1
    assert [json.loads(line)["epoch"] for line in (out / METRICS_NAME).read_text().splitlines()] == [1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error(tiny):
    with pytest.raises(TrainingError, match="asks for a GPU"):
        train(dataclasses.replace(tiny, device="cuda"))


def test_bad_configs_are_named(tiny):
    with pytest.raises(ValueError, match="optimizer must be"):
        TrainConfig(optimizer="adam")
    with pytest.raises(ValueError, match="resume=True needs out"):
        TrainConfig(resume=True)
    with pytest.raises(ValueError, match="smaller than the model's crop"):
        train(dataclasses.replace(tiny, model_options={**tiny.model_options, "image_size": 99}))


def test_full_mode_configuration_runs_one_step():
    """The chapter's full-mode recipe (the paper's model, width and crop) for one step on a CPU."""
    full = CHAPTER_8_FULL
    assert full.model == "paper" and full.batch_size == 128 and full.lr == 0.01 and full.epochs >= 30
    one_step = dataclasses.replace(
        full,
        dataset="synthetic",
        dataset_options={"num_images": 4, "image_size": 256, "num_classes": 4},
        val_options={"num_images": 4},
        batch_size=4,
        epochs=1,
        ten_crop=False,
        progress=False,
        out=None,
    )
    result = train(one_step)
    assert result.model.config.image_size == 227 and result.model.config.width == 1.0
    assert torch.isfinite(torch.tensor(result.final["train_loss"]))
