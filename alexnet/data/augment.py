"""Data augmentation as Section 4.1 describes it, on batches of images (N, 3, H, W).

* Random crops and horizontal reflections: "extracting random 224x224 patches (and their
  horizontal reflections) from the 256x256 images and training our network on these extracted
  patches" (:func:`random_crop_flip`).
* Colour ("PCA") lighting: "to each RGB image pixel we add [p1, p2, p3][a1 l1, a2 l2, a3 l3]^T,
  where p_i and l_i are the i-th eigenvector and eigenvalue of the 3x3 covariance matrix of RGB
  pixel values, and a_i is a random variable drawn from a Gaussian with mean zero and standard
  deviation 0.1", drawn once per image each time it is used (:func:`rgb_eigen`, :func:`pca_lighting`).
* :class:`Augment` puts the training-time augmentations in front of a network as a layer (it
  crops the centre in eval mode), so that any training loop trains with them, on any device.
* Test time: "five 224x224 patches (the four corner patches and the center patch) as well as
  their horizontal reflections (hence ten patches in all)" (:func:`ten_crop`; the averaging of
  the softmax outputs is :func:`alexnet.training.evaluate.ten_crop_predict`).

Every function works on a whole batch, on the batch's device, and takes its randomness from an
optional ``torch.Generator`` (the draws are made on the generator's device, the CPU by default,
so that a seed gives the same augmentation on any device).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "AUGMENTS",
    "check_augment",
    "training_augment",
    "crop_flip",
    "random_crop_flip_params",
    "random_crop_flip",
    "center_crop",
    "ten_crop",
    "rgb_eigen",
    "pca_lighting",
    "Augment",
]

# What the trainer can do to its training images: "paper", Section 4.1's crops, flips and PCA colour noise;
# "crop-flip", without the colour noise; "none", the centre crop only.
AUGMENTS = ("paper", "crop-flip", "none")


def _check_batch(images: torch.Tensor, size: int | None = None) -> None:
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if size is not None and not 1 <= size <= min(images.shape[2], images.shape[3]):
        raise ValueError(
            f"crop size must lie in [1, {min(images.shape[2:])}] for images of {tuple(images.shape[2:])}, got {size}"
        )


def _draw_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def crop_flip(
    images: torch.Tensor, top: torch.Tensor, left: torch.Tensor, flip: torch.Tensor, size: int
) -> torch.Tensor:
    """Crop image n at row ``top[n]``, column ``left[n]`` to size x size, mirrored left-right where ``flip[n]``.

    Equal to torchvision's ``F.crop(image, top, left, size, size)`` followed by ``F.hflip`` where
    flipped, for each image. Works for any dtype; the result is a new contiguous tensor. On a
    GPU the whole batch is one gather (one kernel); on a CPU a copy per image is faster.
    """
    _check_batch(images, size)
    n, _, height, width = images.shape
    if not (len(top) == len(left) == len(flip) == n):
        raise ValueError(f"need one top, left and flip per image ({n}), got {len(top)}, {len(left)}, {len(flip)}")
    outside = (top < 0) | (top > height - size) | (left < 0) | (left > width - size)
    if n and bool(outside.any()):
        raise ValueError(f"crop offsets must keep the {size}x{size} crop inside the {height}x{width} images")
    if images.device.type != "cpu":
        return _gather_crops(images, top, left, flip, size)
    out = torch.empty((n, 3, size, size), dtype=images.dtype, device=images.device)
    for i, (t, x0) in enumerate(zip(top.tolist(), left.tolist(), strict=True)):
        out[i] = images[i, :, t : t + size, x0 : x0 + size]
    # flipping each contiguous crop is many times faster on a CPU than flipping the strided views
    for i in flip.nonzero().squeeze(1).tolist():
        out[i] = out[i].flip(2)
    return out


def _gather_crops(images: torch.Tensor, top: torch.Tensor, left: torch.Tensor, flip: torch.Tensor, size: int):
    """:func:`crop_flip` as one advanced-indexing gather over the batch: row and column indices per image."""
    n, c = images.shape[:2]
    device = images.device
    span = torch.arange(size, device=device)
    top, left, flip = top.to(device), left.to(device), flip.to(device)
    rows = top.view(n, 1) + span  # (n, size)
    cols = left.view(n, 1) + torch.where(flip.view(n, 1), span.flip(0), span)  # mirrored where flipped
    batch = torch.arange(n, device=device).view(n, 1, 1, 1)
    channel = torch.arange(c, device=device).view(1, c, 1, 1)
    return images[batch, channel, rows.view(n, 1, size, 1), cols.view(n, 1, 1, size)]


def random_crop_flip_params(
    n: int, height: int, width: int, size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw (top, left, flip) for n images: offsets uniform over all (H - size + 1)(W - size + 1) places, flip with p = 1/2."""
    device = _draw_device(generator)
    top = torch.randint(0, height - size + 1, (n,), generator=generator, device=device)
    left = torch.randint(0, width - size + 1, (n,), generator=generator, device=device)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return top, left, flip


def random_crop_flip(images: torch.Tensor, size: int = 224, generator: torch.Generator | None = None) -> torch.Tensor:
    """Section 4.1's first augmentation: a random size x size patch of each image, mirrored with probability 1/2.

    With 256x256 images and size 224 there are 33 x 33 places and 2 reflections: 2178 distinct
    patches per image (the paper says "a factor of 2048").
    """
    _check_batch(images, size)
    n, _, height, width = images.shape
    top, left, flip = random_crop_flip_params(n, height, width, size, generator)
    return crop_flip(images, top, left, flip, size)


def center_crop(images: torch.Tensor, size: int = 224) -> torch.Tensor:
    """The central size x size patch of each image, rounded as torchvision's ``CenterCrop`` rounds."""
    _check_batch(images, size)
    top = int(round((images.shape[2] - size) / 2.0))
    left = int(round((images.shape[3] - size) / 2.0))
    return images[:, :, top : top + size, left : left + size].contiguous()


def ten_crop(images: torch.Tensor, size: int = 224) -> torch.Tensor:
    """The ten test-time patches of Section 4.1, as (N, 10, 3, size, size).

    "The network makes a prediction by extracting five 224 x 224 patches (the four corner patches
    and the center patch) as well as their horizontal reflections": patches 0-4 are the top-left,
    top-right, bottom-left, bottom-right and centre patches, patches 5-9 are those same five
    patches mirrored, the order of Caffe's ``caffe.io.oversample``. (torchvision's ``TenCrop``
    instead takes the five patches of the mirrored image; at 256 -> 227 its mirrored centre is
    the reflection of a patch one column to the right of the centre patch.) The centre's offset
    is (side - size) // 2, as Caffe's integer coordinates round it.
    """
    _check_batch(images, size)
    height, width = images.shape[2], images.shape[3]
    ct, cl = (height - size) // 2, (width - size) // 2
    places = [(0, 0), (0, width - size), (height - size, 0), (height - size, width - size), (ct, cl)]
    crops = torch.stack([images[:, :, t : t + size, x0 : x0 + size] for t, x0 in places], dim=1)
    return torch.cat([crops, crops.flip(4)], dim=1)


def rgb_eigen(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (descending) and eigenvectors (columns) of the 3x3 covariance of RGB pixel values.

    Section 4.1 performs "PCA on the set of RGB pixel values throughout the ImageNet training
    set". Every pixel of every image counts once; uint8 images are scaled to [0, 1] first, float
    images are taken to be on that scale already (a subtracted mean does not change a
    covariance). Sums are taken in float64, a chunk of images at a time. Each eigenvector's
    sign is fixed so that its largest component is positive.
    """
    _check_batch(images)
    scale = 1.0 / 255.0 if images.dtype == torch.uint8 else 1.0
    total = torch.zeros(3, dtype=torch.float64, device=images.device)
    outer = torch.zeros(3, 3, dtype=torch.float64, device=images.device)
    step = max(1, 2**22 // max(1, images[0].numel()))
    for start in range(0, len(images), step):
        x = images[start : start + step].to(torch.float64).mul_(scale).transpose(0, 1).reshape(3, -1)
        total += x.sum(dim=1)
        outer += x @ x.T
    count = images.numel() // 3
    if count < 2:
        raise ValueError("rgb_eigen needs at least two pixels")
    mean = total / count
    covariance = (outer - count * torch.outer(mean, mean)) / (count - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    largest = eigenvectors.abs().argmax(dim=0)
    signs = torch.sign(eigenvectors[largest, torch.arange(3, device=images.device)])
    return eigenvalues.clamp_min(0).float(), (eigenvectors * signs).float()


def pca_lighting(
    images: torch.Tensor,
    eigenvalues: torch.Tensor,
    eigenvectors: torch.Tensor,
    std: float = 0.1,
    generator: torch.Generator | None = None,
    scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Section 4.1's colour augmentation: add [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T to every pixel of an image.

    One a ~ N(0, std) per eigenvector and image, drawn afresh on every call (each time an image
    is used). ``eigenvalues`` and ``eigenvectors`` come from :func:`rgb_eigen`, on the [0, 1]
    scale, so the shift is computed on that scale and then put into the images' units: uint8
    images are shifted by 255 times as much, rounded and clipped to [0, 255]; float images (the
    network's input) are shifted by ``scale`` times as much per channel, the input units in one
    unit of the [0, 1] scale: 255 for the paper's raw 0-255 input, 1 / std for a standardised one
    (``alexnet.data.inputs.ModelInput.pixel_scale``). The default 1 means images on the [0, 1] scale.
    """
    _check_batch(images)
    if eigenvalues.shape != (3,) or eigenvectors.shape != (3, 3):
        raise ValueError(
            f"need 3 eigenvalues and a 3x3 matrix of eigenvectors, got {tuple(eigenvalues.shape)} and {tuple(eigenvectors.shape)}"
        )
    alpha = torch.randn(len(images), 3, generator=generator, device=_draw_device(generator)) * std
    alpha = alpha.to(images.device)
    shift = (alpha * eigenvalues.to(alpha)) @ eigenvectors.to(alpha).T  # row n: sum_i a_i l_i p_i
    if images.dtype == torch.uint8:
        shifted = images.float() + 255.0 * shift.view(-1, 3, 1, 1)
        return shifted.round_().clamp_(0, 255).to(torch.uint8)
    if not images.is_floating_point():
        raise ValueError(f"pca_lighting expects uint8 or floating images, got {images.dtype}")
    scale = torch.as_tensor(scale, dtype=shift.dtype, device=shift.device)
    return images + (shift * scale).view(-1, 3, 1, 1).to(images.dtype)


class Augment(nn.Module):
    """Section 4.1's training-time augmentation as a layer: put it in front of the network.

    In training mode: random size x size crops (``crop``), horizontal reflections with
    probability 1/2 (``flip``) and, given ``eigen = rgb_eigen(training images)``, PCA lighting
    with alpha ~ N(0, ``std``). In eval mode: the centre crop (one of the ten test patches).
    Inputs are the network's float input (:class:`alexnet.data.inputs.ModelInput`); ``scale`` is its
    ``pixel_scale()``, so that the lighting shift is added in the input's units. With ``crop=False`` and
    ``flip=False`` and no ``eigen`` it trains on the centre crops: the no-augmentation baseline.
    Randomness comes from ``generator`` or, by default, torch's global generator (seeded runs).
    """

    def __init__(
        self,
        size: int,
        crop: bool = True,
        flip: bool = True,
        eigen: tuple[torch.Tensor, torch.Tensor] | None = None,
        std: float = 0.1,
        generator: torch.Generator | None = None,
        scale: torch.Tensor | float = 1.0,
    ) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size, self.crop, self.flip, self.std, self.generator = size, crop, flip, std, generator
        self.lighting = eigen is not None
        eigenvalues, eigenvectors = eigen if eigen is not None else (torch.zeros(3), torch.eye(3))
        self.register_buffer("eigenvalues", eigenvalues.clone().float())
        self.register_buffer("eigenvectors", eigenvectors.clone().float())
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).expand(3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return center_crop(x, self.size)
        _check_batch(x, self.size)
        n, _, height, width = x.shape
        top, left, flip = random_crop_flip_params(n, height, width, self.size, self.generator)
        if not self.crop:
            top = torch.full_like(top, int(round((height - self.size) / 2.0)))
            left = torch.full_like(left, int(round((width - self.size) / 2.0)))
        if not self.flip:
            flip = torch.zeros_like(flip)
        x = crop_flip(x, top, left, flip, self.size)
        if self.lighting:
            x = pca_lighting(x, self.eigenvalues, self.eigenvectors, self.std, self.generator, self.scale)
        return x

    def extra_repr(self) -> str:
        return f"size={self.size}, crop={self.crop}, flip={self.flip}, lighting={self.lighting}, std={self.std}"


def check_augment(kind: str) -> None:
    """A ``ValueError`` unless ``kind`` is one of :data:`AUGMENTS`."""
    if kind not in AUGMENTS:
        names = ", ".join(repr(name) for name in AUGMENTS[:-1])
        raise ValueError(f"augment must be {names} or {AUGMENTS[-1]!r}, got {kind!r}")


def training_augment(kind: str, size: int, train_images: torch.Tensor, inputs, std: float = 0.1) -> Augment:
    """The trainer's :class:`Augment`, on the training images' device: ``kind`` is ``TrainConfig.augment``.

    ``"paper"``: random crops, flips and PCA colour noise with the eigenvectors of ``train_images``
    (Section 4.1); ``"crop-flip"``: without the colour noise; ``"none"``: the centre crop (the layer
    in eval mode). It is fed the network's input (``inputs(images)``, an
    :class:`alexnet.data.inputs.ModelInput`, at the stored size, so that every crop has its own pixels'
    mean removed); the colour noise is added in the input's units. The trainer sets its
    ``generator`` each epoch to one on the training device, so a GPU step never waits for random
    numbers from the host.
    """
    check_augment(kind)
    eigen = rgb_eigen(train_images) if kind == "paper" else None
    layer = Augment(size, eigen=eigen, std=std, scale=inputs.pixel_scale(train_images.device))
    return layer.to(train_images.device).train(kind != "none")
