"""Section 4.2's ensemble view, measured: is the scaled network close to the mean of its sub-networks?

With dropout left on at test time every forward pass is one sampled sub-network; averaging K of
them approximates the ensemble whose geometric mean the paper says the scaled network (dropout
off, outputs multiplied by 0.5) approximates. Chapter 7 measures how close, on a trained network.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from alexnet.data import ImageTensorDataset
from alexnet.nn.dropout import DROPOUTS
from alexnet.nn.modes import eval_mode
from alexnet.training.evaluate import topk_error

__all__ = ["ensemble_agreement"]


def _trunk_and_head(model: nn.Module) -> tuple[nn.Module, nn.Module]:
    """An AlexNet (``features``, ``avgpool``, ``classifier``) whose dropout layers are all in its classifier splits
    there: in test mode the trunk is the same for every sub-network, so it need run only once. Else, no split."""
    parts = [getattr(model, name, None) for name in ("features", "avgpool", "classifier")]
    if any(p is None for p in parts) or any(isinstance(m, DROPOUTS) for p in parts[:2] for m in p.modules()):
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
    (an :class:`alexnet.data.inputs.ModelInput`) makes the network's input from ``data``'s uint8 images.
    """
    if not samples or min(samples) < 1:
        raise ValueError(f"samples must be positive counts, got {samples!r}")
    trunk, head = _trunk_and_head(model)
    with eval_mode(model):  # the scaled network first; then only the dropout layers sample sub-networks
        x = trunk(inputs.to(device)(data.images.to(device)))
        scaled = F.softmax(head(x).float(), dim=1).cpu()
        for m in model.modules():
            if isinstance(m, DROPOUTS):
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
