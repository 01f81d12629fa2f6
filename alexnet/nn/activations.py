"""Section 3.1, "ReLU Nonlinearity": the saturating nonlinearities (tanh, the sigmoid) against f(x) = max(0, x).

The paper's argument is about gradients: a saturating unit passes almost none once its input is
large, a ReLU passes all of it wherever it is active, and networks of ReLUs therefore train
"several times faster" (Figure 1). :func:`activation_and_gradient` gives f and f' by autograd,
what chapter 3 plots (:func:`alexnet.chapters.mechanism_plots.plot_activations`); the networks choose their
activation by name (:data:`ACTIVATIONS`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "ACTIVATION_FUNCTIONS", "activation_and_gradient"]

# Section 3.1's units: each name's function f and the layer a network of this package is built with, where one is
# (Figure 1 compares ReLU and tanh networks; the sigmoid is only plotted).
_UNITS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], type[nn.Module] | None]] = {
    "relu": (torch.relu, nn.ReLU),
    "tanh": (torch.tanh, nn.Tanh),
    "sigmoid": (torch.sigmoid, None),
}
ACTIVATIONS = {name: layer for name, (_, layer) in _UNITS.items() if layer is not None}
ACTIVATION_FUNCTIONS = {name: f for name, (f, _) in _UNITS.items()}


def activation_and_gradient(name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and f'(x) of a named activation, the derivative by autograd (ReLU's f'(0) is taken as 0)."""
    if name not in ACTIVATION_FUNCTIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATION_FUNCTIONS)}, got {name!r}")
    x = x.detach().float().clone().requires_grad_(True)
    y = ACTIVATION_FUNCTIONS[name](x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), grad
