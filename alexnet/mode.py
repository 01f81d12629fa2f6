"""Quick or full mode for the chapters, and the hardware that produced a chapter's outputs.

A chapter runs quick when ``ALEXNET_QUICK=1`` (CI and pytest set it) or, if the variable is
unset, when no CUDA device is present; quick mode shrinks runs so that they finish on a CPU,
and every chapter prints which mode it ran in.
"""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["is_quick", "mode_name", "hardware", "pick", "CPU_PINS", "pin_cpu_kernels", "cpu_name"]

# An x86 CPU runs torch's, oneDNN's and MKL's kernels in the widest instruction set it has (AVX2 or
# AVX-512), and the two round differently: the same seeded training gave other epochs and errors in
# the second decimal on an AVX-512 machine than on an AVX2 one. Pinned to AVX2, two AMD EPYC CPUs (one
# with AVX-512, one without) gave the same trained numbers. The pins do not make an Intel Xeon agree with
# them: with the same pins and seeds it trained to other numbers (2026-12-03; a claim's verdict flipped),
# so a chapter's committed outputs hold for the CPU they were made on, which hardware() names, and are
# re-made on the machine that CI runs on. book/conftest.py sets these for the kernels nbval starts; they
# must be in the environment before torch computes anything.
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


def cpu_name() -> str:
    """The CPU's model name where Linux tells it (trained numbers depend on it, see CPU_PINS), else its architecture."""
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
        kernels = torch.backends.cpu.get_cpu_capability()  # AVX2 when pinned (CPU_PINS)
        device = f"CPU only ({cpu_name()}, {kernels} kernels)"
    return f"{device}; {torch.get_num_threads()} CPU threads; torch {torch.__version__}; Python {platform.python_version()}"
