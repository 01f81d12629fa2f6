"""The trainer: Section 5's update rule, the learning-rate schedule, exact resume, and failures."""

import dataclasses
import json

import pytest
import torch
from torch import nn

from alexnet.training.checkpoint import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    TrainingError,
    load_checkpoint,
    model_from_checkpoint,
    read_metrics,
)
from alexnet.training.config import TrainConfig
from alexnet.training.loop import train
from alexnet.training.recipes import CHAPTER_8_FULL
from alexnet.training.sgd import PaperSGD, make_scheduler
from alexnet.training.step import TrainStep

TINY = TrainConfig(
    model_options={"width": 0.125, "image_size": 67, "init": "kaiming", "input_convention": "torchvision"},
    dataset_options={"num_images": 192, "image_size": 72, "num_classes": 4},
    val_options={"num_images": 64},
    epochs=3,
    batch_size=32,
    ten_crop=True,
    progress=False,
)
TIMING = ("images_per_second", "epoch_seconds")


def _steps(opt_class, lrs, **kw):
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    opt = opt_class(layer.parameters(), lr=lrs[0], momentum=0.9, weight_decay=5e-4, **kw)
    g = torch.Generator().manual_seed(1)
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = lr
        x = torch.randn(8, 4, generator=g)
        layer.zero_grad()
        layer(x).pow(2).mean().backward()
        opt.step()
    return layer.weight.detach().clone()


def test_paper_sgd_is_section_5s_rule():
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = PaperSGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad = torch.tensor([0.3, 0.4])
    opt.step()  # v = -0.5*0.1*w - 0.1*g ; w = w + v
    v1 = -0.05 * torch.tensor([1.0, -2.0]) - 0.1 * torch.tensor([0.3, 0.4])
    assert torch.allclose(w.detach(), torch.tensor([1.0, -2.0]) + v1)
    w0 = w.detach().clone()
    w.grad = torch.tensor([-0.1, 0.2])
    opt.step()
    v2 = 0.9 * v1 - 0.05 * w0 - 0.1 * torch.tensor([-0.1, 0.2])
    assert torch.allclose(w.detach(), w0 + v2)


def test_paper_sgd_equals_torch_sgd_until_the_learning_rate_changes():
    fixed = [0.05] * 6
    assert torch.allclose(_steps(PaperSGD, fixed), _steps(torch.optim.SGD, fixed), atol=1e-6)
    dropped = [0.05] * 3 + [0.005] * 3  # after a division the old velocity still carries the old rate
    assert not torch.allclose(_steps(PaperSGD, dropped), _steps(torch.optim.SGD, dropped), atol=1e-4)


def test_schedule_divides_by_ten_when_error_stalls_at_most_three_times():
    opt = PaperSGD([nn.Parameter(torch.zeros(1))], lr=0.01)
    sched = make_scheduler(opt, TrainConfig(lr=0.01, lr_patience=1))
    lrs = []
    for error in [0.5, 0.4, 0.4, 0.4] + [0.4] * 12:
        sched.step(error)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[:2] == [0.01, 0.01]
    assert lrs[3] == pytest.approx(0.001)
    assert sorted({round(lr, 9) for lr in lrs}) == [1e-05, 1e-04, 1e-03, 1e-02]
    assert lrs[-1] == pytest.approx(1e-5)


def test_resume_after_epoch_one_gives_the_metrics_of_an_uninterrupted_run(tmp_path):
    whole = train(dataclasses.replace(TINY, out=str(tmp_path / "whole")))
    train(dataclasses.replace(TINY, out=str(tmp_path / "parts"), stop_after=1))
    assert [r["epoch"] for r in read_metrics(tmp_path / "parts")] == [1]
    resumed = train(dataclasses.replace(TINY, out=str(tmp_path / "parts"), resume=True))

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


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    out = str(tmp_path / "run")
    train(dataclasses.replace(TINY, out=out, epochs=1, ten_crop=False))
    other = dataclasses.replace(TINY, out=out, resume=True, model_options={**TINY.model_options, "width": 0.25})
    with pytest.raises(TrainingError, match="belongs to another run.*width"):
        train(other)
    with pytest.raises(TrainingError, match="not a readable checkpoint"):
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
        load_checkpoint(tmp_path / "bad")


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = TrainStep.__call__

    def poisoned(self, x, y):
        calls["n"] += 1
        loss, logits = real(self, x, y)
        return (loss * float("nan"), logits) if calls["n"] > 6 else (loss, logits)  # 6 steps = epoch 1

    monkeypatch.setattr(TrainStep, "__call__", poisoned)
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match="became NaN in epoch 2.*epoch 1\\) is kept"):
        train(dataclasses.replace(TINY, out=str(out), ten_crop=False))
    assert load_checkpoint(out)["epoch"] == 1
    assert [json.loads(line)["epoch"] for line in (out / METRICS_NAME).read_text().splitlines()] == [1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(TrainingError, match="asks for a GPU"):
        train(dataclasses.replace(TINY, device="cuda"))


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="optimizer must be"):
        TrainConfig(optimizer="adam")
    with pytest.raises(ValueError, match="resume=True needs out"):
        TrainConfig(resume=True)
    with pytest.raises(ValueError, match="smaller than the model's crop"):
        train(dataclasses.replace(TINY, model_options={**TINY.model_options, "image_size": 99}))


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


def test_figure_3_and_4_helpers():
    import matplotlib

    matplotlib.use("Agg")
    from alexnet.chapters.plots import kernel_tiles, plot_kernels, plot_neighbours, plot_training
    from alexnet.data.inputs import ModelInput
    from alexnet.nn.model import build_model
    from alexnet.training.evaluate import fc7_features, nearest_neighbours

    model = build_model("paper", num_classes=4, width=0.125, image_size=67)
    tiles = kernel_tiles(model.features[0].weight)
    assert tiles.shape == (12, 11, 11, 3) and tiles.min() >= 0 and tiles.max() <= 1
    assert len(plot_kernels(model.features[0].weight, columns=6).axes) == 12
    images = torch.randint(0, 256, (5, 3, 72, 72), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    features = fc7_features(model, images, ModelInput.fit(model, images))
    assert features.shape == (5, model.config.hidden) and (features >= 0).all()
    idx, dist = nearest_neighbours(features[:2], features, k=3)
    assert idx[:, 0].tolist() == [0, 1] and torch.allclose(dist[:, 0], torch.zeros(2), atol=1e-3)
    assert len(plot_neighbours(images[:2], images[idx]).axes) == 8
    history = [
        {"epoch": e, "train_loss": 1 / e, "val_top1_error": 0.5 / e, "val_top5_error": 0.1, "lr": 0.01} for e in (1, 2)
    ]
    assert len(plot_training(history).axes) == 3
