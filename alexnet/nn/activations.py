"""Section 3.1, "ReLU Nonlinearity": the saturating nonlinearities (tanh, the sigmoid) against f(x) = max(0, x).

The paper's argument is about gradients: a saturating unit passes almost none once its input is
large, a ReLU passes all of it wherever it is active, and networks of ReLUs therefore train
"several times faster" (Figure 1). :func:`activation_and_gradient` gives f and f' by autograd,
what chapter 3 plots (:func:`alexnet.chapters.plots.plot_activations`); the networks choose their
activation by name (:data:`ACTIVATIONS`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "ACTIVATION_FUNCTIONS", "activation_and_gradient"]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}  # the units a network of this package can be built with

ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def activation_and_gradient(name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and f'(x) of a named activation, the derivative by autograd (ReLU's f'(0) is taken as 0)."""
    if name not in ACTIVATION_FUNCTIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATION_FUNCTIONS)}, got {name!r}")
    x = x.detach().float().clone().requires_grad_(True)
    y = ACTIVATION_FUNCTIONS[name](x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), grad
