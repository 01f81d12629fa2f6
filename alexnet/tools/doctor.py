"""``python -m alexnet doctor``: check and measure the machine this runs on, in one command.

On a GPU it runs the trainer's fast path at the paper's scale: bf16 autocast (fp16 with a
gradient scaler on GPUs without bf16), channels-last, ``torch.compile``, the device-resident
uint8 dataset and the augmentation of Section 4.1 drawn on the device. On a CPU it runs the same
checks at a reduced scale (a quarter of the width, 67-pixel crops, smaller batches), says so,
forces the GPU's precision branches there (CPU autocast runs bf16 and fp16), and uses one torch
thread unless ``OMP_NUM_THREADS`` says otherwise (see :func:`_cpu_threads`).

Every line of the report is PASS, FAIL, INFO (a measurement with no criterion on this machine)
or SKIP (with the reason); the exit status is 1 when any line FAILs. Nothing here needs the
internet: the data are made on the spot. Sections:

1. the machine: device, compute capability, bf16 (native or emulated), memory, versions;
2. the paper's LRN (Section 3.3) in its two implementations: same numbers, which is faster;
3. the augmentation's device path against the host path, given the same draws;
4. one training step in bf16 and in fp16 (with the gradient scaler) against fp32;
5. training throughput, plain fp32 loop against the trainer's path, eager and compiled, for the
   paper's model (227 px) and torchvision's (224 px), at batch 128 and 256 (``alexnet.tools.bench``);
6. a smoke run through the real trainer: the paper's model, 1000 classes, uint8 256-pixel images
   on the device cropped to 227 with the paper's augmentation, 200 steps;
7. the fp16 + gradient-scaler branch through the trainer (what a T4, without native bf16, runs);
8. a checkpoint after epoch 1, a resume, and the comparison with the uninterrupted run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import torch

from alexnet.tools import doctor_checks as checks
from alexnet.tools.report import SCALES, Report, Scale
from alexnet.training.distributed import resolve_device

__all__ = ["doctor", "main"]


# ----------------------------------------------------------------------------- the command


@contextmanager
def _cpu_threads(device: torch.device) -> Iterator[None]:
    """On a CPU, one torch thread unless OMP_NUM_THREADS says otherwise; the previous setting comes back after.

    On the shared 2-core machine of benchmarks/RESULTS.md, torch's two OpenMP threads waited on
    each other whenever another process ran: the CPU report took 256-264 s with two threads and
    28 s with one. The CPU report checks the code paths; its timings are INFO lines.
    """
    before = torch.get_num_threads()
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def doctor(
    device: str = "auto",
    scale: str | Scale = "auto",
    compile: bool | None = None,
    echo: Callable[[str], None] | None = print,
) -> Report:
    """Run every check on ``device`` at ``scale`` ("auto": full on a GPU, reduced on a CPU); returns the report."""
    dev = resolve_device(device)
    if scale == "auto":
        scale = "full" if dev.type == "cuda" else "reduced"
    if isinstance(scale, Scale):  # the tests run it smaller still
        sc = scale
    elif scale in SCALES:
        sc = SCALES[scale]
    else:
        raise ValueError(f"scale must be 'auto', 'full' or 'reduced', got {scale!r}")
    report = Report(sc, dev, echo=echo)
    compile = sc.compile if compile is None else compile
    with (
        tempfile.TemporaryDirectory(prefix="alexnet-doctor-") as tmp,
        checks.registered(checks.DATASET, checks.colour_classes),
        _cpu_threads(dev),
    ):
        checks.machine(report)
        checks.lrn(report)
        checks.augmentation(report)
        checks.precision(report)
        checks.throughput(report, compile)
        checks.smoke(report, Path(tmp))
        checks.fp16(report, Path(tmp))
        checks.resume(report, Path(tmp))
    seconds = time.perf_counter() - report.started
    report.check("total", f"the doctor within {sc.time_limit:.0f} s", seconds <= sc.time_limit, f"{seconds:.0f} s")
    return report


def title(report: Report) -> str:
    from alexnet.chapters.mode import hardware

    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return f"`python -m alexnet doctor`, {date}, {report.scale.name} scale: {hardware()}"


def main(device: str = "auto", scale: str | Scale = "auto", compile: bool | None = None, out: str | None = None) -> int:
    """The ``doctor`` subcommand: prints the report, writes it as Markdown to ``out``; 1 if any line FAILs."""
    if out and not Path(out).resolve().parent.is_dir():
        raise ValueError(f"--out {out}: the folder {Path(out).resolve().parent} does not exist")
    report = doctor(device, scale, compile)
    failed = report.failed
    print(
        f"{len(report.lines) - len(failed)} lines fine, {len(failed)} FAIL"
        + (": " + "; ".join(f.name for f in failed) if failed else "")
    )
    if out:
        Path(out).write_text(report.markdown(title(report)))
        print(f"report written to {out}", file=sys.stderr)
    return 1 if failed else 0
