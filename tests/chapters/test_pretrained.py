"""torchvision's ImageNet AlexNet as the reference of chapter 8's figures (alexnet.chapters.pretrained); the download itself
runs on Colab, and the rehearsal (tests/book/test_rehearsal.py) loads a stand-in from torch's hub cache through the same call."""

import pytest
import torch
import torchvision
from torchvision.datasets import Imagenette

from alexnet.chapters.pretrained import imagenet_indices, imagenet_probabilities


def test_imagenettes_ten_classes_are_imagenet_classes():
    names = [name[0] for name in Imagenette._WNID_TO_CLASS.values()]
    indices = imagenet_indices(names)
    assert len(set(indices)) == 10 and all(0 <= i < 1000 for i in indices)
    assert imagenet_indices(["tench"]) == [0]  # ImageNet's class 0, n01440764
    with pytest.raises(ValueError, match="not ImageNet class names"):
        imagenet_indices(["tench", "circle"])


def test_probabilities_come_from_the_weights_own_preprocessing():
    model = torchvision.models.alexnet().eval()
    images = torch.randint(0, 256, (2, 3, 256, 320), dtype=torch.uint8)
    probabilities, names = imagenet_probabilities(model, images)
    assert probabilities.shape == (2, 1000) and len(names) == 1000
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(2), atol=1e-5)
    prepared = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.transforms()(images[0])
    assert prepared.shape == (3, 224, 224)  # resized to 256, the centre 224 crop, standardised
    with torch.no_grad():
        assert torch.allclose(probabilities[0], model(prepared[None]).softmax(1)[0], atol=1e-6)
