"""Where a run runs: one device, or under ``torchrun`` one process per device (DistributedDataParallel).

The helpers torchvision's ``references/classification/utils.py`` keeps beside its loop:
:func:`resolve_device` turns ``--device`` into a ``torch.device`` (or says why it cannot),
:func:`init` starts the process group when ``torchrun`` launched us and returns (rank, world
size, local rank), :func:`all_reduce` sums a tensor over the processes, :func:`barrier` waits for
all of them, :func:`synchronize` waits for the GPU (for timings).
"""

from __future__ import annotations

import os

import torch

from alexnet.training.errors import TrainingError

__all__ = ["resolve_device", "init", "all_reduce", "barrier", "synchronize"]


def resolve_device(name: str) -> torch.device:
    """``"auto"`` is the GPU when there is one; asking for CUDA without one is a :class:`TrainingError`."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}") from e
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device {name!r} asks for a GPU, but PyTorch sees none (torch.cuda.is_available() is False); "
                "use --device cpu, or on Colab choose Runtime > Change runtime type > GPU"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise TrainingError(f"device {name!r} does not exist: PyTorch sees {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}")
    return device


def init(device: torch.device) -> tuple[int, int, int]:
    """(rank, world size, local rank); starts the process group when torchrun launched us (NCCL on GPUs, gloo on CPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size(), local


def all_reduce(t: torch.Tensor, world: int) -> torch.Tensor:
    """``t`` summed over the ``world`` processes, in place (itself when there is one)."""
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(t)
    return t


def barrier(world: int) -> None:
    """Wait until every process gets here (nothing to wait for with one)."""
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued work: a timing that ends before it would measure only the queueing."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
