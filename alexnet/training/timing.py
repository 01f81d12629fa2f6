"""How long a call takes: the one timer of the package, built on ``torch.utils.benchmark``.

``torch.utils.benchmark.Timer`` waits for queued GPU work before it reads the clock (a timing
that does not would measure only the queueing) and runs the statement twice untimed before it
times it. Two settings are not its defaults here: it is told to use as many threads as torch
uses (its default is one, which would time a CPU layer at a fraction of its real speed), and the
warning its import logs on machines that have a CUDA toolkit but no GPU is silenced, so that it
does not appear in chapter outputs. The bench (:mod:`alexnet.tools.bench`), the trainer's choice of
LRN implementation (:mod:`alexnet.training.step`) and chapter 4 time with :func:`time_call`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # "No CUDA runtime is found" on CPU machines
from torch.utils import benchmark  # noqa: E402  (after the logger is quietened)

__all__ = ["time_call"]


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 2) -> float:
    """Mean seconds per call of ``fn()`` over ``repeats`` calls in a row, after ``warmup`` untimed calls.

    The untimed calls absorb what only first calls pay (compilation, cuDNN's autotuner, the
    allocator); torch's timer makes two of them itself, so ``warmup`` is at least 2. The timed
    calls run back to back, as training steps do, and the clock is read after the GPU has
    finished them: ``batch / time_call(step)`` is a throughput.
    """
    if repeats < 1 or warmup < 2:
        raise ValueError(f"need repeats >= 1 and warmup >= 2 (torch's timer makes two), got {repeats}, {warmup}")
    for _ in range(warmup - 2):
        fn()
    timer = benchmark.Timer("fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.timeit(repeats).mean
