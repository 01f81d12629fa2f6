"""The training step's fast path: mixed precision, channels-last, the faster LRN, ``torch.compile``.

None of this is in the paper, whose two GTX 580s computed in fp32 (Section 3.2); it is what makes
Section 5's recipe fit a Colab session. :class:`TrainStep` is one SGD step on a batch already on
the device, shared by :func:`alexnet.training.loop.train` and ``python -m alexnet bench``: under autocast
(bf16, or fp16 with a gradient scaler and the paper's LRN kept in fp32, since it squares
activations), channels-last, with the LRN implementation that is faster on the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alexnet.nn.lrn import LRN_IMPLS, LocalResponseNorm
from alexnet.nn.model import AlexNet
from alexnet.training.timing import time_call

__all__ = [
    "TrainStep",
    "autocast_dtype",
    "native_dtype",
    "GPUS",
    "use_channels_last",
    "choose_lrn",
    "lrn_timings",
    "PRECISIONS",
]


PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_dtype(device: torch.device, amp: bool | str) -> torch.dtype | None:
    """The autocast dtype of a training step, or None for plain fp32.

    ``amp=True``: bf16 on GPUs that compute in it natively (compute capability 8 and up), fp16 on
    older ones, None on a CPU (the fast path is a GPU path). ``amp=False``: None. ``"bf16"`` or
    ``"fp16"``: that dtype on any device; CPU autocast runs both, which is how the tests and
    ``python -m alexnet doctor`` exercise the GPU's branches on a machine without one.
    """
    if isinstance(amp, str):
        if amp not in PRECISIONS:
            raise ValueError(f"amp must be True, False, 'bf16' or 'fp16', got {amp!r}")
        return PRECISIONS[amp]
    if not amp or device.type != "cuda":
        return None
    return native_dtype(torch.cuda.get_device_capability(device))


# Compute capabilities of the GPUs a learner meets (Colab's T4 and L4, cloud A100s and H100s), from NVIDIA's
# CUDA GPU table: bf16 arithmetic arrived with 8.0 (Ampere).
GPUS = {"T4": (7, 5), "V100": (7, 0), "L4": (8, 9), "A100": (8, 0), "H100": (9, 0)}


def native_dtype(capability: tuple[int, int]) -> torch.dtype:
    """The mixed-precision dtype for a GPU of this compute capability: bf16 from 8.0 on, else fp16 (which then
    needs the gradient scaler, and the LRN kept in fp32 so that its squares do not overflow)."""
    return torch.bfloat16 if capability >= (8, 0) else torch.float16


def use_channels_last(device: torch.device, channels_last: bool | str) -> bool:
    """``True``: channels-last on CUDA only (cuDNN's fast convolutions want it); ``"always"``: on a CPU too; ``False``: never."""
    if isinstance(channels_last, str):
        if channels_last != "always":
            raise ValueError(f"channels_last must be True, False or 'always', got {channels_last!r}")
        return True
    return bool(channels_last) and device.type == "cuda"


class _Float32(nn.Module):
    """Runs a module in float32 under autocast: the paper's LRN squares activations, which overflow fp16."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.module(x.float()).to(x.dtype)


def _lrn_in_float32(model: AlexNet) -> None:
    """Wrap each LRN of ``model`` in :class:`_Float32`: under fp16 a^2 overflows for |a| > 256 (fp16's largest value is 65504)."""
    for i, module in enumerate(model.features):
        if isinstance(module, LocalResponseNorm):
            model.features[i] = _Float32(module)


def _lrns(model: nn.Module) -> list[LocalResponseNorm]:
    return [m for m in model.modules() if isinstance(m, LocalResponseNorm)]


# On a CPU the hand-written LRN is the faster one: measured 2026-12-01 on 2 vCPUs (AMD EPYC, torch 2.14.1),
# forward + backward at conv1's output (32, 96, 55, 55) fp32: 610 ms against torch's 772 ms, and at conv2's
# (32, 256, 27, 27): 317 ms against 465 ms; torch's CPU kernel (avg_pool3d) also has no bf16 version.
_LRN_RULE = {"cpu": "paper"}


def lrn_timings(
    shape: tuple[int, ...], device: torch.device, dtype: torch.dtype = torch.float32, repeats: int = 3
) -> dict[str, float]:
    """Seconds per forward + backward of the paper's LRN on a batch of ``shape``, for each implementation.

    An implementation that cannot run in ``dtype`` on ``device`` (torch's has no bf16 CPU kernel) is left out.
    """
    x = torch.randn(shape, device=device).mul_(20).to(dtype).requires_grad_()
    times: dict[str, float] = {}
    for impl in LRN_IMPLS:
        layer = LocalResponseNorm(impl=impl)
        try:
            layer(x).sum().backward()  # can it run in this dtype here at all?
        except (NotImplementedError, RuntimeError):
            continue
        times[impl] = time_call(lambda layer=layer: layer(x).sum().backward(), repeats, warmup=2)
    return times


def choose_lrn(model: nn.Module, device: torch.device, dtype: torch.dtype | None, batch_size: int = 64) -> str:
    """The faster of the two LRN implementations for ``model`` on ``device``, set on its LRN layers; returns its name.

    Both compute the same numbers. On a CPU the choice is the measured rule :data:`_LRN_RULE`; on
    other devices both are timed once on the first LRN's input for ``batch_size`` images, in the
    step's dtype, and the faster one is used.
    """
    layers = _lrns(model)
    if not layers:
        return "none"
    impl = _LRN_RULE.get(device.type)
    if impl is None:
        cfg = getattr(model, "config", None)
        if cfg is None:
            return layers[0].impl
        side = model.features[: next(i for i, m in enumerate(model.features) if _lrns(m))]
        with torch.no_grad():
            shape = tuple(side(torch.zeros(1, 3, cfg.image_size, cfg.image_size, device=device)).shape)
        # under fp16 the LRN runs in fp32 (_lrn_in_float32), so it is timed in fp32 there
        timed = torch.float32 if dtype in (None, torch.float16) else dtype
        times = lrn_timings((batch_size, *shape[1:]), device, timed)
        impl = min(times, key=times.get) if times else "paper"
    for layer in layers:
        layer.impl = impl
    return impl


class TrainStep:
    """One SGD step on a batch already on the device: the fast path that :func:`train` and ``bench`` share.

    On CUDA it runs under autocast (bf16, or fp16 with a gradient scaler and the LRN kept in fp32),
    keeps the model and the batch channels-last, can ``torch.compile`` the model and uses the faster
    LRN implementation; on a CPU it is a plain fp32 step unless asked otherwise: ``amp="bf16"`` or
    ``"fp16"`` and ``channels_last="always"`` run the same branches there (see :func:`autocast_dtype`).
    The gradient scaler's calls are made on every path; it is enabled exactly when the dtype is fp16.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        amp: bool | str = True,
        channels_last: bool | str = True,
        compile: bool = False,
        distributed: bool = False,
        lrn: str = "auto",
    ) -> None:
        self.device = device
        self.dtype = autocast_dtype(device, amp)
        self.channels_last = use_channels_last(device, channels_last)
        if lrn == "auto":
            self.lrn = choose_lrn(model, device, self.dtype)
        elif lrn in LRN_IMPLS:
            for layer in _lrns(model):
                layer.impl = lrn
            self.lrn = lrn
        else:
            raise ValueError(f"lrn must be 'auto', 'paper' or 'torch', got {lrn!r}")
        if self.dtype == torch.float16 and isinstance(model, AlexNet):
            _lrn_in_float32(model)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.model = model  # the plain network: evaluation and checkpoints use it
        net = model
        if distributed:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        self.train_model = torch.compile(net) if compile else net
        self.optimizer = optimizer
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _run(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            return module(self.prepare(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The plain network under the step's precision and layout: for evaluation."""
        return self._run(self.model, x)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward, update; returns the loss and the logits (detached)."""
        logits = self._run(self.train_model, x)
        loss = F.cross_entropy(logits.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach(), logits.detach()
