"""The doctor's runs through the real trainer (sections 6-8 of its report): a smoke run, the fp16 and
gradient-scaler branch, and a checkpoint with a resume against the uninterrupted run (Section 5's recipe).

They train the paper's model on :func:`colour_classes`, images made on the spot and registered as a
dataset while the doctor runs (:func:`registered`), so nothing here needs the internet.
"""

from __future__ import annotations

import dataclasses
import math
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from alexnet import data
from alexnet.nn.config import HE_STANDARDISED
from alexnet.tools.report import checking as _section
from alexnet.training.checkpoint import load_checkpoint
from alexnet.training.config import TrainConfig
from alexnet.training.loop import train

if TYPE_CHECKING:
    from alexnet.tools.report import Report, Scale

__all__ = ["DATASET", "colour_classes", "registered", "smoke", "fp16", "resume"]

DATASET = "doctor-colours"


def colour_classes(
    split: str = "train", num_images: int = 2560, image_size: int = 256, num_classes: int = 1000, seed: int = 0, **_
) -> data.ImageTensorDataset:
    """Synthetic uint8 images of ``num_classes`` classes told apart by colour, for the doctor's runs.

    Class c has the colour of cell c of a 10 x 10 x 10 grid of RGB values (levels 25 apart), plus
    pixel noise; so a network can lower its loss within a few hundred steps. Made on the spot.
    """
    if not 1 <= num_classes <= 1000:
        raise ValueError(f"num_classes must lie in [1, 1000], got {num_classes}")
    g = torch.Generator().manual_seed(seed * 7 + (0 if split == "train" else 1))
    labels = torch.arange(num_images) % num_classes
    levels = torch.stack([labels // 100, (labels // 10) % 10, labels % 10], dim=1) * 25 + 15  # (N, 3) in 15..240
    images = torch.empty(num_images, 3, image_size, image_size, dtype=torch.uint8)
    for start in range(0, num_images, 256):
        stop = min(num_images, start + 256)
        noise = torch.randint(-12, 13, (stop - start, 3, image_size, image_size), generator=g, dtype=torch.int16)
        images[start:stop] = (levels[start:stop].view(-1, 3, 1, 1) + noise).clamp(0, 255).to(torch.uint8)
    return data.ImageTensorDataset(images, labels, [f"colour-{c:03d}" for c in range(num_classes)])


@contextmanager
def registered(name: str, loader: Callable[..., Any]) -> Iterator[None]:
    """Make ``load_dataset(name)`` (and so the trainer) find ``loader`` while the doctor runs."""
    known = name in data.LOADERS
    data.LOADERS[name] = loader
    try:
        yield
    finally:
        if not known:
            del data.LOADERS[name]


def _run_config(scale: Scale, device: torch.device, steps_per_epoch: int, epochs: int, batch: int, **kw) -> TrainConfig:
    """The paper's model on colour_classes through :func:`alexnet.training.loop.train`, at ``scale``.

    He initialisation (He et al. 2015), not Section 5's N(0, 0.01): with the paper's, the loss sits
    at ln(1000) for far longer than a smoke run lasts.
    """
    return TrainConfig(
        model="paper",
        model_options={"width": scale.width, "image_size": scale.paper_crop, **HE_STANDARDISED},
        dataset=DATASET,
        dataset_options={"num_images": steps_per_epoch * batch, "image_size": scale.stored, "num_classes": 1000},
        val_options={"num_images": min(512, 4 * batch)},
        epochs=epochs,
        batch_size=batch,
        augment="paper",
        ten_crop=False,
        progress=False,
        device=str(device),
        **kw,
    )


def _peak_memory(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB allocated on the GPU at most"
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    return f"{kib / 2**20:.2f} GiB resident at most (the whole process)"


def smoke(report: Report, tmp: Path) -> None:
    s, sc, dev = "smoke run (trainer)", report.scale, report.device
    steps = sc.smoke_epochs * sc.smoke_steps_per_epoch
    with _section(report, s, "trainer"):
        config = _run_config(sc, dev, sc.smoke_steps_per_epoch, sc.smoke_epochs, sc.smoke_batch)
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        tic = time.perf_counter()
        result = train(config)
        seconds = time.perf_counter() - tic
        losses = [r["train_loss"] for r in result.history]  # each the mean of smoke_steps_per_epoch steps
        report.add(s, "run", "INFO",
                   f"{steps} steps of {sc.smoke_batch}: paper model width {sc.width}, 1000 classes, uint8 "
                   f"{sc.stored} px on {dev.type} cropped to {sc.paper_crop}, crops + flips + PCA colour; {seconds:.1f} s")  # fmt: skip
        report.check(s, "loss finite", all(map(math.isfinite, losses)), f"last epoch {losses[-1]:.4f}")
        k = max(1, 50 // sc.smoke_steps_per_epoch)
        first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
        report.check(s, "mean loss of the last 50 steps < first 50", last < first, f"{first:.4f} -> {last:.4f}")
        speeds = sorted(r["images_per_second"] for r in result.history[1:])  # the first epoch warms up
        median = speeds[len(speeds) // 2]
        report.add(s, "images/s incl. augmentation", "INFO", f"{median:,.0f} (median over epochs 2-{len(losses)})")
        if dev.type == "cuda" and "H100" in torch.cuda.get_device_name(dev):
            report.check(s, "H100 goal: >= 20,000 images/s end to end", median >= 20_000, f"{median:,.0f}")
        report.add(s, "peak memory", "INFO", _peak_memory(dev))


def fp16(report: Report, tmp: Path) -> None:
    s, sc, dev = "fp16 + gradient scaler (trainer)", report.scale, report.device
    with _section(report, s, "fp16 run"):
        config = _run_config(sc, dev, 4, 2, sc.fp16_batch, amp="fp16", out=str(tmp / "fp16"))
        result = train(config)
        losses = [r["train_loss"] for r in result.history]
        scaler = load_checkpoint(tmp / "fp16")["scaler"]
        report.check(s, "forced fp16 run: loss finite, scaler running", all(map(math.isfinite, losses)) and scaler.get("scale", 0) > 0,
                     f"2 epochs of 4 steps of {sc.fp16_batch}: losses {', '.join(f'{v:.4f}' for v in losses)}; "
                     f"scale {scaler.get('scale', 0):.0f}")  # fmt: skip


def resume(report: Report, tmp: Path) -> None:
    s, sc, dev = "checkpoint + resume", report.scale, report.device
    with _section(report, s, "resume"):
        config = _run_config(sc, dev, 4, 3, sc.resume_batch)
        whole = train(dataclasses.replace(config, out=str(tmp / "whole")))
        train(dataclasses.replace(config, out=str(tmp / "parts"), stop_after=1))
        resumed = train(dataclasses.replace(config, out=str(tmp / "parts"), resume=True))
        keys = ("train_loss", "val_loss", "val_top1_error")
        diff = max(abs(a[k] - b[k]) for a, b in zip(whole.history, resumed.history, strict=True) for k in keys)
        weights = max(
            (a.float() - b.float()).abs().max().item()
            for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True)
        )
        if dev.type == "cpu":  # deterministic: the same numbers, bit for bit
            ok, rule = diff == 0 and weights == 0, "identical on a CPU"
        else:  # GPU kernels (atomics, autotuned algorithms) are not bitwise reproducible
            ok, rule = diff <= 1e-2 and len(resumed.history) == 3, "within 1e-2 on a GPU"
        report.check(s, "stop after epoch 1, resume, = uninterrupted run", ok,
                     f"3 epochs; largest metric difference {diff:.1e}, largest weight difference {weights:.1e} ({rule})")  # fmt: skip
