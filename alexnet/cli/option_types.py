"""What each option of the command line accepts: the argparse ``type`` of every option that takes a value.

Every option that takes a number, a path or a device names one of these as its ``type``: a bad value
stops the command before any work with one line, ``argument --batch-size: expected a whole number of at
least 1, got '0'`` (the parsers of :mod:`alexnet.cli.parser` print it without the usage), and the help
text says what the option accepts. Each also lists values it must refuse (``bad_values``), so that a test
can try them on every option.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Number", "PathArg", "Device", "DEVICE", "WHOLE", "POSITIVE", "SEED"]


@dataclass(frozen=True)
class Number:
    """A whole (``whole=True``) or real number from ``low`` to ``high``; ``above``: ``low`` itself excluded,
    ``below``: ``high`` itself excluded; ``high_words``: how to write ``high`` (e.g. ``2**63 - 1``)."""

    whole: bool = True
    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False
    high_words: str | None = None

    def __call__(self, text: str):
        try:
            value = int(text) if self.whole else float(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not self.accepts(value):
            raise argparse.ArgumentTypeError(f"expected {self}, got {text!r}")
        return value

    def accepts(self, value) -> bool:
        low_ok = self.low is None or (value > self.low if self.above else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.below else value <= self.high)
        return low_ok and high_ok

    def __str__(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        if self.high is not None:
            low = "" if self.low is None else f" from {self.low:g}{' (excluded)' if self.above else ''}"
            return f"{kind}{low} to {self.high_words or f'{self.high:g}'}{' (excluded)' if self.below else ''}"
        if self.low is not None:
            return f"{kind} {'above' if self.above else 'of at least'} {self.low:g}"
        return kind

    def bad_values(self) -> list[str]:
        """Texts this option must refuse: a word, and the numbers just outside its range."""
        step = 1 if self.whole else 0.5
        bad = ["many"]
        if self.low is not None:
            bad.append(str(self.low if self.above else self.low - step))
        if self.high is not None:
            bad.append(str(self.high if self.below else self.high + step))
        return bad


@dataclass(frozen=True)
class PathArg:
    """A path: ``"existing"`` (a file or folder that is there), ``"folder"`` (a folder, made if missing,
    so not a file), ``"new file"`` (a file to write: its folder is there, and it is not a folder)."""

    kind: str

    def __call__(self, text: str) -> str:
        path = Path(text)
        if not text or (self.kind == "existing" and not path.exists()):
            raise argparse.ArgumentTypeError(f"expected {self}, but there is nothing at {text!r}")
        if self.kind == "folder" and (path.exists() and not path.is_dir() or _under_a_file(path)):
            raise argparse.ArgumentTypeError(f"expected {self}, but {text!r} is a file or lies under one")
        if self.kind == "new file" and (path.is_dir() or not path.parent.is_dir()):
            raise argparse.ArgumentTypeError(f"expected {self}, got {text!r}")
        return text

    def __str__(self) -> str:
        return {"existing": "a file or folder that exists", "folder": "a folder (made if missing)",
                "new file": "a file to write, in a folder that exists"}[self.kind]  # fmt: skip

    def bad_values(self, tmp: Path) -> list[str]:
        """Paths this option must refuse, made under ``tmp``."""
        (tmp / "a-file").write_text("")
        (tmp / "a-folder").mkdir(exist_ok=True)
        return {"existing": [str(tmp / "missing")], "folder": [str(tmp / "a-file"), str(tmp / "a-file" / "below")],
                "new file": [str(tmp / "a-folder"), str(tmp / "missing" / "report.md")]}[self.kind]  # fmt: skip


def _under_a_file(path: Path) -> bool:
    return any(p.exists() and not p.is_dir() for p in path.parents)


@dataclass(frozen=True)
class Device:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; whether this machine has it is checked when the run starts."""

    def __call__(self, text: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", text):
            raise argparse.ArgumentTypeError(f"expected {self}, got {text!r}")
        return text

    def __str__(self) -> str:
        return "auto, cpu, cuda, cuda:N or mps"

    def bad_values(self) -> list[str]:
        return ["gpu", "cuda:x"]


DEVICE = Device()
WHOLE = Number(low=1)  # a count: epochs, images, a batch
POSITIVE = Number(whole=False, low=0, above=True)  # a learning rate, a width multiplier
SEED = Number(low=0, high=2**63 - 1, high_words="2**63 - 1")  # what every random-number generator of a run accepts
