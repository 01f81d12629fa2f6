"""Training with the paper's recipe (Krizhevsky, Sutskever & Hinton 2012, Section 5).

Section 5 in one paragraph: stochastic gradient descent with batches of 128 examples, momentum
0.9 and weight decay 0.0005, in the update rule

    v <- 0.9 * v - 0.0005 * eps * w - eps * dL/dw,      w <- w + v,

an equal learning rate eps for all layers, starting at 0.01 and divided by 10 "when the
validation error rate stopped improving with the current learning rate" (three times in all),
about 90 passes over the training set, weights from N(0, 0.01) and biases of 1 in conv2, conv4,
conv5 and the fully-connected hidden layers. Training images are random crops with horizontal
flips and PCA colour noise (Section 4.1); test error uses the centre crop, or the average of the
softmax over ten crops (Section 4.1, "ten patches").

:class:`TrainConfig` holds that recipe as its defaults (:mod:`alexnet.recipes` names the runs
the book and the command line make) and :func:`train` runs it, on a CPU, one GPU, or several
processes under ``torchrun`` (DistributedDataParallel), shaped as torchvision's
``references/classification/train.py``: set up, then per epoch :func:`train_one_epoch`,
evaluate (:func:`alexnet.evaluate.evaluate_model`) and save. Every epoch writes a resumable
checkpoint and one line of metrics to ``OUT`` (:mod:`alexnet.checkpoint`); a run stopped after
any epoch and resumed gives exactly the metrics of an uninterrupted run on a CPU. Its parts live
beside it: the update rule and schedule in :mod:`alexnet.sgd`, the mixed-precision step in
:mod:`alexnet.step`, the batches in :mod:`alexnet.feeder`, the crops in :mod:`alexnet.augment`,
devices and processes in :mod:`alexnet.distributed`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from alexnet import distributed
from alexnet.checkpoint import RunFolder, TrainingError
from alexnet.cost import memory_line, time_line
from alexnet.distributed import resolve_device
from alexnet.evaluate import evaluate_model
from alexnet.fields import check_types
from alexnet.inputs import ModelInput
from alexnet.mode import is_rehearsal, rehearsed
from alexnet.model import PRESETS, AlexNet, AlexNetConfig
from alexnet.progress import bar, epoch_line, say
from alexnet.state import SETTING, RunState, epoch_seed, run_fields, save, setup
from alexnet.step import PRECISIONS

__all__ = ["TrainConfig", "TrainResult", "RUN_FIELDS", "train", "train_one_epoch"]

# ----------------------------------------------------------------------------- the recipe


def _setting(default: Any) -> Any:
    """A field that says how a run is carried out, not what it computes: a resume may change it (not in RUN_FIELDS)."""
    return field(default=default, metadata=SETTING)


@dataclass
class TrainConfig:
    """One training run. The defaults are Section 5's recipe at the paper's scale.

    ``model_options`` go to :func:`alexnet.build_model` (``width``, ``image_size`` = the crop
    side, ``init``, ``dropout`` ...; ``num_classes`` comes from the dataset), ``dataset_options``
    to :func:`alexnet.data.load_dataset` for both splits, ``val_options`` to the validation split
    only (e.g. a smaller ``num_images``).
    """

    model: str = "paper"
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset: str = "synthetic"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    val_options: dict[str, Any] = field(default_factory=dict)
    data_root: str | os.PathLike = _setting("data")
    download: bool = _setting(False)
    epochs: int = _setting(90)  # Section 5: "roughly 90 cycles through the training set"
    batch_size: int = 128  # Section 5; under torchrun, the global batch over all processes
    lr: float = 0.01  # Section 5: initial learning rate
    momentum: float = 0.9
    weight_decay: float = 0.0005
    optimizer: str = "paper"  # "paper": Section 5's update rule; "torch": torch.optim.SGD
    lr_factor: float = 0.1  # "divide the learning rate by 10"
    lr_patience: int = 2  # epochs without improvement before a division (the paper gives no number)
    lr_drops: int = 3  # the paper divided three times
    augment: str = "paper"  # "paper": crop + flip + PCA colour (4.1); "crop-flip"; "none" (centre crop)
    pca_std: float = 0.1  # Section 4.1: alpha ~ N(0, 0.1)
    ten_crop: bool = _setting(True)  # ten-crop error at the end (Section 4.1)
    seed: int = 0
    device: str = _setting("auto")  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: bool | str = _setting(True)  # on CUDA: bf16 where native, else fp16 + scaler; "bf16"/"fp16": forced, CPU too
    channels_last: bool | str = _setting(True)  # True: on CUDA; "always": on a CPU too; False: never
    compile: bool = _setting(False)  # torch.compile the model
    num_workers: int = _setting(2)  # for datasets that are not held in memory
    out: str | os.PathLike | None = _setting(None)  # checkpoint.pt and metrics.jsonl land here
    resume: bool = _setting(False)  # continue from OUT/checkpoint.pt
    progress: bool = _setting(True)  # a tqdm bar per epoch and one printed line per epoch
    stop_after: int | None = _setting(None)  # stop (as if interrupted) after this epoch; for tests and demos

    def __post_init__(self) -> None:
        _check_values(self)
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.optimizer not in ("paper", "torch"):
            raise ValueError(
                f"optimizer must be 'paper' (Section 5's rule) or 'torch' (torch.optim.SGD), got {self.optimizer!r}"
            )
        if self.augment not in ("paper", "crop-flip", "none"):
            raise ValueError(f"augment must be 'paper', 'crop-flip' or 'none', got {self.augment!r}")
        if not 0 < self.lr_factor < 1:
            raise ValueError(f"lr_factor must lie in (0, 1), got {self.lr_factor!r}")
        if self.lr_patience < 0 or self.lr_drops < 0 or self.momentum < 0 or self.weight_decay < 0:
            raise ValueError("lr_patience, lr_drops, momentum and weight_decay must not be negative")
        if not (isinstance(self.amp, bool) or self.amp in PRECISIONS):
            raise ValueError(f"amp must be True, False, 'bf16' or 'fp16', got {self.amp!r}")
        if not (isinstance(self.channels_last, bool) or self.channels_last == "always"):
            raise ValueError(f"channels_last must be True, False or 'always', got {self.channels_last!r}")
        if self.resume and not self.out:
            raise ValueError("resume=True needs out= (the folder that holds checkpoint.pt)")
        if self.model not in PRESETS:
            raise ValueError(f"unknown model {self.model!r}; known models: {', '.join(PRESETS)}")
        if "num_classes" in self.model_options:
            raise ValueError("num_classes comes from the dataset; set it in dataset_options (synthetic) instead")
        _check_model_options(self.model, self.model_options)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_values(config: TrainConfig) -> None:
    """A ``ValueError`` naming the field unless each has its type (:func:`alexnet.fields.check_types`) and its range."""
    check_types(config)
    if config.stop_after is not None and config.stop_after < 1:
        raise ValueError(f"stop_after must be None or a positive integer, got {config.stop_after!r}")
    if not 0 <= config.seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {config.seed!r}")
    if config.num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {config.num_workers!r}")


def _check_model_options(model: str, options: dict[str, Any]) -> None:
    """The model options' names, types and values, checked now rather than after the data is loaded."""
    known = {f.name for f in dataclasses.fields(AlexNetConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown model option(s) {unknown}; options are: {', '.join(sorted(known))}")
    options = dict(options)
    if isinstance(options.get("conv_channels"), list):
        options["conv_channels"] = tuple(options["conv_channels"])
    dataclasses.replace(PRESETS[model], **options)  # AlexNetConfig names the field and what it expects


# Fields that define what a checkpoint contains; a resumed run must agree on all of them.
RUN_FIELDS = run_fields(TrainConfig)


@dataclass
class TrainResult:
    """What :func:`train` hands back: the trained model (on its device), the metrics, where things are."""

    model: AlexNet
    history: list[dict[str, Any]]
    final: dict[str, Any]
    out: Path | None
    inputs: ModelInput  # the network's input convention, with the training set's mean image
    classes: list[str]
    train_set: Any = None
    val_set: Any = None


# ----------------------------------------------------------------------------- the loop


def train_one_epoch(run: RunState, epoch: int) -> dict[str, float]:
    """One pass over the training set in this epoch's order: loss, top-1 error (summed over processes), speed."""
    config, device, steps = run.config, run.device, run.steps
    order = torch.randperm(
        len(run.train_data), generator=torch.Generator().manual_seed(epoch_seed(config.seed, epoch, 1))
    )
    order = order[: steps * config.batch_size].view(steps, config.batch_size)[:, run.rank :: run.world].reshape(-1)
    # crops, flips and colour draws come from a generator on the device: no host round trip per step
    run.augment.generator = torch.Generator(device=device).manual_seed(epoch_seed(config.seed, epoch, 2, run.rank))
    lr = run.optimizer.param_groups[0]["lr"]
    run.step.train_model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    wrong = torch.zeros((), dtype=torch.float64, device=device)
    check_every = 1 if device.type == "cpu" else 50  # .item() waits for the GPU
    progress = bar(steps, f"epoch {epoch}/{config.epochs}", run.talk)
    distributed.synchronize(device)
    tic = time.perf_counter()
    try:
        for i, (images, labels) in enumerate(run.train_data.batches(order, run.local_batch)):
            loss, logits = run.step(run.augment(run.inputs(images)), labels)
            loss_sum += loss.double() * len(labels)
            wrong += (logits.argmax(dim=1) != labels).sum()
            if (i + 1) % check_every == 0 or i + 1 == steps:
                _check_finite(loss_sum, epoch, i + 1, run.out, run.history)
            if progress is not None:
                progress.update(1)
                if (i + 1) % check_every == 0 or i + 1 == steps:
                    progress.set_postfix(loss=f"{loss.item():.3f}", refresh=False)  # redraws follow mininterval
    except torch.cuda.OutOfMemoryError:
        raise TrainingError(
            f"out of GPU memory at batch size {config.batch_size}: lower it, e.g. --batch-size {max(1, config.batch_size // 2)}"
        ) from None
    finally:
        if progress is not None:
            progress.close()
    distributed.synchronize(device)
    seconds = time.perf_counter() - tic
    totals = distributed.all_reduce(torch.stack([loss_sum, wrong]), run.world)
    seen = steps * config.batch_size
    return {"loss": totals[0].item() / seen, "top1_error": totals[1].item() / seen, "lr": lr, "seconds": seconds}


def _evaluate(run: RunState, ten_crop: bool) -> dict[str, float]:
    """The validation split through the step's precision, shared out over the processes."""
    batch = max(run.local_batch, 64 if ten_crop else 256)
    return evaluate_model(
        run.model, run.val_data, run.inputs, run.model.config.image_size, batch, run.device, ten_crop,
        run.step.forward, (run.rank, run.world),
    )  # fmt: skip


def train(config: TrainConfig) -> TrainResult:
    """Run the recipe of ``config``; see the module docstring. Raises :class:`TrainingError` for a run that cannot go on.

    With ``out``, the first process holds the folder's lock for the whole run (a second run into
    the same folder refuses) and the folder is checked for writing before anything is trained.
    """
    device = resolve_device(config.device)
    rank, world, local_rank = distributed.init(device)
    config = _rehearsed(config, talk=config.progress and rank == 0)
    if config.out and rank == 0:
        with RunFolder(config.out):
            return _train(config, device, rank, world, local_rank)
    return _train(config, device, rank, world, local_rank)


def _rehearsed(config: TrainConfig, talk: bool) -> TrainConfig:
    """In a rehearsal (:func:`alexnet.mode.is_rehearsal`) the same run at a CPU's amounts: fewer epochs, a smaller
    batch and (synthetic data) fewer images; the model, data set, recipe and every code path stay."""
    if not is_rehearsal():
        return config
    images = config.dataset_options.get("num_images")  # synthetic data: how many images to draw
    shrink = {} if images is None else {"num_images": rehearsed(images, "images")}
    small = dataclasses.replace(
        config,
        epochs=rehearsed(config.epochs, "epochs"),
        batch_size=rehearsed(config.batch_size, "batch_size"),
        dataset_options={**config.dataset_options, **shrink},
        val_options={**config.val_options, **shrink},
    )
    say(talk, f"rehearsal: {small.epochs} epochs of batch {small.batch_size} instead of {config.epochs} of "
              f"{config.batch_size}" + (f", {shrink['num_images']} images per split" if shrink else ""))  # fmt: skip
    return small


def _train(config: TrainConfig, device: torch.device, rank: int, world: int, local_rank: int) -> TrainResult:
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", local_rank)
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} must divide evenly over {world} processes")
    run = setup(config, device, rank, world)
    to_go = config.epochs - run.start + 1  # none when a finished run is resumed
    if to_go > 0 and (
        device.type == "cuda" or is_rehearsal()
    ):  # a GPU's run takes minutes to hours: say how long first
        say(run.talk, time_line(run.model, len(run.train_data), to_go))
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
        say(run.talk, memory_line(run.model, run.local_batch, free, 4 if run.step.dtype is None else 2))
    started = time.perf_counter()
    for epoch in range(run.start, config.epochs + 1):
        trained = train_one_epoch(run, epoch)
        val = _evaluate(run, ten_crop=False)
        seen = run.steps * config.batch_size
        record = {
            "epoch": epoch,
            "train_loss": trained["loss"],
            "train_top1_error": trained["top1_error"],
            "val_loss": val["loss"],
            "val_top1_error": val["top1_error"],
            "val_top5_error": val["top5_error"],
            "lr": trained["lr"],
            "images_per_second": seen / trained["seconds"],
            "epoch_seconds": trained["seconds"],
        }
        run.scheduler.step(val["top1_error"])
        last = epoch == config.epochs
        if last and config.ten_crop:
            ten = _evaluate(run, ten_crop=True)
            record["val_ten_crop_top1_error"] = ten["top1_error"]
            record["val_ten_crop_top5_error"] = ten["top5_error"]
        run.history.append(record)
        left = (time.perf_counter() - started) / (epoch - run.start + 1) * (config.epochs - epoch)  # at this pace
        say(run.talk, epoch_line(record, config.epochs, left))
        if run.out and rank == 0:
            save(run, epoch)
        distributed.barrier(world)
        if config.stop_after is not None and epoch >= config.stop_after and not last:
            say(
                run.talk,
                f"stopped after epoch {epoch} as asked (stop_after); resume with the same options and resume=True",
            )
            break
    final = dict(run.history[-1]) if run.history else {}
    return TrainResult(
        run.model, run.history, final, run.out, run.inputs.to("cpu"), run.classes, run.train_set, run.val_set
    )


def _check_finite(loss_sum: torch.Tensor, epoch: int, step_index: int, out: Path | None, history: list) -> None:
    value = loss_sum.item()
    if math.isfinite(value):
        return
    kept = (
        f"the last good checkpoint (epoch {history[-1]['epoch']}) is kept in {out}"
        if out and history
        else "no checkpoint was written"
    )
    raise TrainingError(
        f"the training loss became {'NaN' if math.isnan(value) else 'infinite'} in epoch {epoch} by step "
        f"{step_index}: training stopped; {kept}. A smaller learning rate (--lr) usually avoids this"
    )
