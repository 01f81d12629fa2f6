"""The doctor's report: how big its runs are (:class:`Scale`), and its PASS / FAIL / INFO / SKIP lines."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

__all__ = ["Scale", "SCALES", "Line", "Report", "checking"]


@dataclass(frozen=True)
class Scale:
    """How big the doctor's runs are. ``full`` is the paper's; ``reduced`` is what a CPU finishes in two minutes."""

    name: str
    width: float  # of every layer (the paper: 1)
    paper_crop: int  # the paper model's input (the paper: 227)
    torchvision_crop: int  # torchvision's (224)
    stored: int  # side of the stored uint8 images (the paper: 256, Section 2)
    batches: tuple[int, ...]  # throughput batch sizes
    bench_steps: int
    bench_warmup: int
    compile: bool  # compiled rows in the throughput table
    smoke_batch: int
    smoke_epochs: int  # of smoke_steps_per_epoch steps each: 200 steps in all
    smoke_steps_per_epoch: int
    step_batch: int  # the one-step precision comparisons
    resume_batch: int
    fp16_batch: int
    time_limit: float  # seconds the whole report should take


SCALES = {
    "full": Scale("full", 1.0, 227, 224, 256, (128, 256), 20, 5, True, 256, 20, 10, 64, 128, 128, 600.0),
    # compile is left out on a CPU: compiling one shape takes about a minute there
    # (tests/training/test_step.py::test_compiled_step_matches_the_fp32_step runs it)
    "reduced": Scale("reduced", 0.25, 67, 67, 76, (32, 64), 3, 1, False, 16, 20, 10, 8, 16, 8, 120.0),
}


@dataclass
class Line:
    section: str
    name: str
    status: str  # PASS, FAIL, INFO, SKIP
    value: str


@dataclass
class Report:
    scale: Scale
    device: torch.device
    lines: list[Line] = field(default_factory=list)
    echo: Callable[[str], None] | None = print
    started: float = field(default_factory=time.perf_counter)

    def add(self, section: str, name: str, status: str, value: str) -> None:
        line = Line(section, name, status, value)
        self.lines.append(line)
        if self.echo:
            self.echo(f"{status:<4}  {name}: {value}")

    def check(self, section: str, name: str, ok: bool, value: str) -> bool:
        self.add(section, name, "PASS" if ok else "FAIL", value)
        return ok

    @property
    def failed(self) -> list[Line]:
        return [line for line in self.lines if line.status == "FAIL"]

    def markdown(self, title: str) -> str:
        """The report as a Markdown section for benchmarks/RESULTS.md."""
        out = [f"### {title}", "", "| section | check | result | value |", "| --- | --- | --- | --- |"]
        for line in self.lines:
            value = line.value.replace("|", "\\|")
            out.append(f"| {line.section} | {line.name} | {line.status} | {value} |")
        counts = {s: sum(line.status == s for line in self.lines) for s in ("PASS", "FAIL", "INFO", "SKIP")}
        out += ["", ", ".join(f"{v} {k}" for k, v in counts.items()), ""]
        return "\n".join(out)


@contextmanager
def checking(report: Report, section: str, name: str) -> Iterator[None]:
    """A check that raises becomes one FAIL line naming the error; the report goes on."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - the doctor reports every failure and continues
        first = (str(e).strip().splitlines() or [""])[0][:300]
        report.add(section, name, "FAIL", f"{type(e).__name__}: {first}")
