"""Dropout as Section 4.2 of the paper describes it, beside PyTorch's inverted dropout.

The paper zeroes each hidden unit of fc6 and fc7 with probability 0.5 while training, and at test
time uses all units but "multiply their outputs by 0.5", which it calls "a reasonable
approximation to taking the geometric mean of the predictive distributions produced by the
exponentially-many dropout networks". PyTorch's ``nn.Dropout`` instead divides the kept outputs
by 1 - p while training and does nothing at test time ("inverted" dropout). This module holds
the paper's version and a check that both agree in expectation; the ensemble view is measured in
:mod:`alexnet.claims.ensemble`.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PaperDropout", "DROPOUTS", "use_paper_dropout", "dropout_expectation"]


class PaperDropout(nn.Module):
    """Dropout as Section 4.2 states it: zero each output with probability p while training,
    and at test time keep all outputs but "multiply their outputs by 0.5" (by 1 - p).

    PyTorch's ``nn.Dropout`` is "inverted" dropout: it divides the kept outputs by 1 - p while
    training and does nothing at test time. Both give the next layer the same expected input.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return x * torch.bernoulli(torch.full_like(x, 1.0 - self.p))
        return x * (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p} (paper convention: outputs x {1 - self.p} at test time)"


def use_paper_dropout(model: nn.Module) -> nn.Module:
    """Replace every ``nn.Dropout`` in ``model`` by a :class:`PaperDropout` with the same p, in place."""
    for name, child in model.named_children():
        if isinstance(child, nn.Dropout):
            setattr(model, name, PaperDropout(child.p))
        else:
            use_paper_dropout(child)
    return model


@torch.no_grad()
def dropout_expectation(x: torch.Tensor, p: float = 0.5, samples: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Training-time mean over ``samples`` masks vs the test-time output, for both conventions.

    Returns the largest absolute gap between the Monte-Carlo training mean and the test-time
    output for the paper's dropout and for PyTorch's inverted dropout, and the ratio of the two
    conventions' test-time outputs (1 - p: the paper's test output is the inverted one times 1 - p).
    """
    if samples < 1:
        raise ValueError(f"samples must be positive, got {samples}")
    torch.manual_seed(seed)
    paper, inverted = PaperDropout(p), nn.Dropout(p)
    batch = x.unsqueeze(0).expand(samples, *x.shape)
    paper.train(), inverted.train()
    paper_mean, inverted_mean = paper(batch).mean(0), inverted(batch).mean(0)
    paper.eval(), inverted.eval()
    paper_test, inverted_test = paper(x), inverted(x)
    nonzero = inverted_test != 0
    return {
        "paper_gap": (paper_mean - paper_test).abs().max().item(),
        "inverted_gap": (inverted_mean - inverted_test).abs().max().item(),
        "test_ratio": (paper_test[nonzero] / inverted_test[nonzero]).mean().item(),
        "scale": x.abs().max().item(),
    }


DROPOUTS = (nn.Dropout, PaperDropout)  # the modules that drop units in training mode
