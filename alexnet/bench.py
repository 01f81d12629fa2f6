"""Training throughput of one device: a plain fp32 loop against the trainer's fast path.

Section 5 of the paper gives its speed as "five to six days on two NVIDIA GTX 580 3GB GPUs" for
90 epochs of 1.2 million images, about 230 images per second. This module measures images per
second of training steps (forward, backward, update) on data already on the device, for the
same model and batch in two ways:

* ``fp32``: the loop a first PyTorch program writes (fp32, NCHW, ``torch.optim.SGD``);
* ``trainer``: :class:`alexnet.train.TrainStep`, what :func:`alexnet.train.train` runs: on CUDA
  bf16 autocast (fp16 with a gradient scaler on GPUs without bf16), channels-last, cuDNN's
  autotuner, optionally ``torch.compile``, and the paper's update as one fused pass per step.
  On a CPU it is an fp32 step like the first: the fast path is a GPU path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from alexnet.model import build_model
from alexnet.train import PaperSGD, TrainStep, resolve_device

__all__ = ["BenchResult", "bench", "format_bench"]


@dataclass
class BenchResult:
    path: str
    images_per_second: float
    ms_per_step: float
    batch_size: int
    steps: int
    device: str


def _time(step, steps: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    tic = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - tic) / steps


def bench(
    model: str = "paper",
    batch_size: int = 256,
    steps: int = 10,
    warmup: int = 3,
    device: str = "auto",
    compile: bool = False,
    seed: int = 0,
    **model_options,
) -> list[BenchResult]:
    """Images per second of training steps for the fp32 loop and the trainer's path, in one run."""
    if batch_size < 1 or steps < 1 or warmup < 0:
        raise ValueError(f"need batch_size >= 1, steps >= 1, warmup >= 0; got {batch_size}, {steps}, {warmup}")
    dev = resolve_device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(seed)
    probe = build_model(model, **model_options)
    size = probe.config.image_size
    classes = probe.config.num_classes
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, size, size, generator=g).to(dev)
    y = torch.randint(0, classes, (batch_size,), generator=g).to(dev)
    results = []

    # the plain loop
    torch.manual_seed(seed)
    net = build_model(model, **model_options).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def plain() -> None:
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    seconds = _time(plain, steps, warmup, dev)
    results.append(BenchResult("fp32", batch_size / seconds, 1000 * seconds, batch_size, steps, str(dev)))

    # the trainer's step
    torch.manual_seed(seed)
    net = build_model(model, **model_options).to(dev)
    step = TrainStep(net, PaperSGD(net.parameters()), dev, amp=True, channels_last=True, compile=compile)
    seconds = _time(lambda: step(x, y), steps, warmup + (2 if compile else 0), dev)
    name = "trainer" + (" + compile" if compile else "")
    results.append(BenchResult(name, batch_size / seconds, 1000 * seconds, batch_size, steps, str(dev)))
    return results


def format_bench(results: list[BenchResult]) -> str:
    """A small table: path, images/s, ms per step, speed-up over the first row."""
    base = results[0].images_per_second
    lines = [f"{'path':<18} {'images/s':>10} {'ms/step':>9} {'speed-up':>9}"]
    for r in results:
        lines.append(
            f"{r.path:<18} {r.images_per_second:>10,.1f} {r.ms_per_step:>9.1f} {r.images_per_second / base:>8.2f}x"
        )
    return "\n".join(lines)
