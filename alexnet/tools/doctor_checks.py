"""The doctor's checks (``python -m alexnet doctor``), one function per section of its report.

Each takes the :class:`~alexnet.tools.report.Report` (which holds the device and the
:class:`~alexnet.tools.report.Scale`) and adds PASS, FAIL, INFO or SKIP lines to it; a check that raises
becomes one FAIL line (:func:`_section`) and the report goes on. The data are made on the spot
(:func:`colour_classes`), so nothing here needs the internet.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from alexnet import data
from alexnet.data import augment as aug
from alexnet.nn.model import build_model
from alexnet.tools.bench import bench, bench_lrn
from alexnet.training.checkpoint import load_checkpoint
from alexnet.training.config import TrainConfig
from alexnet.training.loop import train
from alexnet.training.sgd import PaperSGD
from alexnet.training.step import TrainStep

if TYPE_CHECKING:
    from alexnet.tools.report import Report, Scale

__all__ = ["colour_classes", "step_against_fp32", "STEP_TOLERANCE", "DATASET"]

# One step against fp32 (loss: relative error; gradients: largest relative L2 error of a parameter tensor).
# Reduced precision changes which max-pool input wins and which ReLUs are open for a few activations,
# so the first layers' gradients differ by up to ~20% in bf16 (8 mantissa bits) and ~10% in fp16 (11);
# a broken branch (a gradient left scaled, a permuted layout) is off by 100% or more.
STEP_TOLERANCE = {"bf16": {"loss": 1e-2, "grad": 0.35}, "fp16": {"loss": 1e-2, "grad": 0.2}}

DATASET = "doctor-colours"


@contextmanager
def _section(report: Report, section: str, name: str) -> Iterator[None]:
    """A check that raises becomes one FAIL line naming the error; the report goes on."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - the doctor reports every failure and continues
        first = (str(e).strip().splitlines() or [""])[0][:300]
        report.add(section, name, "FAIL", f"{type(e).__name__}: {first}")


# ----------------------------------------------------------------------------- the data


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
        model_options={
            "width": scale.width,
            "image_size": scale.paper_crop,
            "init": "kaiming",
            "input_convention": "torchvision",
        },
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


# ----------------------------------------------------------------------------- the checks


def machine(report: Report) -> None:
    s, dev = "machine", report.device
    report.add(s, "scale", "INFO", _scale_words(report.scale))
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        major, minor = torch.cuda.get_device_capability(dev)
        report.add(s, "device", "INFO", f"{props.name} ({dev})")
        report.add(s, "compute capability", "INFO", f"{major}.{minor}")
        native = major >= 8
        emulated = torch.cuda.is_bf16_supported(including_emulation=True)
        bf16 = "native" if native else ("emulated (slow); the trainer uses fp16 + scaler" if emulated else "none")
        report.add(s, "bf16", "INFO", bf16)
        free, total = torch.cuda.mem_get_info(dev)
        report.add(s, "memory", "INFO", f"{total / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free")
    else:
        report.add(
            s, "device", "INFO", f"CPU only: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
        )
        report.add(s, "bf16", "INFO", f"CPU autocast (kernels: {torch.backends.cpu.get_cpu_capability()})")
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        report.add(s, "memory", "INFO", f"{pages * size / 2**30:.1f} GiB RAM")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        report.add(s, "load average at start", "INFO", f"{load:.1f} on {os.cpu_count()} cores")
        threads = "set by OMP_NUM_THREADS" if "OMP_NUM_THREADS" in os.environ else "set OMP_NUM_THREADS to choose"
        report.add(s, "torch threads", "INFO", f"{torch.get_num_threads()} ({threads}; on a shared CPU one is fastest)")
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    import torchvision

    report.add(
        s,
        "versions",
        "INFO",
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, CUDA {torch.version.cuda or 'none'}, "
        f"cuDNN {cudnn or 'none'}, Python {platform.python_version()}, {torch.get_num_threads()} CPU threads",
    )
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        with _section(report, s, f"autocast {name} runs"):
            a = torch.randn(64, 64, device=dev)
            with torch.autocast(dev.type, dtype=dtype):
                b = a @ a
            report.check(s, f"autocast {name} runs", b.dtype == dtype and bool(torch.isfinite(b).all()), str(b.dtype))


def lrn(report: Report) -> None:
    s, sc = "LRN (3.3)", report.scale
    with _section(report, s, "two implementations"):
        batch = 128 if sc.name == "full" else 32
        r = bench_lrn("paper", batch, str(report.device), width=sc.width, image_size=sc.paper_crop)
        tol = 1e-4 * 20  # inputs ~ N(0, 20^2): outputs up to ~10; 1e-4 relative
        report.check(s, "same numbers (hand-written vs torch's, alpha*n)", r["max_difference"] <= tol,
                     f"largest difference {r['max_difference']:.1e} (tolerance {tol:.0e}) at {tuple(r['shape'])}")  # fmt: skip
        times = ", ".join(f"{k} {1000 * v:.2f} ms" for k, v in r["seconds"].items())
        fastest = min(r["seconds"], key=r["seconds"].get)
        report.add(s, f"forward + backward, batch {batch}, {r['dtype']}", "INFO", f"{times}; faster: {fastest}")
        # the trainer's own choice (a rule on a CPU, its own timing elsewhere) may differ from this timing by noise
        chosen = r["seconds"].get(r["trainer_uses"], math.inf)
        if report.device.type == "cpu":  # a rule measured at the paper's shapes (alexnet.training.step._LRN_RULE)
            report.add(s, "trainer uses", "INFO", f"{r['trainer_uses']} (the CPU rule, measured at the paper's shapes)")
            return
        report.check(s, "trainer uses the faster one (within 15%)", chosen <= 1.15 * r["seconds"][fastest],
                     f"{r['trainer_uses']}: {chosen / r['seconds'][fastest]:.2f}x the fastest")  # fmt: skip


def augmentation(report: Report) -> None:
    s, dev, sc = "augmentation (4.1)", report.device, report.scale
    with _section(report, s, "device path = host path"):
        g = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (64, 3, sc.stored, sc.stored), dtype=torch.uint8, generator=g)
        on_device = images.to(dev)
        gen = torch.Generator(device=dev).manual_seed(1)  # the trainer draws on the training device
        top, left, flip = aug.random_crop_flip_params(64, sc.stored, sc.stored, sc.paper_crop, gen)
        crops = aug.crop_flip(on_device, top, left, flip, sc.paper_crop)  # one gather on a GPU
        gathered = aug._gather_crops(on_device, top, left, flip, sc.paper_crop)
        host = aug.crop_flip(images, top.cpu(), left.cpu(), flip.cpu(), sc.paper_crop)  # per-image copies
        same = torch.equal(crops.cpu(), host) and torch.equal(gathered.cpu(), host)
        report.check(s, "device crops + flips = host crops + flips", same,
                     f"64 images {sc.stored} px -> {sc.paper_crop} px, draws on {dev.type}, {int(flip.sum())} flipped")  # fmt: skip


def step_against_fp32(
    amp: str, device: torch.device, width: float, size: int, batch: int, channels_last: bool | str = "always"
) -> dict[str, Any]:
    """One TrainStep in ``amp`` ("bf16" or "fp16") and one in fp32 on the same batch: loss and gradient errors."""
    results = {}
    for name, options in (
        ("fp32", {"amp": False, "channels_last": False}),
        (amp, {"amp": amp, "channels_last": channels_last}),
    ):
        torch.manual_seed(0)
        model = build_model(
            "paper",
            width=width,
            image_size=size,
            num_classes=1000,
            init="kaiming",
            input_convention="torchvision",
            dropout=0.0,
        )
        model.to(device)
        step = TrainStep(model, PaperSGD(model.parameters()), device, **options)
        g = torch.Generator().manual_seed(1)
        x = (torch.rand(batch, 3, size, size, generator=g) - 0.5).to(device)
        y = torch.randint(0, 1000, (batch,), generator=g).to(device)
        loss, _ = step(x, y)
        grads = {n: p.grad.detach().float().clone() for n, p in model.named_parameters()}
        results[name] = (loss.item(), grads, step)
    ref_loss, ref_grads, _ = results["fp32"]
    loss, grads, step = results[amp]
    errors = {n: ((g - ref_grads[n]).norm() / ref_grads[n].norm().clamp_min(1e-30)).item() for n, g in grads.items()}
    worst = max(errors, key=errors.get)
    return {
        "loss": loss,
        "fp32_loss": ref_loss,
        "loss_error": abs(loss - ref_loss) / abs(ref_loss),
        "grad_error": errors[worst],
        "worst": worst,
        "finite": all(math.isfinite(v) for v in errors.values()) and math.isfinite(loss),
        "scaler": step.scaler.get_scale() if step.scaler.is_enabled() else None,
        "lrn_in_fp32": sum(type(m).__name__ == "_Float32" for m in step.model.modules()),
    }


def precision(report: Report) -> None:
    s, sc, dev = "one step vs fp32", report.scale, report.device
    for amp in ("bf16", "fp16"):
        with _section(report, s, f"{amp} step"):
            r = step_against_fp32(amp, dev, sc.width, sc.paper_crop, sc.step_batch)
            tol = STEP_TOLERANCE[amp]
            ok = r["finite"] and r["loss_error"] <= tol["loss"] and r["grad_error"] <= tol["grad"]
            extra = f"; scaler on (scale {r['scaler']:.0f}), LRN in fp32 x{r['lrn_in_fp32']}" if amp == "fp16" else ""
            report.check(
                s,
                f"{amp} + channels-last step",
                ok,
                f"loss {r['loss']:.4f} vs {r['fp32_loss']:.4f} (rel. error {r['loss_error']:.1e} <= {tol['loss']:.0e}); "
                f"gradients: largest rel. error {r['grad_error']:.3f} ({r['worst']}) <= {tol['grad']}{extra}",
            )


def throughput(report: Report, compile: bool) -> None:
    s, sc, dev = "throughput", report.scale, report.device
    h100 = dev.type == "cuda" and "H100" in torch.cuda.get_device_name(dev)
    for model, crop in (("paper", sc.paper_crop), ("torchvision", sc.torchvision_crop)):
        for batch in sc.batches:
            label = f"{model} {crop} px, batch {batch}"
            with _section(report, s, label):
                rows = bench(model, batch, sc.bench_steps, sc.bench_warmup, str(dev), compile=compile,
                             width=sc.width, image_size=crop, num_classes=1000)  # fmt: skip
                base = rows[0].images_per_second
                for r in rows:
                    ok = math.isfinite(r.images_per_second) and r.images_per_second > 0
                    report.check(s, f"{label}: {r.path}", ok,
                                 f"{r.images_per_second:,.0f} images/s, {r.ms_per_step:.1f} ms/step, {r.images_per_second / base:.2f}x fp32")  # fmt: skip
                best = max(rows[1:], key=lambda r: r.images_per_second)
                ratio = best.images_per_second / base
                if dev.type == "cuda" and model == "paper" and batch == max(sc.batches):  # issue 5's goal
                    report.check(s, f"{label}: trainer >= 3x fp32 (goal)", ratio >= 3.0, f"{ratio:.2f}x ({best.path})")
                else:  # on a CPU both paths are the same fp32 arithmetic: there the ratio is timing noise
                    expect = "a CPU runs both in fp32: expect ~1x" if dev.type == "cpu" else "no goal at this size"
                    report.add(s, f"{label}: trainer / fp32", "INFO", f"{ratio:.2f}x ({best.path}; {expect})")
                if h100 and model == "paper" and batch == 256:
                    report.check(s, "H100 goal: >= 25,000 images/s, paper model, batch 256",
                                 best.images_per_second >= 25_000, f"{best.images_per_second:,.0f} images/s")  # fmt: skip
    if not compile:
        why = "CPU mode: compiling takes about a minute per shape here; --compile includes it"
        report.add(s, "compiled rows", "SKIP", why if dev.type == "cpu" else "--no-compile")


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


def _scale_words(scale: Scale) -> str:
    if scale.name == "full":
        return "full: the paper's model at width 1, 227 px (torchvision's 224), batch 128 and 256"
    return (
        f"reduced (CPU): width {scale.width}, {scale.paper_crop}-pixel crops of {scale.stored}-pixel images, "
        f"batches {' and '.join(map(str, scale.batches))}; the paper's scale is width 1, 227 px of 256, batch 128/256"
    )
