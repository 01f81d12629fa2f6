"""Local response normalisation, Section 3.3 of the paper, written out by hand.

The paper normalises the activity a of kernel i at position (x, y) by its neighbours in the
channel dimension:

    b_i = a_i / (k + alpha * sum_{j = max(0, i - n/2)}^{min(N - 1, i + n/2)} a_j^2) ** beta

with k = 2, n = 5, alpha = 1e-4 and beta = 0.75. Here alpha multiplies the plain sum, as in the
paper. ``torch.nn.LocalResponseNorm`` divides its alpha by n (it averages the squares instead
of summing them), so the same layer in PyTorch needs ``alpha=n * 1e-4``; chapter 4 shows both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["local_response_norm", "LocalResponseNorm", "torch_alpha"]


def local_response_norm(
    x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
) -> torch.Tensor:
    """The paper's LRN over dimension 1 (channels) of ``x`` with shape (N, C, ...).

    The window of channel i runs from i - size // 2 to i + (size - 1) // 2, cut at the edges;
    for the paper's odd n that is exactly its max(0, i - n/2) ... min(N - 1, i + n/2).
    """
    if x.dim() < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) with rank >= 3, got shape {tuple(x.shape)}")
    if size < 1:
        raise ValueError(f"size (the paper's n) must be a positive number of channels, got {size}")
    n, c = x.shape[:2]
    squares = x.pow(2).reshape(n, c, -1)
    # zero channels on both sides, then a sliding window of `size` channels summed
    padded = F.pad(squares, (0, 0, size // 2, (size - 1) // 2))
    sums = padded.unfold(1, size, 1).sum(dim=-1)
    return x / (k + alpha * sums.reshape(x.shape)).pow(beta)


def torch_alpha(alpha: float, size: int) -> float:
    """The ``alpha`` to give ``torch.nn.LocalResponseNorm`` for the paper's ``alpha``: alpha * n."""
    return alpha * size


class LocalResponseNorm(nn.Module):
    """Module form of :func:`local_response_norm` with the paper's defaults (k=2, n=5, alpha=1e-4, beta=0.75)."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k} (paper convention)"
