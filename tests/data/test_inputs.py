"""What the network is fed (alexnet.data.inputs): Section 2's raw values minus the mean image, and torchvision's.

Every expected value is computed here with numpy from the uint8 pixels, not with the module's own functions.
"""

import io
import types

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import AlexNet_Weights

from alexnet import build_model
from alexnet.data.inputs import (
    CONVENTIONS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelInput,
    convention_of,
    mean_activity,
    subtract_mean_activity,
)

from ..messages import assert_one_line, raises_one_line


def _images(n, h, w, seed=0):
    return torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_the_two_conventions_are_named():
    assert set(CONVENTIONS) == {"paper", "torchvision"}
    assert "mean image" in CONVENTIONS["paper"] and "standard deviation" in CONVENTIONS["torchvision"]


# ----------------------------------------------------------------------------- the mean image


def test_mean_activity_is_the_mean_image_of_the_batch():
    """The average at each position and colour over the images, on the 0-255 scale, as float32 (3, H, W)."""
    images = _images(5, 4, 6)
    mean = mean_activity(images)
    assert mean.dtype == torch.float32 and mean.shape == (3, 4, 6)
    np.testing.assert_allclose(mean.numpy(), images.numpy().astype(np.float64).mean(axis=0), rtol=0, atol=1e-5)
    assert mean_activity(torch.full((3, 3, 2, 2), 255, dtype=torch.uint8)).eq(255).all()  # no uint8 overflow


def test_mean_activity_of_a_set_summed_in_chunks_is_the_whole_sets_mean():
    """700 images of 3x128x128 are summed 341 at a time (2**24 values a chunk): the last, short chunk counts too."""
    images = _images(700, 128, 128, seed=1)
    images[-1] = 255  # an image only in the last chunk moves the mean by 255 - its old values, over 700
    expected = images.numpy().astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(mean_activity(images).numpy(), expected, rtol=0, atol=1e-4)


def test_subtracting_the_mean_image_gives_raw_values_minus_it():
    """Section 2: the network sees the 0-255 pixel values minus the mean image, in float32; the images are kept."""
    images, mean = _images(4, 5, 6), torch.rand(3, 5, 6) * 255
    kept = images.clone()
    out = subtract_mean_activity(images, mean)
    assert out.dtype == torch.float32 and torch.equal(images, kept)
    np.testing.assert_allclose(out.numpy(), images.numpy().astype(np.float32) - mean.numpy(), rtol=0, atol=1e-4)
    one = subtract_mean_activity(images[0], mean)  # one image (3, H, W)
    np.testing.assert_allclose(one.numpy(), out[0].numpy(), rtol=0, atol=0)


@pytest.mark.parametrize(
    "mean_size, image_size, top, left",
    [((6, 8), (4, 4), 1, 2), ((7, 7), (4, 4), 1, 1), ((5, 5), (5, 5), 0, 0)],  # offsets worked out by hand
)
def test_a_smaller_image_gets_the_centre_of_the_mean_image(mean_size, image_size, top, left):
    """An image cropped at its centre earlier gets the mean image's centre of its size (rounded towards the top left)."""
    mean = torch.arange(3 * mean_size[0] * mean_size[1], dtype=torch.float32).view(3, *mean_size)
    images = _images(2, *image_size)
    centre = mean.numpy()[:, top : top + image_size[0], left : left + image_size[1]]
    expected = images.numpy().astype(np.float32) - centre
    np.testing.assert_allclose(subtract_mean_activity(images, mean).numpy(), expected, rtol=0, atol=0)


# ----------------------------------------------------------------------------- the input of a model


def test_the_papers_input_subtracts_the_training_images_mean_image():
    """ModelInput.fit with the paper's convention takes the training images' mean image; any batch at that size
    then becomes its raw 0-255 values minus it, and the training images' inputs average to zero."""
    train, batch = _images(8, 10, 12, seed=2), _images(4, 10, 12, seed=3)
    inputs = ModelInput.fit("paper", train)
    mean_image = train.numpy().astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(inputs(batch).numpy(), batch.numpy() - mean_image, rtol=0, atol=1e-4)
    np.testing.assert_allclose(inputs(train).double().mean(dim=0).numpy(), 0.0, rtol=0, atol=1e-4)
    assert inputs.convention == "paper" and inputs.unit == "one grey level of 0-255"
    assert inputs.pixel_scale().tolist() == [255.0, 255.0, 255.0]  # one unit of [0, 1] is 255 grey levels
    model = build_model("paper", width=0.125, image_size=67, num_classes=4)
    from_model = ModelInput.fit(model, train)  # the model's own convention, the paper's
    assert from_model.convention == "paper" and torch.equal(from_model(batch), inputs(batch))


def test_torchvisions_input_standardises_the_0_to_1_scale_with_imagenets_statistics():
    """pixel / 255, minus ImageNet's mean RGB, over its standard deviation, per channel: the statistics are the ones
    torchvision's AlexNet weights were trained with, as its weights' own preprocessing states them."""
    preprocess = AlexNet_Weights.IMAGENET1K_V1.transforms()
    assert list(IMAGENET_MEAN) == preprocess.mean and list(IMAGENET_STD) == preprocess.std
    batch = _images(4, 6, 5, seed=4)
    batch[0, :, 0, 0], batch[0, :, 0, 1] = 0, 255
    inputs = ModelInput.fit("torchvision")  # no statistics of the training images are needed
    mean = np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    expected = (batch.numpy() / 255.0 - mean) / std
    out = inputs(batch)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=1e-5)
    # black and white in red: -0.485 / 0.229 and (1 - 0.485) / 0.229
    assert out[0, 0, 0, :2].tolist() == pytest.approx([-2.117904, 2.248908], abs=1e-5)
    np.testing.assert_allclose(inputs(batch[1]).numpy(), expected[1], rtol=0, atol=1e-5)  # one image (3, H, W)
    assert inputs.mean_image is None and inputs.unit == "one ImageNet standard deviation"
    np.testing.assert_allclose(inputs.pixel_scale().numpy(), [1 / 0.229, 1 / 0.224, 1 / 0.225], rtol=1e-6)
    model = build_model("torchvision", num_classes=4)
    assert ModelInput.fit(model, batch).mean_image is None  # its convention, whatever images are given


def test_an_input_survives_a_checkpoint_and_a_move():
    """state() holds plain values and tensors only (a weights-only load reads it); from_state and to() give the same
    input, and the repr names the convention."""
    inputs = ModelInput.fit("paper", _images(3, 4, 4))
    batch = _images(2, 4, 4, seed=5)
    for original in (inputs, ModelInput.fit("torchvision")):
        buffer = io.BytesIO()
        torch.save(original.state(), buffer)
        buffer.seek(0)
        again = ModelInput.from_state(torch.load(buffer, weights_only=True))
        assert torch.equal(again(batch), original(batch)) and torch.equal(original.to("cpu")(batch), original(batch))
        assert repr(again).startswith(f"ModelInput({original.convention!r}")
    assert "mean image (3, 4, 4)" in repr(inputs)


def test_convention_of_reads_the_config_then_the_attribute_then_assumes_the_papers():
    assert convention_of(build_model("paper", width=0.125, image_size=67)) == "paper"
    assert convention_of(build_model("torchvision", num_classes=4)) == "torchvision"
    net = nn.Linear(2, 2)
    assert convention_of(net) == "paper"  # a network that says nothing was built for the paper's input
    net.input_convention = "torchvision"
    assert convention_of(net) == "torchvision"
    net.config = types.SimpleNamespace(input_convention="paper")  # the config's wins
    assert convention_of(net) == "paper"


# ----------------------------------------------------------------------------- bad input: one line each


def _network_of(convention):
    net = nn.Linear(2, 2)
    net.input_convention = convention
    return net


BAD = {
    "float images": (
        lambda: mean_activity(torch.zeros(2, 3, 4, 4)),
        r"^mean_activity expects uint8 images \(N, 3, H, W\) with values 0-255, got torch.float32$",
    ),
    "numpy images": (
        lambda: mean_activity(np.zeros((2, 3, 4, 4), np.uint8)),
        r"^mean_activity expects uint8 images .* got ndarray$",
    ),
    "one channel": (
        lambda: mean_activity(torch.zeros(2, 1, 4, 4, dtype=torch.uint8)),
        r"shape \(N, 3, H, W\) or \(3, H, W\), got \(2, 1, 4, 4\)$",
    ),
    "channels last": (
        lambda: subtract_mean_activity(torch.zeros(2, 4, 4, 3, dtype=torch.uint8), torch.zeros(3, 4, 4)),
        r"^subtract_mean_activity expects .* got \(2, 4, 4, 3\)$",
    ),
    "one image for a mean": (
        lambda: mean_activity(torch.zeros(3, 4, 4, dtype=torch.uint8)),
        r"mean_activity needs a non-empty batch \(N, 3, H, W\), got shape \(3, 4, 4\)",
    ),
    "empty batch": (
        lambda: mean_activity(torch.zeros(0, 3, 4, 4, dtype=torch.uint8)),
        r"non-empty batch .* got shape \(0, 3, 4, 4\)",
    ),
    "float images to centre": (
        lambda: subtract_mean_activity(torch.zeros(2, 3, 4, 4), torch.zeros(3, 4, 4)),
        r"^subtract_mean_activity expects uint8 images .* got torch.float32$",
    ),
    "images larger than the mean image": (
        lambda: subtract_mean_activity(torch.zeros(2, 3, 6, 6, dtype=torch.uint8), torch.zeros(3, 4, 4)),
        r"the mean image is \(3, 4, 4\) but the images are 6x6: .*mean_activity on the training split",
    ),
    "a one-channel mean image": (
        lambda: subtract_mean_activity(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 4, 4)),
        r"the mean image is \(1, 4, 4\)",
    ),
    "unknown convention": (lambda: ModelInput("hsv"), r"^unknown input convention 'hsv'; known: paper, torchvision$"),
    "unknown convention to fit": (lambda: ModelInput.fit("hsv"), r"unknown input convention 'hsv'"),
    "a network of an unknown convention": (
        lambda: convention_of(_network_of("caffe")),
        r"^unknown input convention 'caffe'; known: paper, torchvision$",
    ),
    "the paper's without a mean image": (
        lambda: ModelInput("paper"),
        r"the paper's input convention needs the training set's mean image, a \(3, H, W\) tensor; got None",
    ),
    "the paper's with a flat mean image": (lambda: ModelInput("paper", torch.zeros(4, 4)), r"got \(4, 4\)$"),
    "the paper's fitted without images": (
        lambda: ModelInput.fit("paper"),
        r"needs the training images to take their mean image",
    ),
    "float images to torchvision's": (
        lambda: ModelInput("torchvision")(torch.zeros(2, 3, 4, 4)),
        r"^ModelInput expects uint8 images .* got torch.float32$",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_input_gets_one_line(case):
    call, pattern = BAD[case]
    raises_one_line(call, pattern, ValueError)
