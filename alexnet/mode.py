"""Quick or full mode for the chapters, and the hardware that produced a chapter's outputs.

A chapter runs quick when ``ALEXNET_QUICK=1`` (CI and pytest set it) or, if the variable is
unset, when no CUDA device is present; quick mode shrinks runs so that they finish on a CPU,
and every chapter prints which mode it ran in.
"""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["is_quick", "mode_name", "hardware", "pick", "CPU_PINS", "pin_cpu_kernels"]

# An x86 CPU runs torch's, oneDNN's and MKL's kernels in the widest instruction set it has (AVX2 or
# AVX-512), and the two round differently: the same seeded training gave other epochs and errors in
# the second decimal on an AVX-512 machine than on CI's AVX2 one. Pinned to AVX2, which every x86-64
# CPU this project runs on has, a chapter's trained numbers are the same on both, so nbval can compare
# them with the committed outputs. book/conftest.py sets these for the kernels nbval starts; they must be
# in the environment before torch computes anything.
CPU_PINS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2"}  # fmt: skip


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


def pin_cpu_kernels(environ=os.environ) -> None:
    """Put :data:`CPU_PINS` into ``environ`` on an x86-64 machine, keeping any value already set there."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        for name, value in CPU_PINS.items():
            environ.setdefault(name, value)


def hardware() -> str:
    """One line naming the device, CPU threads and library versions."""
    if torch.cuda.is_available():
        device = f"GPU: {torch.cuda.get_device_name(0)}"
    else:
        kernels = torch.backends.cpu.get_cpu_capability()  # AVX2 when pinned (CPU_PINS)
        device = f"CPU only ({platform.processor() or platform.machine()}, {kernels} kernels)"
    return f"{device}; {torch.get_num_threads()} CPU threads; torch {torch.__version__}; Python {platform.python_version()}"
