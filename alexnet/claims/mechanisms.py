"""Does each arm's network do what the paper's section says? Checks that need no training.

A trained effect is a noisy witness. At the two seeds a chapter can afford, a live run of the
dropout claim cannot tell dropout that forgets to rescale from dropout that works: both land
inside the record's prediction interval. So a claim's chapter also checks the layers themselves.
Each arm's network is built the way its experiment builds it, and every layer that the claim is
about gets a fixed input. Its output is compared with the formula of its section, computed here
again in float64 from the section's own words:

* Section 3.1: ReLU is f(x) = max(0, x); the baseline is f(x) = tanh(x).
* Section 3.3: b_i = a_i / (k + alpha * sum of a_j^2 over the n channels around i) ** beta.
* Section 3.4: max over z x z windows placed s pixels apart (z = 3, s = 2 overlap; z = s = 2 do not).
* Section 4.1: a training image is a random crop, mirrored half the time, plus
  [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T with a_i ~ N(0, 0.1); at test time the centre crop.
* Section 4.2: each output of fc6 and fc7 is zeroed with probability 0.5 while training; at test
  time all units are used, with the expected input the next layer saw while training.

Only the layers whose options tell the claim's arms apart are checked. The tolerances are far
wider than float32 rounding (and than the sampling noise of the random layers, at 6 standard
errors), so the verdict is the same on every CPU, and far narrower than the breakages that
``tests/claims/test_mechanisms.py`` makes on purpose.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from alexnet.claims.designs import CLAIMS
from alexnet.data import ImageTensorDataset
from alexnet.data.augment import Augment
from alexnet.nn.dropout import PaperDropout
from alexnet.nn.lrn import LocalResponseNorm

__all__ = ["check_mechanism", "MechanismError"]

RELATIVE = 1e-4  # float32 layers against float64 formulas
SIGMAS = 6.0  # sampling noise allowed in the random layers (dropout masks, lighting)


class MechanismError(AssertionError):
    """A layer does not compute what the paper's section says it computes."""


def _leaves(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if not list(m.children())]


def _close(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    if got.shape != want.shape:
        raise MechanismError(f"{what}: output shape {tuple(got.shape)}, the formula gives {tuple(want.shape)}")
    error = ((got.double() - want).abs() / (want.abs() + 1e-3)).max().item()
    if error > RELATIVE:
        raise MechanismError(f"{what}: differs from the formula by up to {error:.3g} of its value")


def _activation(net: nn.Module, arm: str, options: dict, train=None) -> str:
    """Section 3.1: every convolutional and fully-connected layer but the last is followed by f."""
    name = options.get("activation", "relu")
    formula = {"relu": lambda x: x.clamp_min(0), "tanh": lambda x: x.tanh()}[name]
    leaves = _leaves(net)
    x = torch.linspace(-6, 6, 1201)
    weighted = [i for i, m in enumerate(leaves) if isinstance(m, nn.Conv2d | nn.Linear)][:-1]
    for i in weighted:
        _close(leaves[i + 1](x.view(1, -1, 1, 1)).flatten(), formula(x.double()), f"{arm}: the layer after layer {i}")
    return f"{arm}: f(x) = {'max(0, x)' if name == 'relu' else 'tanh(x)'} after each of the {len(weighted)} weighted layers before the last"


def _lrn_formula(a: torch.Tensor, n: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    a = a.double()
    channels = a.shape[1]
    b = torch.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        b[:, i] = a[:, i] / (k + alpha * (a[:, lo : hi + 1] ** 2).sum(dim=1)) ** beta
    return b


def _lrn(net: nn.Module, arm: str, options: dict, train=None) -> str:
    """Section 3.3, with the arm's constants (the paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75 by default)."""
    layers = [m for m in net.modules() if isinstance(m, LocalResponseNorm | nn.LocalResponseNorm)]
    if options.get("lrn", True) in (False, "none"):
        if layers:
            raise MechanismError(f"{arm}: has {len(layers)} LRN layers where it should have none")
        return f"{arm}: no LRN layer"
    if not layers:
        raise MechanismError(f"{arm}: has no LRN layer")
    n = options.get("lrn_size", 5)
    alpha, beta, k = (
        options.get(f"lrn_{key}", default) for key, default in (("alpha", 1e-4), ("beta", 0.75), ("k", 2.0))
    )
    g = torch.Generator().manual_seed(0)
    # activities whose window sums make alpha * sum comparable with k, so that both terms count
    a = torch.randn(2, 12, 3, 3, generator=g).abs() * math.sqrt(k / (alpha * n))
    for j, layer in enumerate(layers):
        _close(layer(a), _lrn_formula(a, n, alpha, beta, k), f"{arm}: LRN layer {j + 1}")
    return f"{arm}: {len(layers)} LRN layers divide by (k + alpha * sum a_j^2) ** beta with n = {n}"


def _pool_formula(x: torch.Tensor, z: int, s: int) -> torch.Tensor:
    x = x.double()
    rows, cols = (x.shape[-2] - z) // s + 1, (x.shape[-1] - z) // s + 1
    out = torch.empty(*x.shape[:-2], rows, cols, dtype=torch.float64)
    for i in range(rows):
        for j in range(cols):
            out[..., i, j] = x[..., s * i : s * i + z, s * j : s * j + z].amax(dim=(-2, -1))
    return out


def _pooling(net: nn.Module, arm: str, options: dict, train=None) -> str:
    """Section 3.4: every max-pooling layer takes z x z windows s apart."""
    z, s = (3, 2) if options.get("overlapping_pool", True) else (2, 2)
    layers = [m for m in net.modules() if isinstance(m, nn.MaxPool2d)]
    if not layers:
        raise MechanismError(f"{arm}: has no max-pooling layer")
    x = torch.randn(1, 2, 13, 13, generator=torch.Generator().manual_seed(0))
    for j, layer in enumerate(layers):
        _close(layer(x), _pool_formula(x, z, s), f"{arm}: pooling layer {j + 1}")
    return f"{arm}: {len(layers)} max-pooling layers with z = {z}, s = {s}"


def _dropout(net: nn.Module, arm: str, options: dict, train=None) -> str:
    """Section 4.2: units zeroed with probability p while training; at test time all used, same expected input."""
    p = options.get("dropout", 0.5)
    layers = [m for m in net.modules() if isinstance(m, nn.Dropout | PaperDropout)]
    count = 200_000
    x = torch.full((count,), 3.0)
    for j, layer in enumerate(layers):
        what = f"{arm}: dropout layer {j + 1}"
        layer.train()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(j)
            trained = layer(x)
        layer.eval()
        tested = layer(x)
        zeroed = (trained == 0).double().mean().item()
        noise = SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / count)
        if abs(zeroed - p) > noise:
            raise MechanismError(f"{what}: zeroes {zeroed:.4f} of the units while training, not {p}")
        if not torch.equal(tested, layer(x)) or (tested == 0).any():
            raise MechanismError(f"{what}: at test time it does not use every unit, the same way each time")
        mean, expected = trained.double().mean().item(), tested.double().mean().item()
        if abs(mean - expected) > SIGMAS * 3.0 * math.sqrt(max(p / (1 - p), 1e-12) / count) + 1e-6 * expected:
            raise MechanismError(
                f"{what}: the next layer gets {mean:.4f} on average while training and {expected:.4f} at test time"
            )
    active = [m for m in layers if m.p > 0]
    if p == 0:
        if active:
            raise MechanismError(f"{arm}: has {len(active)} dropout layers where it should have none")
        return f"{arm}: no dropout"
    if len(active) != 2:
        raise MechanismError(f"{arm}: has {len(active)} dropout layers, not 2 (fc6 and fc7)")
    return f"{arm}: 2 dropout layers zero {p:.0%} of the units while training and keep the expected input at test time"


def _stand_in(size: int, count: int = 64) -> ImageTensorDataset:
    """Images whose colours vary mostly along one axis, so that the RGB covariance has distinct eigenvalues."""
    g = torch.Generator().manual_seed(0)
    grey = torch.rand(count, 1, size, size, generator=g)
    noise = torch.tensor([0.25, 0.15, 0.05]).view(1, 3, 1, 1) * torch.rand(count, 3, size, size, generator=g)
    colour = torch.tensor([0.7, 0.5, 0.3]).view(1, 3, 1, 1) * grey + noise
    return ImageTensorDataset((255 * colour).round().to(torch.uint8), torch.zeros(count), ["one"])


def _find_crop(out: torch.Tensor, image: torch.Tensor, size: int, lighting: bool) -> tuple[int, int, float]:
    """Which size x size crop of ``image`` (offset, mirrored) ``out`` is, and how far from it; with
    ``lighting``, up to one colour added to the whole crop.

    Every offset and mirror is compared on a grid of probe pixels, and the best one on the whole crop."""

    def residual(diff: torch.Tensor) -> torch.Tensor:  # largest difference, after the crop's mean colour if lighting
        if lighting:
            diff = diff - diff.mean(dim=(-2, -1), keepdim=True)
        return diff.abs().amax(dim=(-3, -2, -1))

    image, out = image.double(), out.double()
    span = image.shape[-1] - size + 1  # offsets per side
    probes = torch.linspace(0, size - 1, min(size, 16)).round().long()
    rows = (torch.arange(span)[:, None] + probes)[:, None, :, None]  # (span, 1, probes, 1)
    cols = torch.arange(span)[:, None] + probes  # (span, probes)
    plain = image[:, rows, cols[None, :, None, :]]  # (3, span rows, span cols, probes, probes)
    mirror = image[:, rows, (cols + size - 1 - 2 * probes)[None, :, None, :]]  # column size-1-x of the crop
    probed = torch.stack([plain, mirror], dim=-3).movedim(0, -3)  # (rows, cols, 2, 3, probes, probes)
    seen = out[:, probes[:, None], probes]  # (3, probes, probes)
    best = int(residual(seen - probed).flatten().argmin())
    offset, mirrored = divmod(best, 2)
    r, c = divmod(offset, span)
    crop = image[:, r : r + size, c : c + size]
    return offset, mirrored, residual(out - (crop.flip(-1) if mirrored else crop)).item()


def _augmentation(net: nn.Module, arm: str, options: dict, train: ImageTensorDataset) -> str:
    """Section 4.1: random crops, mirrored half the time, and PCA lighting with a ~ N(0, 0.1); the centre crop at test."""
    layers = [m for m in net.modules() if isinstance(m, Augment)]
    if len(layers) != 1:
        raise MechanismError(f"{arm}: has {len(layers)} augmentation layers, not 1")
    layer, size = layers[0], layers[0].size
    crop, flip, pca = options.get("crop", True), options.get("flip", True), options.get("pca", False)
    side = train.images.shape[-1]
    x = torch.randn(8, 3, side, side, generator=torch.Generator().manual_seed(0))
    centre = round((side - size) / 2) * (side - size + 1) + round((side - size) / 2)
    layer.eval()
    for i in range(len(x)):
        offset, mirrored, residual = _find_crop(layer(x)[i], x[i], size, lighting=False)
        if (offset, mirrored) != (centre, 0) or residual > RELATIVE:
            raise MechanismError(f"{arm}: at test time image {i} is not the centre crop")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        layer.train()
        out = layer(x)
    found = []
    for i in range(len(x)):
        offset, mirrored, residual = _find_crop(out[i], x[i], size, lighting=pca)
        if residual > RELATIVE * (1 + x[i].abs().max().item()):
            raise MechanismError(f"{arm}: training image {i} is not a {size} x {size} crop of its input or its mirror")
        found.append((offset, mirrored))
    offsets, mirrors = {o for o, _ in found}, sum(m for _, m in found)
    if (len(offsets) > 1) != crop or (not crop and offsets != {centre}):
        raise MechanismError(f"{arm}: crops from {len(offsets)} places where it should {'' if crop else 'not '}vary")
    if (0 < mirrors < len(found)) != flip or (not flip and mirrors):
        raise MechanismError(f"{arm}: mirrors {mirrors} of {len(found)} images (flip={flip})")
    said = f"{arm}: {'random' if crop else 'centre'} crops, {'mirrored half the time' if flip else 'never mirrored'}"
    if not pca:
        if layer.lighting:
            raise MechanismError(f"{arm}: adds PCA lighting where it should not")
        return said
    return said + ", " + _lighting(layer, arm, train)


def _lighting(layer: Augment, arm: str, train: ImageTensorDataset) -> str:
    """The PCA of the training set's RGB pixels, and a_i ~ N(0, 0.1) measured from the shifts it adds."""
    pixels = train.images.double().div(255).transpose(0, 1).reshape(3, -1)
    values, vectors = torch.linalg.eigh(torch.cov(pixels))
    values, vectors = values.flip(0), vectors.flip(1)
    _close(layer.eigenvalues, values, f"{arm}: the eigenvalues of the RGB covariance")
    if not torch.allclose(
        (layer.eigenvectors.double().T @ vectors).abs(), torch.eye(3, dtype=torch.float64), atol=1e-3
    ):
        raise MechanismError(f"{arm}: the eigenvectors are not those of the RGB covariance")
    count = 1024
    flat = torch.zeros(count, 3, layer.size, layer.size)  # one colour per image: any crop of it is itself
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        layer.train()
        shift = layer(flat).double().mean(dim=(2, 3)) / layer.scale.double()
    a = shift @ layer.eigenvectors.double() / layer.eigenvalues.double()  # back to a_i per image and eigenvector
    std = a.std().item()
    if abs(std - layer.std) > SIGMAS * layer.std / math.sqrt(2 * a.numel()):
        raise MechanismError(f"{arm}: the lighting's a_i have standard deviation {std:.4f}, not {layer.std}")
    return f"PCA lighting with a_i ~ N(0, {layer.std:g})"


# the option an arm sets -> the check of the layers it changes
_CHECKS = {
    "activation": _activation,
    "lrn": _lrn,
    "overlapping_pool": _pooling,
    "dropout": _dropout,
    "crop": _augmentation,
    "flip": _augmentation,
    "pca": _augmentation,
}


@torch.no_grad()
def check_mechanism(name: str, full: bool = False) -> str:
    """Build every arm of claim ``name`` as its experiment does and check the layers the claim is about
    against the formulas of the paper's section; returns one line that is the same on every machine,
    or raises :class:`MechanismError` naming the layer and how it differs."""
    claim = CLAIMS[name]
    budget = claim.design(full).budget
    train = _stand_in(budget.image_size)
    varied = set().union(*claim.arms.values())  # the options that tell the arms apart
    checks = [check for option, check in _CHECKS.items() if option in varied]
    said = []
    for arm, options in claim.arms.items():
        torch.manual_seed(0)
        net = claim.build(options, budget, train)
        said += [check(net, arm, options, train) for check in dict.fromkeys(checks)]
    return f"the layers compute what Section {claim.section} says: " + "; ".join(said)
