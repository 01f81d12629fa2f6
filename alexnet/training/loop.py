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

:class:`TrainConfig` holds that recipe as its defaults (:mod:`alexnet.training.recipes` names the runs
the book and the command line make) and :func:`train` runs it, on a CPU, one GPU, or several
processes under ``torchrun`` (DistributedDataParallel), shaped as torchvision's
``references/classification/train.py``: set up, then per epoch :func:`train_one_epoch`,
evaluate (:func:`alexnet.training.evaluate.evaluate_model`) and save. Every epoch writes a resumable
checkpoint and one line of metrics to ``OUT`` (:mod:`alexnet.training.checkpoint`); a run stopped after
any epoch and resumed gives exactly the metrics of an uninterrupted run on a CPU. Its parts live
beside it: the update rule and schedule in :mod:`alexnet.training.sgd`, the mixed-precision step in
:mod:`alexnet.training.step`, the batches in :mod:`alexnet.data.feeder`, the crops in :mod:`alexnet.data.augment`,
devices and processes in :mod:`alexnet.training.distributed`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from alexnet.chapters.mode import is_rehearsal, rehearsed
from alexnet.data.inputs import ModelInput
from alexnet.nn.model import AlexNet
from alexnet.training import distributed
from alexnet.training.config import TrainConfig
from alexnet.training.cost import memory_line, time_line
from alexnet.training.distributed import resolve_device
from alexnet.training.errors import TrainingError
from alexnet.training.evaluate import evaluate_model
from alexnet.training.progress import bar, epoch_line, say
from alexnet.training.run_folder import RunFolder
from alexnet.training.state import RunState, epoch_seed, save, setup

__all__ = ["TrainResult", "train", "train_one_epoch"]


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
    """In a rehearsal (:func:`alexnet.chapters.mode.is_rehearsal`) the same run at a CPU's amounts: fewer epochs, a smaller
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
