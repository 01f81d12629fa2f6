"""torchvision's AlexNet trained on ImageNet: a reference to hold a chapter's own run against.

torchvision's weights (``AlexNet_Weights.IMAGENET1K_V1``, 233 MB, fetched into torch's hub cache
on first use) come from its one-GPU variant of the network, 64/192/384/256/256 kernels, trained
with a simplified recipe; their metadata (``meta["_metrics"]``) gives 56.522% top-1 and 79.066% top-5
accuracy on ImageNet's validation set, one centre crop. Its first layer draws Figure 3 with a network that did see
ImageNet, and its top-5 on Imagenette's images (whose ten classes are ImageNet classes) draws
Figure 4's left half.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["load_pretrained", "imagenet_indices", "imagenet_probabilities"]


def _weights():
    from torchvision.models import AlexNet_Weights

    return AlexNet_Weights.IMAGENET1K_V1


def load_pretrained() -> nn.Module:
    """torchvision's AlexNet with its ImageNet weights (downloaded once), in test mode."""
    from torchvision.models import alexnet

    return alexnet(weights=_weights()).eval()


def imagenet_indices(names: Sequence[str]) -> list[int]:
    """The ImageNet class index of each class name (Imagenette's names are ImageNet's)."""
    categories = _weights().meta["categories"]
    missing = [n for n in names if n not in categories]
    if missing:
        raise ValueError(f"not ImageNet class names (as torchvision's weights list them): {missing}")
    return [categories.index(n) for n in names]


@torch.no_grad()
def imagenet_probabilities(model: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    """Softmax over ImageNet's 1,000 classes for uint8 images (N, 3, H, W), prepared as torchvision's weights
    expect (resize to 256, centre crop of 224, standardised); returns them with the class names."""
    prepare = _weights().transforms()
    logits = model(torch.stack([prepare(image) for image in images]))
    return logits.softmax(dim=1), list(_weights().meta["categories"])
