"""A run's state between epochs: built fresh, or restored from its checkpoint, and saved back.

The first half of torchvision's ``references/classification/train.py`` ``main()``: load the
splits, build the network, its input convention (Section 2), the optimiser and schedule
(Section 5, :mod:`alexnet.training.sgd`), the training step (:mod:`alexnet.training.step`) and the augmentation
(Section 4.1); on a resume, restore each of them and every random-number state from
``OUT/checkpoint.pt``, after checking that the checkpoint belongs to this run. :func:`save`
writes the same things back. What the file format guarantees is :mod:`alexnet.training.checkpoint`'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from alexnet.data import augment as aug
from alexnet.data.feeder import Feeder, load_splits
from alexnet.data.inputs import ModelInput
from alexnet.nn.model import AlexNet, build_model
from alexnet.training.checkpoint import (
    CHECKPOINT_FORMAT,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
    write_metrics,
)
from alexnet.training.config import run_fields
from alexnet.training.errors import TrainingError
from alexnet.training.progress import say
from alexnet.training.run_folder import CHECKPOINT_NAME, holds_a_run, refuse_to_overwrite
from alexnet.training.sgd import make_optimizer, make_scheduler
from alexnet.training.step import TrainStep

__all__ = ["RunState", "setup", "save", "epoch_seed"]


@dataclass
class RunState:
    """What one process of a run holds between epochs: built by :func:`setup`, used by the loop."""

    config: Any  # the run's TrainConfig
    device: torch.device
    rank: int
    world: int
    out: Path | None
    talk: bool  # this process prints
    train_set: Any
    val_set: Any
    train_data: Feeder
    val_data: Feeder
    classes: list[str]
    model: AlexNet
    inputs: ModelInput
    optimizer: torch.optim.Optimizer
    scheduler: Any
    step: TrainStep
    augment: aug.Augment
    history: list[dict[str, Any]]
    start: int  # the first epoch to train

    @property
    def local_batch(self) -> int:
        return self.config.batch_size // self.world

    @property
    def steps(self) -> int:
        return len(self.train_data) // self.config.batch_size


def _resume_checkpoint(config, out: Path | None, device, lead: bool, talk: bool) -> dict | None:
    """The checkpoint a resumed run continues (None for a new run), checked against ``config``."""
    refuse_to_overwrite(out, config.resume)
    if not config.resume:
        return None
    if not holds_a_run(out):
        say(talk, f"no checkpoint in {out} yet: starting from epoch 1")
        return None
    checkpoint = load_checkpoint(out, map_location="cpu")
    _check_same_run(checkpoint["config"], config, out)
    if lead:  # checkpoint first, metrics from it: a crash between the two writes loses no record
        write_metrics(checkpoint["history"], out)
    _check_resume(checkpoint, config, device, out, lead)
    return checkpoint


def _model_and_inputs(config, checkpoint, train_data: Feeder, classes, out) -> tuple[AlexNet, ModelInput]:
    """The network (seeded from the run's seed, or the checkpoint's weights) and what it is fed (Section 2)."""
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model = build_model(config.model, num_classes=len(classes), **config.model_options)
    if checkpoint:  # the input convention and mean image are the checkpoint's on a resume
        try:
            inputs = ModelInput.from_state(checkpoint["inputs"])
        except ValueError as e:
            raise TrainingError(f"the checkpoint in {out} holds a bad input convention: {e}") from None
    else:
        inputs = ModelInput.fit(model, train_data.mean_sample())
    size = model.config.image_size
    side = train_data.sample(1).shape[-1] if not train_data.in_memory else train_data.images.shape[-1]
    if side < size:
        raise ValueError(f"the {config.dataset} images are {side} pixels wide, smaller than the model's crop of {size}")
    if checkpoint:
        try:
            model.load_state_dict(checkpoint["model"])
        except RuntimeError as e:
            raise TrainingError(f"the checkpoint in {out} holds another network: {str(e).splitlines()[0]}") from None
    return model, inputs


def setup(config, device: torch.device, rank: int, world: int) -> RunState:
    """Data, model, optimiser, schedule, step and augmentation of a run, restored from its checkpoint on a resume."""
    out = Path(config.out) if config.out else None
    talk = config.progress and rank == 0
    checkpoint = _resume_checkpoint(config, out, device, rank == 0, talk)
    train_set, val_set = load_splits(config)
    train_data = Feeder(train_set, device, config.num_workers)
    val_data = Feeder(val_set, device, config.num_workers)
    classes = list(getattr(train_set, "classes", []))
    if not classes:
        raise ValueError(f"dataset {config.dataset!r} does not name its classes (.classes)")
    model, inputs = _model_and_inputs(config, checkpoint, train_data, classes, out)
    inputs = inputs.to(device)
    model.to(device)
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config)
    if checkpoint:
        try:
            optimizer.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
        except (ValueError, KeyError, TypeError) as e:
            raise TrainingError(
                f"the checkpoint in {out} holds an optimiser or schedule state that does not fit this run ({e}): "
                "it was edited or damaged; use another copy, or start a new run"
            ) from None
    step = TrainStep(model, optimizer, device, config.amp, config.channels_last, config.compile, distributed=world > 1)
    if checkpoint and "scaler" in checkpoint:
        step.scaler.load_state_dict(checkpoint["scaler"])
    size = model.config.image_size
    augment = aug.training_augment(config.augment, size, train_data.sample(), inputs, config.pca_std)
    start = checkpoint["epoch"] + 1 if checkpoint else 1
    if checkpoint:
        set_rng_states(checkpoint["rng"])
        if world > 1:  # each process needs its own dropout stream
            torch.manual_seed(epoch_seed(config.seed, start, 3, rank))
        say(talk, f"resumed from {out / CHECKPOINT_NAME} after epoch {checkpoint['epoch']}")
    elif world > 1:
        torch.manual_seed(epoch_seed(config.seed, 0, 3, rank))
    history = list(checkpoint["history"]) if checkpoint else []
    run = RunState(config, device, rank, world, out, talk, train_set, val_set, train_data, val_data, classes, model,
               inputs, optimizer, scheduler, step, augment, history, start)  # fmt: skip
    if run.steps < 1:
        raise ValueError(f"the training set has {len(train_data)} images, fewer than one batch of {config.batch_size}")
    return run


def epoch_seed(seed: int, epoch: int, stream: int, rank: int = 0) -> int:
    """A seed per (run, epoch, stream, process): the data order and crops of an epoch never depend on earlier epochs."""
    return (seed * 1_000_003 + epoch * 7919 + stream * 104_729 + rank * 15_485_863) % (2**63)


def save(run: RunState, epoch: int) -> None:
    """The checkpoint (the truth, first), then metrics.jsonl rewritten from its history."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "config": run.config.to_dict(),
        "model_config": dataclasses.asdict(run.model.config),
        "model": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "scaler": run.step.scaler.state_dict(),
        "rng": rng_states(),
        "history": run.history,
        "inputs": run.inputs.to("cpu").state(),
        "classes": run.classes,
        "cpu_threads": torch.get_num_threads(),
    }
    with _signals_deferred():  # a SIGTERM or Ctrl-C here waits until both files agree
        save_checkpoint(state, run.out, kept_epoch=run.history[-2]["epoch"] if len(run.history) > 1 else None)
        write_metrics(run.history, run.out)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM back while the block runs; one that arrived meanwhile is raised again after it.

    (A signal mask would not do: the kernel hands a blocked signal to another of torch's threads.)"""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers, and only it runs Python's signal handlers
        return
    caught: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])


def _check_same_run(saved: dict[str, Any], config, where: Path) -> None:
    now = config.to_dict()
    differ = [k for k in run_fields(type(config)) if _jsonable(saved.get(k)) != _jsonable(now.get(k))]
    if differ:
        details = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, now {now.get(k)!r}" for k in differ)
        raise TrainingError(
            f"the checkpoint in {where} belongs to another run ({details}); "
            "resume with the same options, or start a new run in another --out folder"
        )


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, sort_keys=True, default=str))


def _check_resume(checkpoint: dict[str, Any], config, device: torch.device, out: Path, lead: bool) -> None:
    """Say what a resume cannot honour: fewer epochs than the checkpoint has, or another CPU thread count."""
    done = checkpoint["epoch"]
    if done > config.epochs:
        raise TrainingError(
            f"the checkpoint in {out} is after epoch {done}, past epochs={config.epochs}: nothing to train. "
            f"Evaluate it with `python -m alexnet evaluate {out}`, or resume with --epochs above {done}"
        )
    threads = checkpoint.get("cpu_threads")
    if lead and device.type == "cpu" and threads is not None and threads != torch.get_num_threads():
        print(
            f"note: the checkpoint in {out} was trained with {threads} CPU thread(s), this process uses "
            f"{torch.get_num_threads()}: the resumed run will not be bit-exact with an uninterrupted one "
            f"(set OMP_NUM_THREADS={threads} or torch.set_num_threads({threads}) for that)",
            file=sys.stderr,
            flush=True,
        )
