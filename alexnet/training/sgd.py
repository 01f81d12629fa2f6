"""Section 5's optimiser: the paper's momentum update and its learning-rate schedule.

"We trained our models using stochastic gradient descent with a batch size of 128 examples,
momentum of 0.9, and weight decay of 0.0005 ... The update rule for weight w was

    v <- 0.9 * v - 0.0005 * eps * w - eps * dL/dw,      w <- w + v

... We used an equal learning rate for all layers ... The heuristic which we followed was to divide
the learning rate by 10 when the validation error rate stopped improving with the current learning
rate. The learning rate was initialized at 0.01 and reduced three times prior to termination."

:class:`PaperSGD` is that update rule, literally, as ``torch.optim.Optimizer``; :func:`make_scheduler`
is the division by 10 as ``ReduceLROnPlateau``. A mechanism of the paper like LRN (:mod:`alexnet.nn.lrn`)
and dropout (:mod:`alexnet.nn.dropout`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from alexnet.training.config import TrainConfig

__all__ = ["PaperSGD", "make_optimizer", "make_scheduler"]


class PaperSGD(torch.optim.Optimizer):
    """Section 5's update, literally: v <- m v - wd eps w - eps g; w <- w + v.

    ``torch.optim.SGD`` keeps a velocity of gradients, b <- m b + (g + wd w), and steps
    w <- w - eps b. While eps stays fixed the two are the same sequence of weights (v = -eps b).
    They part when eps changes: here the velocity was built with the old eps and decays over
    about 1 / (1 - m) = 10 steps, so a division by 10 takes effect gradually; torch's rule
    multiplies its whole velocity by the new eps at once. :func:`make_optimizer` offers both.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0005) -> None:
        if lr <= 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"need lr > 0, momentum >= 0, weight_decay >= 0; got {lr}, {momentum}, {weight_decay}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            grads = [p.grad for p in params]
            velocity = []
            for p in params:
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                velocity.append(state["velocity"])
            # v <- m v - wd lr w - lr g   (one fused pass over all tensors of the group)
            torch._foreach_mul_(velocity, m)
            if wd:
                torch._foreach_add_(velocity, params, alpha=-wd * lr)
            torch._foreach_add_(velocity, grads, alpha=-lr)
            # w <- w + v
            torch._foreach_add_(params, velocity)
        return loss


def make_optimizer(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser a :class:`~alexnet.training.config.TrainConfig` names: ``"paper"`` (:class:`PaperSGD`) or ``"torch"`` (``torch.optim.SGD``)."""
    if config.optimizer == "paper":
        return PaperSGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
    """Divide the learning rate by 10 when validation top-1 error stops improving, at most ``lr_drops`` times.

    The paper's rule was a human watching the validation error (Section 5); here "stops
    improving" means no new best for ``lr_patience`` epochs. The floor lr * factor**drops stops
    it after the paper's three divisions.
    """
    floor = config.lr * config.lr_factor**config.lr_drops
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=config.lr_factor,
        patience=config.lr_patience,
        threshold=0.0,
        min_lr=floor * (1 - 1e-6),
        eps=floor * 1e-3,
    )
