"""Dropout as Section 4.2 of the paper describes it, beside PyTorch's inverted dropout.

The paper zeroes each hidden unit of fc6 and fc7 with probability 0.5 while training, and at test
time uses all units but "multiply their outputs by 0.5", which it calls "a reasonable
approximation to taking the geometric mean of the predictive distributions produced by the
exponentially-many dropout networks". PyTorch's ``nn.Dropout`` instead divides the kept outputs
by 1 - p while training and does nothing at test time ("inverted" dropout). This module holds
the paper's version, a check that both agree in expectation, and the ensemble view measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from alexnet.data import ImageTensorDataset
from alexnet.evaluate import eval_mode, topk_error

__all__ = ["PaperDropout", "use_paper_dropout", "dropout_expectation", "ensemble_agreement"]


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


_DROPOUTS = (nn.Dropout, PaperDropout)


def _trunk_and_head(model: nn.Module) -> tuple[nn.Module, nn.Module]:
    """An AlexNet (``features``, ``avgpool``, ``classifier``) whose dropout layers are all in its classifier splits
    there: in test mode the trunk is the same for every sub-network, so it need run only once. Else, no split."""
    parts = [getattr(model, name, None) for name in ("features", "avgpool", "classifier")]
    if any(p is None for p in parts) or any(isinstance(m, _DROPOUTS) for p in parts[:2] for m in p.modules()):
        return nn.Identity(), model
    return nn.Sequential(parts[0], parts[1], nn.Flatten()), parts[2]


@torch.no_grad()
def ensemble_agreement(
    model: nn.Module,
    data: ImageTensorDataset,
    inputs,
    samples: Sequence[int] = (1, 2, 4, 8, 16, 32),
    seed: int = 0,
    device: str = "cpu",
) -> list[dict[str, float]]:
    """The ensemble view of dropout (Section 4.2), measured.

    For each count K in ``samples``, average the predictions of K sub-networks sampled by
    dropout (the network in test mode except its dropout layers), both as an arithmetic mean
    of probabilities and as a normalised geometric mean (the paper: test-time scaling is "a
    reasonable approximation to taking the geometric mean"), and compare with the scaled
    network (all units, dropout off). Returns rows with the top-1 errors and the mean total
    variation distance between each average and the scaled network's prediction. ``inputs``
    (an :class:`alexnet.inputs.ModelInput`) makes the network's input from ``data``'s uint8 images.
    """
    if not samples or min(samples) < 1:
        raise ValueError(f"samples must be positive counts, got {samples!r}")
    trunk, head = _trunk_and_head(model)
    with eval_mode(model):  # the scaled network first; then only the dropout layers sample sub-networks
        x = trunk(inputs.to(device)(data.images.to(device)))
        scaled = F.softmax(head(x).float(), dim=1).cpu()
        for m in model.modules():
            if isinstance(m, _DROPOUTS):
                m.train()
        torch.manual_seed(seed)
        log_probs = []
        rows, wanted = [], sorted(set(samples))
        for k in range(1, wanted[-1] + 1):
            log_probs.append(F.log_softmax(head(x).float(), dim=1).cpu())
            if k in wanted:
                stack = torch.stack(log_probs)
                arith = stack.exp().mean(0)
                geo = F.softmax(stack.mean(0), dim=1)
                rows.append(
                    {
                        "samples": k,
                        "arithmetic_error": topk_error(arith, data.labels, ks=(1,))[1],
                        "geometric_error": topk_error(geo, data.labels, ks=(1,))[1],
                        "arithmetic_distance": 0.5 * (arith - scaled).abs().sum(1).mean().item(),
                        "geometric_distance": 0.5 * (geo - scaled).abs().sum(1).mean().item(),
                    }
                )
    rows.append({"samples": 0, "scaled_error": topk_error(scaled, data.labels, ks=(1,))[1]})
    return rows
