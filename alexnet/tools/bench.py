"""Training throughput of one device: a plain fp32 loop against the trainer's fast path.

Section 5 of the paper gives its speed as "five to six days on two NVIDIA GTX 580 3GB GPUs" for
90 epochs of 1.2 million images, about 230 images per second. This module measures images per
second of training steps (forward, backward, update) on data already on the device, for the
same model and batch in two ways:

* ``fp32``: the loop a first PyTorch program writes (fp32, NCHW, ``torch.optim.SGD``);
* ``trainer``: :class:`alexnet.training.step.TrainStep`, what :func:`alexnet.training.loop.train` runs: on CUDA
  bf16 autocast (fp16 with a gradient scaler on GPUs without bf16), channels-last, cuDNN's
  autotuner, optionally ``torch.compile``, and the paper's update as one fused pass per step.
  On a CPU it is an fp32 step like the first: the fast path is a GPU path.

It also times the paper's LRN (Section 3.3) written out by hand against torch's kernel
(:func:`bench_lrn`); the trainer uses the faster one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from alexnet.nn.lrn import LocalResponseNorm
from alexnet.nn.model import build_model
from alexnet.training.distributed import resolve_device
from alexnet.training.sgd import PaperSGD
from alexnet.training.step import TrainStep, autocast_dtype, choose_lrn, lrn_timings
from alexnet.training.timing import time_call

__all__ = [
    "BenchResult",
    "bench",
    "bench_lrn",
    "format_bench",
    "format_lrn",
    "CPU_SETTINGS",
    "PAPER_SETTINGS",
    "RATIO_NOTE",
    "settings",
]


# What a CPU runs when no scale is given: the quick runs' scale (the paper's model at a quarter of its
# width, 67-pixel crops). The paper's scale (width 1, 227 px, batch 256) takes about 14 s per step on
# a 2-core CPU, several minutes for one bench.
CPU_SETTINGS: dict[str, Any] = {"width": 0.25, "image_size": 67, "num_classes": 1000, "batch_size": 64, "steps": 10}
PAPER_SETTINGS: dict[str, Any] = {"width": 1.0, "num_classes": 1000, "batch_size": 256, "steps": 10}

RATIO_NOTE = (
    "speed-up = a path's images/s divided by the fp32 loop's (the first row): 2.00x means twice as many "
    "training images per second on the same model and batch. On a CPU the trainer's path is the same fp32 "
    "arithmetic unless forced otherwise, so about 1x is expected; on a GPU bf16, channels-last and compile "
    "should give several times (goal: 3x)."
)


@dataclass
class BenchResult:
    path: str
    images_per_second: float
    ms_per_step: float
    batch_size: int
    steps: int
    device: str


def settings(device: torch.device, full: bool = False, **given: Any) -> tuple[dict[str, Any], str]:
    """The scale ``bench`` runs at, and a line that says which: the options given, the rest from
    :data:`PAPER_SETTINGS`; but on a CPU given no width, image size or batch size (and not ``full``): :data:`CPU_SETTINGS`."""
    chosen = {k: v for k, v in given.items() if v is not None}
    # a CPU with no scale option: the reduced scale; any of them: the paper's scale for the rest, as on a GPU
    reduced = device.type != "cuda" and not full and not {"width", "image_size", "batch_size"} & set(chosen)
    out = {**(CPU_SETTINGS if reduced else PAPER_SETTINGS), **chosen}
    if reduced:
        note = (
            f"a CPU: the reduced scale (width {out['width']}, {out['image_size']} px, batch {out['batch_size']}); "
            "--full for the paper's (width 1, 227 px, batch 256: about 15 s per step on 2 cores)"
        )
    else:
        note = "the scale asked for" if chosen else "the paper's scale"
    return out, note


def _plain_loop(model: str, model_options: dict[str, Any], x, y, seed: int, dev: torch.device) -> Callable[[], None]:
    """The loop a first PyTorch program writes: fp32, NCHW, torch.optim.SGD."""
    torch.manual_seed(seed)
    net = build_model(model, **model_options).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def plain() -> None:
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return plain


def bench(
    model: str = "paper",
    batch_size: int = 256,
    steps: int = 10,
    warmup: int = 3,
    device: str = "auto",
    compile: bool = False,
    seed: int = 0,
    eager: bool = True,
    progress: Callable[[str], None] | None = None,
    **model_options,
) -> list[BenchResult]:
    """Images per second of training steps for the fp32 loop and the trainer's path, in one run.

    Rows: ``fp32``, then ``trainer`` (eager, unless ``eager=False``), then ``trainer + compile``
    when ``compile``. ``progress`` is called with a line before each path is timed.
    """
    if batch_size < 1 or steps < 1 or warmup < 0:
        raise ValueError(f"need batch_size >= 1, steps >= 1, warmup >= 0; got {batch_size}, {steps}, {warmup}")
    dev = resolve_device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    say = progress or (lambda line: None)
    torch.manual_seed(seed)
    probe = build_model(model, **model_options)
    size = probe.config.image_size
    classes = probe.config.num_classes
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, size, size, generator=g).to(dev)
    y = torch.randint(0, classes, (batch_size,), generator=g).to(dev)
    results = []

    def record(name: str, seconds: float) -> None:
        results.append(BenchResult(name, batch_size / seconds, 1000 * seconds, batch_size, steps, str(dev)))

    # the plain loop
    warmup = max(warmup, 2)  # torch's timer makes two untimed calls itself
    say(f"timing fp32: {warmup} warm-up + {steps} timed steps")
    plain = _plain_loop(model, model_options, x, y, seed, dev)
    record("fp32", time_call(plain, steps, warmup))
    rest = (int(eager) + int(compile)) * (warmup + steps) + (2 if compile else 0)
    say(f"fp32: {results[0].ms_per_step / 1000:.2f} s per step; the other paths' {rest} steps take about "
        f"{results[0].ms_per_step / 1000 * rest:.0f} s" + (" plus compilation" if compile else ""))  # fmt: skip
    del plain  # frees its model before the next one is built

    # the trainer's step, eager and compiled
    for compiled in ([False] if eager else []) + ([True] if compile else []):
        name = "trainer" + (" + compile" if compiled else "")
        say(
            f"timing {name}: {warmup + (2 if compiled else 0)} warm-up + {steps} timed steps"
            + (" (compiling first: a minute or more)" if compiled else "")
        )
        if compiled:  # a fresh start: no earlier graphs, and dynamo's recompile limit not reached by earlier benches
            torch._dynamo.reset()
        torch.manual_seed(seed)
        net = build_model(model, **model_options).to(dev)
        step = TrainStep(net, PaperSGD(net.parameters()), dev, amp=True, channels_last=True, compile=compiled)
        record(name, time_call(lambda step=step: step(x, y), steps, warmup + (2 if compiled else 0)))
        del net, step
    return results


def bench_lrn(model: str = "paper", batch_size: int = 128, device: str = "auto", **model_options) -> dict[str, Any]:
    """Forward + backward time of the paper's LRN at the model's first LRN input, hand-written against torch's kernel.

    Returns the seconds per implementation, the largest difference between their outputs, and the
    implementation :class:`~alexnet.training.step.TrainStep` uses on this device.
    """
    dev = resolve_device(device)
    net = build_model(model, **model_options).to(dev)
    index = next((i for i, m in enumerate(net.features) if isinstance(m, LocalResponseNorm)), None)
    if index is None:
        return {"shape": None, "dtype": None, "seconds": {}, "max_difference": 0.0, "trainer_uses": "none"}
    with torch.no_grad():
        shape = (
            batch_size,
            *net.features[:index](torch.zeros(1, 3, net.config.image_size, net.config.image_size, device=dev)).shape[
                1:
            ],
        )
        a = torch.randn(shape, device=dev) * 20
        difference = (LocalResponseNorm(impl="paper")(a) - LocalResponseNorm(impl="torch")(a)).abs().max().item()
    dtype = autocast_dtype(dev, True)  # what the trainer runs the LRN in (fp16 keeps it in fp32)
    timed = torch.float32 if dtype in (None, torch.float16) else dtype
    seconds = lrn_timings(shape, dev, timed)
    uses = choose_lrn(net, dev, dtype, batch_size)
    return {"shape": shape, "dtype": str(timed), "seconds": seconds, "max_difference": difference, "trainer_uses": uses}


def format_bench(results: list[BenchResult]) -> str:
    """A small table: path, images/s, ms per step, speed-up over the first row."""
    base = results[0].images_per_second
    lines = [f"{'path':<18} {'images/s':>10} {'ms/step':>9} {'speed-up':>9}"]
    for r in results:
        lines.append(
            f"{r.path:<18} {r.images_per_second:>10,.1f} {r.ms_per_step:>9.1f} {r.images_per_second / base:>8.2f}x"
        )
    return "\n".join(lines)


def format_lrn(r: dict[str, Any]) -> str:
    """One line: the two LRN implementations' times and which one the trainer uses."""
    if not r["seconds"]:
        return "LRN: the model has none"
    times = ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in r["seconds"].items())
    return (
        f"LRN at {tuple(r['shape'])} in {r['dtype'].replace('torch.', '')}, forward + backward: {times}; outputs differ by at most "
        f"{r['max_difference']:.1e}; the trainer uses {r['trainer_uses']}"
    )
