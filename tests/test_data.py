"""The embedded synthetic dataset and the in-memory dataset type."""

import pytest
import torch

from alexnet.data import ImageTensorDataset, channel_mean, load_dataset, synthetic, to_input


def test_synthetic_is_deterministic_balanced_and_split():
    a = synthetic("train", num_images=40, image_size=32, num_classes=4, seed=3)
    b = load_dataset("synthetic", "train", num_images=40, image_size=32, num_classes=4, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.images.dtype == torch.uint8 and a.images.shape == (40, 3, 32, 32)
    assert torch.bincount(a.labels).tolist() == [10, 10, 10, 10]
    val = synthetic("val", num_images=40, image_size=32, num_classes=4, seed=3)
    assert not torch.equal(a.images, val.images)
    image, label = a[5]
    assert image.shape == (3, 32, 32) and label == 1


def test_synthetic_images_are_not_noise():
    ds = synthetic("train", num_images=64, image_size=48, num_classes=8)
    # the class's shape is drawn in the class's hue: the mean image differs between classes
    means = torch.stack([ds.images[ds.labels == c].float().mean(0) for c in range(8)])
    assert (means[0] - means[4]).abs().mean() > 10
    assert ds.images.float().std() > 20


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="split must be one of"):
        synthetic("training")
    with pytest.raises(ValueError, match="num_classes must be between 2 and 8"):
        synthetic(num_classes=20)
    with pytest.raises(ValueError, match="known datasets: synthetic"):
        load_dataset("imagenet21k")


def test_image_tensor_dataset_checks():
    with pytest.raises(ValueError, match="uint8"):
        ImageTensorDataset(torch.zeros(2, 3, 4, 4), torch.zeros(2), ["a"])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
        ImageTensorDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 2]), ["a", "b"])


def test_to_input_subtracts_mean():
    ds = synthetic(num_images=16, image_size=16)
    mean = channel_mean(ds.images)
    x = to_input(ds.images, mean)
    assert x.dtype == torch.float32
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="uint8"):
        to_input(x, mean)
