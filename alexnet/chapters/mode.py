"""Quick or full mode for the chapters, and the hardware that produced a chapter's outputs.

A chapter runs quick when ``ALEXNET_QUICK=1`` (CI and pytest set it) or, if the variable is
unset, when no CUDA device is present; quick mode shrinks runs so that they finish on a CPU,
and every chapter prints which mode it ran in.

``ALEXNET_REHEARSAL=1`` rehearses full mode on a CPU: every full-mode code path runs (the
full-mode recipes, image sizes, datasets, downloads, checkpoints and figures), and only the
amounts shrink to :data:`REHEARSAL` (epochs, seeds, batch size, sweep points, images), so that a
chapter that would train for hours on a GPU runs in seconds. The tests rehearse every chapter
this way before a learner meets its full mode on Colab.
"""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["is_quick", "is_rehearsal", "mode_name", "hardware", "pick", "cpu_name", "REHEARSAL", "rehearsed"]

# What a rehearsal keeps of each amount (an upper bound: a smaller amount stays as it is).
REHEARSAL = {"epochs": 4, "claim_epochs": 2, "seeds": 2, "sweep": 2, "batch_size": 8, "images": 32, "patches": 2}


def is_rehearsal() -> bool:
    """``ALEXNET_REHEARSAL=1``: full mode's code with :data:`REHEARSAL`'s amounts (see the module's docstring)."""
    value = os.environ.get("ALEXNET_REHEARSAL", "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"ALEXNET_REHEARSAL must be 1 (rehearse full mode on a CPU) or 0, got {value!r}")
    if value == "1" and os.environ.get("ALEXNET_QUICK", "").strip() == "1":
        raise ValueError("ALEXNET_REHEARSAL=1 rehearses full mode: set ALEXNET_QUICK=0 with it, not 1")
    return value == "1"


def rehearsed(value: int, amount: str) -> int:
    """``value``, or in a rehearsal at most :data:`REHEARSAL`'s ``amount`` of it."""
    return min(value, REHEARSAL[amount]) if is_rehearsal() else value


def is_quick() -> bool:
    if is_rehearsal():
        return False
    value = os.environ.get("ALEXNET_QUICK")
    if value is None or value.strip() == "":
        return not torch.cuda.is_available()
    if value.strip() not in ("0", "1"):
        raise ValueError(f"ALEXNET_QUICK must be 0 (full mode) or 1 (quick mode), got {value!r}")
    return value.strip() == "1"


def mode_name() -> str:
    if is_rehearsal():
        return "full, rehearsed (ALEXNET_REHEARSAL=1: full mode's code at a CPU's amounts; its numbers mean nothing)"
    return "quick" if is_quick() else "full"


def pick(quick, full):
    """``quick`` in quick mode, ``full`` otherwise: keeps both settings visible in a chapter."""
    return quick if is_quick() else full


def cpu_name() -> str:
    """The CPU's model name where Linux tells it (trained numbers round differently on each), else its architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()}, {platform.machine()}"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> str:
    """One line naming the device, CPU threads and library versions."""
    if torch.cuda.is_available():
        device = f"GPU: {torch.cuda.get_device_name(0)}"
    else:
        kernels = torch.backends.cpu.get_cpu_capability()  # AVX512, AVX2, ... (ATEN_CPU_CAPABILITY can lower it)
        device = f"CPU only ({cpu_name()}, {kernels} kernels)"
    return f"{device}; {torch.get_num_threads()} CPU threads; torch {torch.__version__}; Python {platform.python_version()}"
