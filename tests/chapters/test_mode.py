"""Quick, full and rehearsed mode (alexnet.chapters.mode), what a rehearsal shrinks, and the hardware line."""

import dataclasses
import io
import platform

import pytest
import torch

from alexnet.chapters import mode
from alexnet.chapters.mode import REHEARSAL, hardware, is_quick, is_rehearsal, mode_name, rehearsed
from alexnet.claims.designs import CLAIMS
from alexnet.training import recipes
from alexnet.training.loop import _rehearsed


def test_quick_follows_the_variable(monkeypatch):
    monkeypatch.delenv("ALEXNET_REHEARSAL", raising=False)
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    assert is_quick() and mode_name() == "quick" and not is_rehearsal()
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    assert not is_quick() and mode_name() == "full"
    monkeypatch.setenv("ALEXNET_QUICK", "yes")
    with pytest.raises(ValueError, match="ALEXNET_QUICK must be 0"):
        is_quick()


def test_a_rehearsal_is_full_mode_and_says_so(monkeypatch):
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    assert is_rehearsal() and not is_quick()
    assert mode_name().startswith("full, rehearsed")
    assert rehearsed(90, "epochs") == REHEARSAL["epochs"] and rehearsed(1, "epochs") == 1
    monkeypatch.setenv("ALEXNET_REHEARSAL", "0")
    assert rehearsed(90, "epochs") == 90


@pytest.mark.parametrize(
    "value, quick, message", [("2", "0", "ALEXNET_REHEARSAL must be 1"), ("1", "1", "set ALEXNET_QUICK=0")]
)
def test_a_bad_rehearsal_setting_gets_one_line(monkeypatch, value, quick, message):
    monkeypatch.setenv("ALEXNET_REHEARSAL", value)
    monkeypatch.setenv("ALEXNET_QUICK", quick)
    with pytest.raises(ValueError, match=message):
        is_quick()


def test_a_rehearsal_shrinks_the_amounts_and_keeps_everything_else(monkeypatch):
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    full = recipes.CHAPTER_10_FULL
    small = _rehearsed(full, talk=False)
    assert (small.epochs, small.batch_size) == (REHEARSAL["epochs"], REHEARSAL["batch_size"])
    same = {f.name for f in dataclasses.fields(full)} - {"epochs", "batch_size", "dataset_options", "val_options"}
    assert all(getattr(small, name) == getattr(full, name) for name in same)
    synthetic = _rehearsed(recipes.CLI_QUICK, talk=False)
    assert synthetic.dataset_options["num_images"] == REHEARSAL["images"]
    assert synthetic.dataset_options["image_size"] == recipes.CLI_QUICK.dataset_options["image_size"]
    for claim in CLAIMS.values():
        design, real = claim.design(True), claim.full
        assert design.budget.epochs == min(real.budget.epochs, REHEARSAL["claim_epochs"])
        assert design.budget.image_size == real.budget.image_size and design.budget.width == real.budget.width
        assert design.lrs == real.lrs[: REHEARSAL["sweep"]]
        assert claim.design(False) is claim.quick  # quick mode is not touched
    monkeypatch.setenv("ALEXNET_REHEARSAL", "0")
    assert _rehearsed(full, talk=False) is full and all(c.design(True) is c.full for c in CLAIMS.values())


# /proc/cpuinfo as Linux writes it on a 2-vCPU cloud machine (the first of its two blocks)
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7B13
stepping\t: 0
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep avx2

processor\t: 1
model name\t: AMD EPYC 7B13
"""


def _machine(monkeypatch, cpuinfo: str | None = CPUINFO, gpu: str | None = None, processor: str = "") -> None:
    """A made-up machine: every source the hardware line reads is replaced (None: no /proc/cpuinfo, or no GPU)."""

    def fake_open(path, *args, **kwargs):
        if str(path) != "/proc/cpuinfo":
            return open(path, *args, **kwargs)
        if cpuinfo is None:
            raise FileNotFoundError(path)
        return io.StringIO(cpuinfo)

    monkeypatch.setattr(mode, "open", fake_open, raising=False)
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "processor", lambda: processor)
    monkeypatch.setattr(platform, "python_version", lambda: "3.11.9")
    monkeypatch.setattr(torch, "__version__", "2.14.1")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu is not None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: gpu)


@pytest.mark.parametrize(
    "machine, line",
    [
        ({}, "CPU only (AMD EPYC 7B13, x86_64, AVX2 kernels); 3 CPU threads; torch 2.14.1; Python 3.11.9"),
        ({"gpu": "NVIDIA L4"}, "GPU: NVIDIA L4; 3 CPU threads; torch 2.14.1; Python 3.11.9"),
        (
            {"cpuinfo": None, "processor": "arm"},
            "CPU only (arm, AVX2 kernels); 3 CPU threads; torch 2.14.1; Python 3.11.9",
        ),
        ({"cpuinfo": None}, "CPU only (x86_64, AVX2 kernels); 3 CPU threads; torch 2.14.1; Python 3.11.9"),
        (
            {"cpuinfo": "processor\t: 0\nBogoMIPS\t: 50.00\n"},  # an ARM board's cpuinfo has no model name
            "CPU only (x86_64, AVX2 kernels); 3 CPU threads; torch 2.14.1; Python 3.11.9",
        ),
    ],
    ids=["linux-cpu", "gpu", "no-cpuinfo", "no-cpuinfo-no-processor", "cpuinfo-without-model-name"],
)
def test_the_hardware_line_names_the_device_its_kernels_threads_and_versions(monkeypatch, machine, line):
    """Each chapter prints this line under its outputs: on a made-up machine it is exactly the line typed here."""
    _machine(monkeypatch, **machine)
    assert hardware() == line


def test_the_hardware_line_of_this_machine_agrees_with_torch_and_python():
    """On the real machine, each part of the line is what torch and Python report, asked here directly."""
    line = hardware()
    device = f"GPU: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "CPU only ("
    assert line.startswith(device), line
    versions = f"; {torch.get_num_threads()} CPU threads; torch {torch.__version__}; Python {platform.python_version()}"
    assert line.endswith(versions), line
    if not torch.cuda.is_available():
        assert line.endswith(f", {torch.backends.cpu.get_cpu_capability()} kernels){versions}"), line
