"""Quick or full mode for the chapters, and the hardware that produced a chapter's outputs.

A chapter runs quick when ``ALEXNET_QUICK=1`` (CI and pytest set it) or, if the variable is
unset, when no CUDA device is present; quick mode shrinks runs so that they finish on a CPU,
and every chapter prints which mode it ran in.
"""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["is_quick", "mode_name", "hardware", "pick", "cpu_name"]


def is_quick() -> bool:
    value = os.environ.get("ALEXNET_QUICK")
    if value is None or value.strip() == "":
        return not torch.cuda.is_available()
    if value.strip() not in ("0", "1"):
        raise ValueError(f"ALEXNET_QUICK must be 0 (full mode) or 1 (quick mode), got {value!r}")
    return value.strip() == "1"


def mode_name() -> str:
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
