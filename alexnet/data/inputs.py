"""What the network is fed: Section 2's input convention, and torchvision's.

Section 2 of the paper: "We did not pre-process the images in any other way, except for
subtracting the mean activity over the training set from each pixel. So we trained our network
on the (centered) raw RGB values of the pixels." The network therefore sees pixel values on
the 0-255 scale minus the *mean image* of the training set (the average, at each position and
colour, over all training images). Krizhevsky's cuda-convnet2 does the same (its
``convdata.py`` subtracts a stored mean image from 0-255 values), and so does Caffe's
``bvlc_alexnet`` (``imagenet_mean.binaryproto``).

torchvision's AlexNet was trained on another convention: pixels scaled to [0, 1], minus
ImageNet's mean RGB, divided by ImageNet's standard deviation per channel. Its pretrained weights
only work on inputs prepared that way, so the ``"torchvision"`` and ``"one-weird-trick"`` presets
keep it.

Every model knows its convention (``model.config.input_convention`` for :class:`AlexNet`, an
``input_convention`` attribute for other networks, see :func:`convention_of`), and every piece
of code that feeds a network goes through :class:`ModelInput`. The mean image is subtracted at
the stored size, *before* any crop, so that each crop has the mean of the same pixels removed
(Caffe subtracts the mean at the crop's own offsets, which is the same thing).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "CONVENTIONS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "mean_activity",
    "subtract_mean_activity",
    "convention_of",
    "ModelInput",
]

CONVENTIONS = {
    "paper": "raw 0-255 pixel values minus the training set's mean image (Section 2)",
    "torchvision": "pixels scaled to [0, 1], minus ImageNet's mean RGB, divided by its standard deviation",
}
# torchvision's ImageNet statistics, on the [0, 1] scale (the values its pretrained weights expect)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check_uint8(images: torch.Tensor, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        got = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{what} expects uint8 images (N, 3, H, W) with values 0-255, got {got}")
    if images.dim() not in (3, 4) or images.shape[-3] != 3:
        raise ValueError(f"{what} expects uint8 images of shape (N, 3, H, W) or (3, H, W), got {tuple(images.shape)}")


def mean_activity(images: torch.Tensor) -> torch.Tensor:
    """The mean image of uint8 images (N, 3, H, W): a (3, H, W) float32 tensor on the 0-255 scale.

    Summed in float64 a chunk at a time, so that a large (memory-mapped) training set is never
    copied whole as floats.
    """
    _check_uint8(images, "mean_activity")
    if images.dim() != 4 or len(images) == 0:
        raise ValueError(f"mean_activity needs a non-empty batch (N, 3, H, W), got shape {tuple(images.shape)}")
    total = torch.zeros(images.shape[1:], dtype=torch.float64, device=images.device)
    step = max(1, 2**24 // images[0].numel())
    for start in range(0, len(images), step):
        total += images[start : start + step].double().sum(dim=0)
    return (total / len(images)).float()


def subtract_mean_activity(images: torch.Tensor, mean_image: torch.Tensor) -> torch.Tensor:
    """Section 2: raw pixel values (uint8, 0-255) minus the mean image, as float32.

    ``mean_image`` is :func:`mean_activity` of the training set. Images smaller than the mean
    image (e.g. a centre crop done earlier) get its centre of their size subtracted.
    """
    _check_uint8(images, "subtract_mean_activity")
    height, width = images.shape[-2:]
    mh, mw = mean_image.shape[-2:]
    if height > mh or width > mw or mean_image.shape[0] != 3:
        raise ValueError(
            f"the mean image is {tuple(mean_image.shape)} but the images are {height}x{width}: "
            "subtract the mean of images of the same size (compute it with mean_activity on the training split)"
        )
    top, left = (mh - height) // 2, (mw - width) // 2
    mean = mean_image[:, top : top + height, left : left + width].to(images.device, torch.float32)
    return images.float().sub_(mean)


def convention_of(model: nn.Module) -> str:
    """The input convention a network was built for: its config's, else its ``input_convention``, else the paper's."""
    config = getattr(model, "config", None)
    name = getattr(config, "input_convention", None) or getattr(model, "input_convention", "paper")
    if name not in CONVENTIONS:
        raise ValueError(f"unknown input convention {name!r}; known: {', '.join(CONVENTIONS)}")
    return name


class ModelInput:
    """uint8 images -> the float batch a network expects, in one of :data:`CONVENTIONS`.

    ``ModelInput.fit(model, train_images)`` reads the model's convention and, for the paper's,
    takes the mean image of ``train_images``. Calling it on a uint8 batch at the stored size
    returns the network's input; crop afterwards. :meth:`pixel_scale` says how many input units
    one unit of the [0, 1] pixel scale is, per channel, so that colour noise (Section 4.1) can be
    added in the input's own units.
    """

    def __init__(self, convention: str = "paper", mean_image: torch.Tensor | None = None) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"unknown input convention {convention!r}; known: {', '.join(CONVENTIONS)}")
        if convention == "paper":
            if not isinstance(mean_image, torch.Tensor) or mean_image.dim() != 3 or mean_image.shape[0] != 3:
                got = tuple(mean_image.shape) if isinstance(mean_image, torch.Tensor) else mean_image
                raise ValueError(
                    f"the paper's input convention needs the training set's mean image, a (3, H, W) tensor; got {got}"
                )
            mean_image = mean_image.float()
        self.convention, self.mean_image = convention, mean_image if convention == "paper" else None

    @classmethod
    def fit(cls, model: nn.Module | str, train_images: torch.Tensor | None = None) -> ModelInput:
        """The input of ``model`` (or of a convention's name), with statistics from ``train_images``."""
        convention = model if isinstance(model, str) else convention_of(model)
        if convention == "paper":
            if train_images is None:
                raise ValueError("the paper's input convention needs the training images to take their mean image")
            return cls("paper", mean_activity(train_images))
        return cls(convention)

    @property
    def unit(self) -> str:
        """What one unit of the network's input is."""
        return "one grey level of 0-255" if self.convention == "paper" else "one ImageNet standard deviation"

    def pixel_scale(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Input units per unit of the [0, 1] pixel scale, one value per channel: 255, or 1 / ImageNet's std."""
        if self.convention == "paper":
            return torch.full((3,), 255.0, device=device)
        return 1.0 / torch.tensor(IMAGENET_STD, device=device)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.convention == "paper":
            return subtract_mean_activity(images, self.mean_image)
        _check_uint8(images, "ModelInput")
        shape = (1, 3, 1, 1) if images.dim() == 4 else (3, 1, 1)
        mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(shape)
        std = torch.tensor(IMAGENET_STD, device=images.device).view(shape)
        return images.float().div_(255.0).sub_(mean).div_(std)

    def to(self, device: torch.device | str) -> ModelInput:
        """The same input with its mean image on ``device``."""
        mean = self.mean_image.to(device) if self.mean_image is not None else None
        return ModelInput(self.convention, mean)

    def state(self) -> dict:
        """Plain values and tensors for a checkpoint (loadable with ``weights_only=True``)."""
        return {"convention": self.convention, "mean_image": self.mean_image}

    @classmethod
    def from_state(cls, state: dict) -> ModelInput:
        return cls(state["convention"], state.get("mean_image"))

    def __repr__(self) -> str:
        extra = f", mean image {tuple(self.mean_image.shape)}" if self.mean_image is not None else ""
        return f"ModelInput({self.convention!r}: {CONVENTIONS[self.convention]}{extra})"
