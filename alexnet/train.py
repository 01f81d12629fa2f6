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

:class:`TrainConfig` holds that recipe as its defaults and :func:`train` runs it, on a CPU, one
GPU, or several processes under ``torchrun`` (DistributedDataParallel). Every epoch writes a
resumable checkpoint and one line of metrics to ``OUT``; a run stopped after any epoch and
resumed gives exactly the metrics of an uninterrupted run on a CPU.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from alexnet import augment as aug
from alexnet.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_NAME,
    METRICS_NAME,
    RunFolder,
    TrainingError,
    load_checkpoint,
    model_from_checkpoint,
    read_metrics,
    rng_states,
    save_checkpoint,
    set_rng_states,
    write_metrics,
)
from alexnet.data import load_dataset
from alexnet.evaluate import topk_error
from alexnet.inputs import ModelInput
from alexnet.lrn import LRN_IMPLS, LocalResponseNorm
from alexnet.model import AlexNet, build_model

__all__ = [
    "TrainConfig",
    "TrainResult",
    "chapter_config",
    "TrainingError",
    "PaperSGD",
    "TrainStep",
    "resolve_device",
    "autocast_dtype",
    "use_channels_last",
    "choose_lrn",
    "lrn_timings",
    "make_optimizer",
    "make_scheduler",
    "train",
    "load_checkpoint",
    "model_from_checkpoint",
    "evaluate_model",
    "read_metrics",
    "CHECKPOINT_NAME",
    "METRICS_NAME",
]

# ----------------------------------------------------------------------------- the recipe


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
    data_root: str = "data"
    download: bool = False
    epochs: int = 90  # Section 5: "roughly 90 cycles through the training set"
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
    ten_crop: bool = True  # ten-crop error at the end (Section 4.1)
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: bool | str = True  # on CUDA: bf16 where native, else fp16 + scaler; "bf16"/"fp16": forced, CPU too
    channels_last: bool | str = True  # True: on CUDA; "always": on a CPU too; False: never
    compile: bool = False  # torch.compile the model
    num_workers: int = 2  # for datasets that are not held in memory
    out: str | None = None  # checkpoint.pt and metrics.jsonl land here
    resume: bool = False  # continue from OUT/checkpoint.pt
    progress: bool = True  # a tqdm bar per epoch and one printed line per epoch
    stop_after: int | None = None  # stop (as if interrupted) after this epoch; for tests and demos

    def __post_init__(self) -> None:
        _check_types(self)
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
        from alexnet.model import PRESETS

        if self.model not in PRESETS:
            raise ValueError(f"unknown model {self.model!r}; known models: {', '.join(PRESETS)}")
        if "num_classes" in self.model_options:
            raise ValueError("num_classes comes from the dataset; set it in dataset_options (synthetic) instead")
        _check_model_options(self.model, self.model_options)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_TYPES: dict[str, tuple[str, ...]] = {
    "integer": ("epochs", "batch_size", "lr_patience", "lr_drops", "seed", "num_workers"),
    "number": ("lr", "momentum", "weight_decay", "lr_factor", "pca_std"),
    "bool": ("download", "ten_crop", "compile", "resume", "progress"),  # amp, channels_last: checked in __post_init__
    "string": ("model", "dataset", "optimizer", "augment", "device"),
    "dict": ("model_options", "dataset_options", "val_options"),
}


def _check_types(config: TrainConfig) -> None:
    """A ``ValueError`` naming the field unless each has its type (integers, finite numbers, booleans, strings)."""
    import numbers

    def fail(name: str, expected: str) -> None:
        value = getattr(config, name)
        raise ValueError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")

    for name in _TYPES["integer"]:
        value = getattr(config, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            fail(name, "an integer")
    for name in _TYPES["number"]:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            fail(name, "a finite number")
    for name in _TYPES["bool"]:
        if not isinstance(getattr(config, name), bool):
            fail(name, "True or False")
    for name in _TYPES["string"]:
        if not isinstance(getattr(config, name), str):
            fail(name, "a string")
    for name in _TYPES["dict"]:
        if not isinstance(getattr(config, name), dict):
            fail(name, "a dict of options")
    for name in ("data_root", "out"):
        value = getattr(config, name)
        if not (isinstance(value, (str, os.PathLike)) or (name == "out" and value is None)):
            fail(name, "a path" + (" or None" if name == "out" else ""))
    if config.stop_after is not None and (not isinstance(config.stop_after, numbers.Integral) or config.stop_after < 1):
        fail("stop_after", "None or a positive integer")
    if not 0 <= config.seed < 2**63:
        fail("seed", "an integer in [0, 2**63)")
    if config.num_workers < 0:
        fail("num_workers", "a non-negative integer")


def _check_model_options(model: str, options: dict[str, Any]) -> None:
    """The model options' names, types and values, checked now rather than after the data is loaded."""
    from alexnet.model import PRESETS, AlexNetConfig

    known = {f.name for f in dataclasses.fields(AlexNetConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown model option(s) {unknown}; options are: {', '.join(sorted(known))}")
    options = dict(options)
    if isinstance(options.get("conv_channels"), list):
        options["conv_channels"] = tuple(options["conv_channels"])
    dataclasses.replace(PRESETS[model], **options)  # AlexNetConfig names the field and what it expects


def chapter_config(quick: bool, out: str | None = None) -> TrainConfig:
    """The run of the training chapter: reduced scale on synthetic data (quick) or the paper's recipe on Imagenette.

    Quick: 8 synthetic classes, 3,072 images at 76 px cropped to 67 with distractor blobs and a
    contrast that varies per image, width 0.25, He init with standardised inputs (the paper's
    N(0, 0.01) leaves so narrow a network at ln(classes) for many epochs), batch 64, 8 epochs, the
    learning rate divided by 10 after one epoch without a new best validation error (the paper
    waited longer; a CPU-minute run must show at least one division). Full: the paper's model,
    recipe and initialisation on Imagenette (10 ImageNet classes, 256 px cropped to 227),
    downloaded on first use.
    """
    if quick:
        return TrainConfig(
            model_options={"width": 0.25, "image_size": 67, "init": "kaiming", "input_convention": "torchvision"},
            dataset_options={"num_images": 3072, "image_size": 76, "num_classes": 8, "clutter": 2, "contrast": 0.5},
            val_options={"num_images": 1024},
            epochs=8,
            batch_size=64,
            lr_patience=0,
            out=out,
            progress=False,
        )
    return TrainConfig(dataset="imagenette", download=True, out=out)


# Fields that define what a checkpoint contains; a resumed run must agree on all of them.
RUN_FIELDS = (
    "model",
    "model_options",
    "dataset",
    "dataset_options",
    "val_options",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "optimizer",
    "lr_factor",
    "lr_patience",
    "lr_drops",
    "augment",
    "pca_std",
    "seed",
)


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


# ----------------------------------------------------------------------------- optimiser


class PaperSGD(torch.optim.Optimizer):
    """Section 5's update, literally: v <- m v - wd eps w - eps g; w <- w + v.

    ``torch.optim.SGD`` keeps a velocity of gradients, b <- m b + (g + wd w), and steps
    w <- w - eps b. While eps stays fixed the two are the same sequence of weights (v = -eps b).
    They part when eps changes: here the velocity was built with the old eps and decays over
    about 1 / (1 - m) = 10 steps, so a division by 10 takes effect gradually; torch's rule
    multiplies its whole velocity by the new eps at once. :func:`make_optimizer` offers both.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0005) -> None:
        if lr <= 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"need lr > 0, momentum >= 0, weight_decay >= 0; got {lr}, {momentum}, {weight_decay}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            grads = [p.grad for p in params]
            velocity = []
            for p in params:
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                velocity.append(state["velocity"])
            # v <- m v - wd lr w - lr g   (one fused pass over all tensors of the group)
            torch._foreach_mul_(velocity, m)
            if wd:
                torch._foreach_add_(velocity, params, alpha=-wd * lr)
            torch._foreach_add_(velocity, grads, alpha=-lr)
            # w <- w + v
            torch._foreach_add_(params, velocity)
        return loss


def make_optimizer(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser the config names: ``"paper"`` (:class:`PaperSGD`) or ``"torch"`` (``torch.optim.SGD``)."""
    if config.optimizer == "paper":
        return PaperSGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
    """Divide the learning rate by 10 when validation top-1 error stops improving, at most ``lr_drops`` times.

    The paper's rule was a human watching the validation error (Section 5); here "stops
    improving" means no new best for ``lr_patience`` epochs. The floor lr * factor**drops stops
    it after the paper's three divisions.
    """
    floor = config.lr * config.lr_factor**config.lr_drops
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=config.lr_factor,
        patience=config.lr_patience,
        threshold=0.0,
        min_lr=floor * (1 - 1e-6),
        eps=floor * 1e-3,
    )


# ----------------------------------------------------------------------------- devices and the step


def resolve_device(name: str) -> torch.device:
    """``"auto"`` is the GPU when there is one; asking for CUDA without one is a :class:`TrainingError`."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}") from e
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device {name!r} asks for a GPU, but PyTorch sees none (torch.cuda.is_available() is False); "
                "use --device cpu, or on Colab choose Runtime > Change runtime type > GPU"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise TrainingError(f"device {name!r} does not exist: PyTorch sees {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}")
    return device


PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_dtype(device: torch.device, amp: bool | str) -> torch.dtype | None:
    """The autocast dtype of a training step, or None for plain fp32.

    ``amp=True``: bf16 on GPUs that compute in it natively (compute capability 8 and up), fp16 on
    older ones, None on a CPU (the fast path is a GPU path). ``amp=False``: None. ``"bf16"`` or
    ``"fp16"``: that dtype on any device; CPU autocast runs both, which is how the tests and
    ``python -m alexnet doctor`` exercise the GPU's branches on a machine without one.
    """
    if isinstance(amp, str):
        if amp not in PRECISIONS:
            raise ValueError(f"amp must be True, False, 'bf16' or 'fp16', got {amp!r}")
        return PRECISIONS[amp]
    if not amp or device.type != "cuda":
        return None
    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16


def use_channels_last(device: torch.device, channels_last: bool | str) -> bool:
    """``True``: channels-last on CUDA only (cuDNN's fast convolutions want it); ``"always"``: on a CPU too; ``False``: never."""
    if isinstance(channels_last, str):
        if channels_last != "always":
            raise ValueError(f"channels_last must be True, False or 'always', got {channels_last!r}")
        return True
    return bool(channels_last) and device.type == "cuda"


class _Float32(nn.Module):
    """Runs a module in float32 under autocast: the paper's LRN squares activations, which overflow fp16."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.module(x.float()).to(x.dtype)


def _lrn_in_float32(model: AlexNet) -> None:
    """Wrap each LRN of ``model`` in :class:`_Float32`: under fp16 a^2 overflows for |a| > 256 (fp16's largest value is 65504)."""
    for i, module in enumerate(model.features):
        if isinstance(module, LocalResponseNorm):
            model.features[i] = _Float32(module)


def _lrns(model: nn.Module) -> list[LocalResponseNorm]:
    return [m for m in model.modules() if isinstance(m, LocalResponseNorm)]


# On a CPU the hand-written LRN is the faster one: measured 2026-12-01 on 2 vCPUs (AMD EPYC, torch 2.14.1),
# forward + backward at conv1's output (32, 96, 55, 55) fp32: 610 ms against torch's 772 ms, and at conv2's
# (32, 256, 27, 27): 317 ms against 465 ms; torch's CPU kernel (avg_pool3d) also has no bf16 version.
_LRN_RULE = {"cpu": "paper"}


def lrn_timings(
    shape: tuple[int, ...], device: torch.device, dtype: torch.dtype = torch.float32, repeats: int = 3
) -> dict[str, float]:
    """Seconds per forward + backward of the paper's LRN on a batch of ``shape``, for each implementation.

    An implementation that cannot run in ``dtype`` on ``device`` (torch's has no bf16 CPU kernel) is left out.
    """
    x = torch.randn(shape, device=device).mul_(20).to(dtype).requires_grad_()
    times: dict[str, float] = {}
    for impl in LRN_IMPLS:
        layer = LocalResponseNorm(impl=impl)
        try:
            for _ in range(2):  # warm-up (and cuDNN/allocator first calls)
                layer(x).sum().backward()
        except (NotImplementedError, RuntimeError):
            continue
        _sync(device)
        tic = time.perf_counter()
        for _ in range(repeats):
            layer(x).sum().backward()
        _sync(device)
        times[impl] = (time.perf_counter() - tic) / repeats
    return times


def choose_lrn(model: nn.Module, device: torch.device, dtype: torch.dtype | None, batch_size: int = 64) -> str:
    """The faster of the two LRN implementations for ``model`` on ``device``, set on its LRN layers; returns its name.

    Both compute the same numbers. On a CPU the choice is the measured rule :data:`_LRN_RULE`; on
    other devices both are timed once on the first LRN's input for ``batch_size`` images, in the
    step's dtype, and the faster one is used.
    """
    layers = _lrns(model)
    if not layers:
        return "none"
    impl = _LRN_RULE.get(device.type)
    if impl is None:
        cfg = getattr(model, "config", None)
        if cfg is None:
            return layers[0].impl
        side = model.features[: next(i for i, m in enumerate(model.features) if _lrns(m))]
        with torch.no_grad():
            shape = tuple(side(torch.zeros(1, 3, cfg.image_size, cfg.image_size, device=device)).shape)
        # under fp16 the LRN runs in fp32 (_lrn_in_float32), so it is timed in fp32 there
        timed = torch.float32 if dtype in (None, torch.float16) else dtype
        times = lrn_timings((batch_size, *shape[1:]), device, timed)
        impl = min(times, key=times.get) if times else "paper"
    for layer in layers:
        layer.impl = impl
    return impl


class TrainStep:
    """One SGD step on a batch already on the device: the fast path that :func:`train` and ``bench`` share.

    On CUDA it runs under autocast (bf16, or fp16 with a gradient scaler and the LRN kept in fp32),
    keeps the model and the batch channels-last, can ``torch.compile`` the model and uses the faster
    LRN implementation; on a CPU it is a plain fp32 step unless asked otherwise: ``amp="bf16"`` or
    ``"fp16"`` and ``channels_last="always"`` run the same branches there (see :func:`autocast_dtype`).
    The gradient scaler's calls are made on every path; it is enabled exactly when the dtype is fp16.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        amp: bool | str = True,
        channels_last: bool | str = True,
        compile: bool = False,
        distributed: bool = False,
        lrn: str = "auto",
    ) -> None:
        self.device = device
        self.dtype = autocast_dtype(device, amp)
        self.channels_last = use_channels_last(device, channels_last)
        if lrn == "auto":
            self.lrn = choose_lrn(model, device, self.dtype)
        elif lrn in LRN_IMPLS:
            for layer in _lrns(model):
                layer.impl = lrn
            self.lrn = lrn
        else:
            raise ValueError(f"lrn must be 'auto', 'paper' or 'torch', got {lrn!r}")
        if self.dtype == torch.float16 and isinstance(model, AlexNet):
            _lrn_in_float32(model)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.model = model  # the plain network: evaluation and checkpoints use it
        net = model
        if distributed:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        self.train_model = torch.compile(net) if compile else net
        self.optimizer = optimizer
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _run(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            return module(self.prepare(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The plain network under the step's precision and layout: for evaluation."""
        return self._run(self.model, x)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward, update; returns the loss and the logits (detached)."""
        logits = self._run(self.train_model, x)
        loss = F.cross_entropy(logits.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach(), logits.detach()


# ----------------------------------------------------------------------------- data


class _Images:
    """A split as uint8 batches on the device, in a given order; in memory when the dataset allows it."""

    def __init__(self, dataset, device: torch.device, num_workers: int) -> None:
        self.dataset, self.device, self.num_workers = dataset, device, num_workers
        images = getattr(dataset, "images", None)
        self.in_memory = isinstance(images, torch.Tensor) and images.dtype == torch.uint8
        if self.in_memory and device.type == "cuda":  # a split larger than half the free GPU memory streams instead
            free, _ = torch.cuda.mem_get_info(device)
            self.in_memory = images.numel() * images.element_size() < free // 2
        if self.in_memory:  # the whole split goes to the device once; batches are then index lookups
            self.images = images.to(device)
            self.labels = dataset.labels.to(device)
        self.classes = list(getattr(dataset, "classes", []))

    def __len__(self) -> int:
        return len(self.dataset)

    def mean_sample(self) -> torch.Tensor:
        """The images to take the mean image over: all of them where they are one (possibly memory-mapped)
        uint8 tensor, as Section 2 does, else an even sample of 2,048 decoded ones."""
        images = getattr(self.dataset, "images", None)
        if self.in_memory:
            return self.images
        if isinstance(images, torch.Tensor) and images.dtype == torch.uint8:
            return images
        return self.sample()

    def sample(self, count: int = 2048) -> torch.Tensor:
        """Up to ``count`` uint8 images (for statistics of datasets that are not in memory)."""
        if self.in_memory:
            return self.images
        step = max(1, len(self.dataset) // count)
        return torch.stack([self.dataset[i][0] for i in range(0, len(self.dataset), step)])

    def batches(self, order: torch.Tensor, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """uint8 images and labels on the device, ``batch_size`` at a time, following ``order``."""
        if self.in_memory:
            order = order.to(self.device)
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                yield self.images[idx], self.labels[idx]
            return
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(self.dataset, order.tolist()),
            batch_size=batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        for x, y in loader:
            yield x.to(self.device, non_blocking=True), torch.as_tensor(y).to(self.device, non_blocking=True)


class _Augment:
    """Section 4.1 on the batch's device: random crops with flips, then PCA colour noise (``config.augment``).

    The images become the network's input first (:class:`alexnet.inputs.ModelInput`, at the stored
    size, so that every crop has its own pixels' mean removed), then are cropped; the colour noise
    is added in the input's units. The random draws are made on the generator's device (the
    training device), so that a GPU step never waits for numbers from the host.
    """

    def __init__(self, config: TrainConfig, size: int, train_images: torch.Tensor, inputs: ModelInput) -> None:
        self.kind, self.size, self.pca_std, self.inputs = config.augment, size, config.pca_std, inputs
        if self.kind == "paper":
            self.eigenvalues, self.eigenvectors = aug.rgb_eigen(train_images)
            self.scale = inputs.pixel_scale(train_images.device)

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = self.inputs(images)
        if self.kind == "none":
            return aug.center_crop(x, self.size)
        n, _, height, width = images.shape
        top, left, flip = aug.random_crop_flip_params(n, height, width, self.size, generator)
        x = aug.crop_flip(x, top, left, flip, self.size)
        if self.kind == "paper":
            x = aug.pca_lighting(x, self.eigenvalues, self.eigenvectors, self.pca_std, generator, self.scale)
        return x


# ----------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate_model(
    model: nn.Module,
    dataset,
    inputs: ModelInput,
    size: int | None = None,
    batch_size: int = 256,
    device: torch.device | str | None = None,
    ten_crop: bool = False,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
    shard: tuple[int, int] = (0, 1),
    progress: str | None = None,
) -> dict[str, float]:
    """Validation loss and top-1/top-5 error of ``model`` on ``dataset`` (Section 6's measures).

    One crop is the centre ``size`` x ``size`` patch; ``ten_crop=True`` averages the softmax
    over the four corner patches, the centre patch and their mirror images (Section 4.1).
    ``shard=(rank, world)`` evaluates every world-th image (for DistributedDataParallel).
    ``progress`` names a progress bar over the batches (shown where stderr redraws in place).
    """
    sums = _evaluate_sums(model, dataset, inputs, size, batch_size, device, ten_crop, forward, shard, progress)
    return _finish_sums(sums)


def _evaluate_sums(
    model, dataset, inputs, size, batch_size, device, ten_crop, forward, shard, progress=None
) -> torch.Tensor:
    device = torch.device(device) if device is not None else next(model.parameters()).device
    size = size or model.config.image_size
    forward = forward or model
    data = dataset if isinstance(dataset, _Images) else _Images(dataset, device, num_workers=0)
    was_training = model.training
    model.eval()
    rank, world = shard
    sums = torch.zeros(4, dtype=torch.float64, device=device)  # loss, top-1 wrong, top-5 wrong, count
    indices = torch.arange(rank, len(data), world)
    bar = _bar(math.ceil(len(indices) / batch_size), progress or "", progress is not None)
    try:
        for images, labels in data.batches(indices, batch_size):
            x = inputs(images)  # the mean image is removed at the stored size, then the patches are taken
            if ten_crop:
                x = aug.ten_crop(x, size).flatten(0, 1)  # (N * 10, 3, size, size)
                probs = forward(x).float().softmax(dim=1).view(len(images), 10, -1).mean(1)
                logits = probs.clamp_min(1e-12).log()
            else:
                logits = forward(aug.center_crop(x, size)).float()
            err = topk_error(logits, labels, ks=(1, 5))
            n = len(labels)
            sums += torch.tensor(
                [F.cross_entropy(logits, labels, reduction="sum").item(), err[1] * n, err[5] * n, n],
                dtype=torch.float64,
                device=device,
            )
            if bar is not None:
                bar.update(1)
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    return sums


def _finish_sums(sums: torch.Tensor) -> dict[str, float]:
    loss, wrong1, wrong5, n = sums.tolist()
    return {"loss": loss / n, "top1_error": wrong1 / n, "top5_error": wrong5 / n}


# ----------------------------------------------------------------------------- checkpoints (alexnet.checkpoint)


def _check_same_run(saved: dict[str, Any], config: TrainConfig, where: Path) -> None:
    now = config.to_dict()
    differ = [k for k in RUN_FIELDS if _jsonable(saved.get(k)) != _jsonable(now.get(k))]
    if differ:
        details = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, now {now.get(k)!r}" for k in differ)
        raise TrainingError(
            f"the checkpoint in {where} belongs to another run ({details}); "
            "resume with the same options, or start a new run in another --out folder"
        )


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, sort_keys=True, default=str))


# ----------------------------------------------------------------------------- distributed


def _distributed(device: torch.device) -> tuple[int, int, int]:
    """(rank, world size, local rank); starts the process group when torchrun launched us (NCCL on GPUs, gloo on CPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size(), local


def _all_reduce(t: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(t)
    return t


# ----------------------------------------------------------------------------- the loop


def _epoch_seed(seed: int, epoch: int, stream: int, rank: int = 0) -> int:
    """A seed per (run, epoch, stream, process): the data order and crops of an epoch never depend on earlier epochs."""
    return (seed * 1_000_003 + epoch * 7919 + stream * 104_729 + rank * 15_485_863) % (2**63)


def _load_splits(config: TrainConfig):
    train_set = load_dataset(
        config.dataset, "train", root=config.data_root, download=config.download, **config.dataset_options
    )
    val_options = {**config.dataset_options, **config.val_options}
    val_set = load_dataset(config.dataset, "val", root=config.data_root, download=config.download, **val_options)
    return train_set, val_set


def _say(enabled: bool, *args) -> None:
    if enabled:
        print(*args, flush=True)


def train(config: TrainConfig) -> TrainResult:
    """Run the recipe of ``config``; see the module docstring. Raises :class:`TrainingError` for a run that cannot go on.

    With ``out``, the first process holds the folder's lock for the whole run (a second run into
    the same folder refuses) and the folder is checked for writing before anything is trained.
    """
    device = resolve_device(config.device)
    rank, world, local_rank = _distributed(device)
    if config.out and rank == 0:
        with RunFolder(config.out):
            return _train(config, device, rank, world, local_rank)
    return _train(config, device, rank, world, local_rank)


def _train(config: TrainConfig, device: torch.device, rank: int, world: int, local_rank: int) -> TrainResult:
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", local_rank)
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} must divide evenly over {world} processes")
    lead = rank == 0
    talk = config.progress and lead
    out = Path(config.out) if config.out else None

    checkpoint = None
    if out and not config.resume and (out / CHECKPOINT_NAME).is_file():
        raise TrainingError(
            f"{out} already holds the checkpoint of a run: continue it with resume=True (--resume), "
            "or choose another output folder (--out)"
        )
    if config.resume:
        assert out is not None
        if (out / CHECKPOINT_NAME).is_file():
            checkpoint = load_checkpoint(out, map_location="cpu")
            _check_same_run(checkpoint["config"], config, out)
            if lead:  # checkpoint first, metrics from it: a crash between the two writes loses no record
                write_metrics(checkpoint["history"], out)
            _check_resume(checkpoint, config, device, out, lead)
        else:
            _say(talk, f"no checkpoint in {out} yet: starting from epoch 1")

    # data
    train_set, val_set = _load_splits(config)
    train_data = _Images(train_set, device, config.num_workers)
    val_data = _Images(val_set, device, config.num_workers)
    classes = list(getattr(train_set, "classes", []))
    if not classes:
        raise ValueError(f"dataset {config.dataset!r} does not name its classes (.classes)")

    # model, optimiser, schedule (the initialisation draws from the run's seed)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model = build_model(config.model, num_classes=len(classes), **config.model_options)
    # Section 2 (or torchvision's convention): what the network is fed, fixed by the checkpoint on a resume
    if checkpoint:
        try:
            inputs = ModelInput.from_state(checkpoint["inputs"])
        except ValueError as e:
            raise TrainingError(f"the checkpoint in {out} holds a bad input convention: {e}") from None
    else:
        inputs = ModelInput.fit(model, train_data.mean_sample())
    inputs = inputs.to(device)
    size = model.config.image_size
    side = train_data.sample(1).shape[-1] if not train_data.in_memory else train_data.images.shape[-1]
    if side < size:
        raise ValueError(f"the {config.dataset} images are {side} pixels wide, smaller than the model's crop of {size}")
    if checkpoint:
        try:
            model.load_state_dict(checkpoint["model"])
        except RuntimeError as e:
            raise TrainingError(f"the checkpoint in {out} holds another network: {str(e).splitlines()[0]}") from None
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

    step = TrainStep(
        model,
        optimizer,
        device,
        amp=config.amp,
        channels_last=config.channels_last,
        compile=config.compile,
        distributed=world > 1,
    )
    if checkpoint and "scaler" in checkpoint:
        step.scaler.load_state_dict(checkpoint["scaler"])
    augment = _Augment(config, size, train_data.sample(), inputs)

    history: list[dict[str, Any]] = list(checkpoint["history"]) if checkpoint else []
    start = checkpoint["epoch"] + 1 if checkpoint else 1
    if checkpoint:
        set_rng_states(checkpoint["rng"])
        if world > 1:  # each process needs its own dropout stream
            torch.manual_seed(_epoch_seed(config.seed, start, 3, rank))
        _say(talk, f"resumed from {out / CHECKPOINT_NAME} after epoch {checkpoint['epoch']}")
    elif world > 1:
        torch.manual_seed(_epoch_seed(config.seed, 0, 3, rank))

    local_batch = config.batch_size // world
    steps = len(train_data) // config.batch_size
    if steps < 1:
        raise ValueError(f"the training set has {len(train_data)} images, fewer than one batch of {config.batch_size}")
    nan_check_every = 1 if device.type == "cpu" else 50

    for epoch in range(start, config.epochs + 1):
        order = torch.randperm(
            len(train_data), generator=torch.Generator().manual_seed(_epoch_seed(config.seed, epoch, 1))
        )
        order = order[: steps * config.batch_size].view(steps, config.batch_size)[:, rank::world].reshape(-1)
        # crops, flips and colour draws come from a generator on the device: no host round trip per step
        gen = torch.Generator(device=device).manual_seed(_epoch_seed(config.seed, epoch, 2, rank))
        lr = optimizer.param_groups[0]["lr"]
        step.train_model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        wrong = torch.zeros((), dtype=torch.float64, device=device)
        bar = _bar(steps, f"epoch {epoch}/{config.epochs}", talk)
        _sync(device)
        tic = time.perf_counter()
        try:
            for i, (images, labels) in enumerate(train_data.batches(order, local_batch)):
                x = augment(images, gen)
                loss, logits = step(x, labels)
                loss_sum += loss.double() * len(labels)
                wrong += (logits.argmax(dim=1) != labels).sum()
                if (i + 1) % nan_check_every == 0 or i + 1 == steps:
                    _check_finite(loss_sum, epoch, i + 1, out, history)
                if bar is not None:
                    bar.update(1)
                    if (i + 1) % nan_check_every == 0 or i + 1 == steps:  # .item() waits for the GPU
                        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)  # redraws follow mininterval
        except torch.cuda.OutOfMemoryError:
            raise TrainingError(
                f"out of GPU memory at batch size {config.batch_size}: lower it, e.g. --batch-size {max(1, config.batch_size // 2)}"
            ) from None
        finally:
            if bar is not None:
                bar.close()
        _sync(device)
        seconds = time.perf_counter() - tic
        totals = _all_reduce(torch.stack([loss_sum, wrong]), world)
        seen = steps * config.batch_size
        val = _finish_sums(
            _all_reduce(
                _evaluate_sums(
                    model, val_data, inputs, size, max(local_batch, 256), device, False, step.forward, (rank, world)
                ),
                world,
            )
        )
        record = {
            "epoch": epoch,
            "train_loss": totals[0].item() / seen,
            "train_top1_error": totals[1].item() / seen,
            "val_loss": val["loss"],
            "val_top1_error": val["top1_error"],
            "val_top5_error": val["top5_error"],
            "lr": lr,
            "images_per_second": seen / seconds,
            "epoch_seconds": seconds,
        }
        scheduler.step(val["top1_error"])
        last = epoch == config.epochs
        if last and config.ten_crop:
            ten = _finish_sums(
                _all_reduce(
                    _evaluate_sums(
                        model, val_data, inputs, size, max(local_batch, 64), device, True, step.forward, (rank, world)
                    ),
                    world,
                )
            )
            record["val_ten_crop_top1_error"] = ten["top1_error"]
            record["val_ten_crop_top5_error"] = ten["top5_error"]
        history.append(record)
        _say(talk, _epoch_line(record, config.epochs))
        if out and lead:
            state = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "config": config.to_dict(),
                "model_config": dataclasses.asdict(model.config),
                "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": step.scaler.state_dict(),
                "rng": rng_states(),
                "history": history,
                "inputs": inputs.to("cpu").state(),
                "classes": classes,
                "cpu_threads": torch.get_num_threads(),
            }
            # the checkpoint is the truth and goes first; metrics.jsonl is rewritten from it on every resume
            save_checkpoint(state, out, kept_epoch=history[-2]["epoch"] if len(history) > 1 else None)
            write_metrics(history, out)
        if world > 1:
            import torch.distributed as dist

            dist.barrier()
        if config.stop_after is not None and epoch >= config.stop_after and not last:
            _say(
                talk, f"stopped after epoch {epoch} as asked (stop_after); resume with the same options and resume=True"
            )
            break

    final = dict(history[-1]) if history else {}
    return TrainResult(model, history, final, out, inputs.to("cpu"), classes, train_set, val_set)


def _check_resume(checkpoint: dict[str, Any], config: TrainConfig, device: torch.device, out: Path, lead: bool) -> None:
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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _live_stderr() -> bool:
    """Whether a progress bar can redraw in place: a terminal or a Jupyter kernel, not a log file or a pipe."""
    import sys

    return sys.stderr.isatty() or "ipykernel" in sys.modules


def _bar(total: int, desc: str, enabled: bool):
    """A tqdm bar where it redraws in place; None where every redraw would be a new line of a log."""
    if not enabled or not _live_stderr():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", leave=False, mininterval=1.0)


def _epoch_line(r: dict[str, Any], epochs: int) -> str:
    line = (
        f"epoch {r['epoch']:>3}/{epochs}  train loss {r['train_loss']:.3f}  "
        f"val top-1 {100 * r['val_top1_error']:5.1f}%  top-5 {100 * r['val_top5_error']:5.1f}%  "
        f"lr {r['lr']:.0e}  {r['images_per_second']:,.0f} img/s"
    )
    if "val_ten_crop_top1_error" in r:
        line += (
            f"\nten-crop: val top-1 {100 * r['val_ten_crop_top1_error']:.1f}%  "
            f"top-5 {100 * r['val_ten_crop_top5_error']:.1f}%"
        )
    return line
