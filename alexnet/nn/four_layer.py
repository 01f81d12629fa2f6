"""The four-layer convolutional network on CIFAR-10 of Figure 1 (Section 3.1) and of the LRN ablation (Section 3.3).

The paper does not give its layout; we assume the layout of cuda-convnet's example ``layers-18pct.cfg``
(Krizhevsky's own code, the CIFAR-10 net "18% error in 20 minutes"): three 5x5 convolutions with 32, 32
and 64 kernels, each followed by 3x3 pooling with stride 2, and one fully-connected layer with 10 outputs:
four layers with weights. Deviations: PyTorch's default initialisation, and no within-map normalisation
where that file has one (3x3, after the first two poolings); the LRN chapter adds a cross-map LRN
instead, with the constants of cuda-convnet's 11% file (n=9).
"""

from __future__ import annotations

from torch import nn

from alexnet.nn.lrn import LocalResponseNorm

__all__ = ["four_layer_net", "LRN_PLACES"]

LRN_PLACES = ("none", "before_pool", "after_pool")


def four_layer_net(
    activation: str = "relu",
    lrn: str = "none",
    overlapping_pool: bool = True,
    num_classes: int = 10,
    width: float = 1.0,
    lrn_size: int = 5,
    lrn_alpha: float = 1e-4,
    lrn_beta: float = 0.75,
    lrn_k: float = 2.0,
    image_size: int = 32,
) -> nn.Sequential:
    """The four-layer CIFAR-10 network of Figure 1 and Section 3.3, as assumed from cuda-convnet.

    Layout (from ``layers-18pct.cfg`` of cuda-convnet): conv 5x5/32 -> max-pool -> conv 5x5/32
    -> avg-pool -> conv 5x5/64 -> avg-pool -> fc 10, every convolution padded by 2 and followed
    by the activation; pooling windows are z=3, s=2 (``overlapping_pool=False``: z=2, s=2), with
    cuda-convnet's ceil rounding so that 32 -> 16 -> 8 -> 4 pixels either way.

    ``lrn`` places the paper's cross-map LRN (Section 3.3) after the first two convolutions:
    ``"before_pool"`` as the paper does (ReLU -> LRN -> pool), ``"after_pool"`` as CaffeNet did,
    or ``"none"``. ``width`` multiplies the kernel counts; ``image_size`` (32 for CIFAR-10) is
    only checked: the last pooling is followed by an adaptive average to 4x4 positions.
    """
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    if lrn not in LRN_PLACES:
        raise ValueError(f"lrn must be one of {LRN_PLACES}, got {lrn!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if not width > 0:
        raise ValueError(f"width must be a positive multiplier, got {width!r}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    c1, c2, c3 = (max(1, round(c * width)) for c in (32, 32, 64))
    z = 3 if overlapping_pool else 2

    def norm() -> nn.Module:
        return LocalResponseNorm(lrn_size, lrn_alpha, lrn_beta, lrn_k)

    layers: list[nn.Module] = []
    for i, (cin, cout, pool) in enumerate([(3, c1, nn.MaxPool2d), (c1, c2, nn.AvgPool2d), (c2, c3, nn.AvgPool2d)]):
        layers += [nn.Conv2d(cin, cout, kernel_size=5, padding=2), acts[activation]()]
        if lrn == "before_pool" and i < 2:
            layers.append(norm())
        layers.append(pool(z, 2, ceil_mode=True))
        if lrn == "after_pool" and i < 2:
            layers.append(norm())
    # 32 px -> 16 -> 8 -> 4 (ceil rounding, like cuda-convnet); AdaptiveAvgPool keeps other sizes legal
    layers += [nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(c3 * 16, num_classes)]
    net = nn.Sequential(*layers)
    net.input_convention = "paper"  # cuda-convnet fed it raw 0-255 values minus the mean image, as Section 2
    return net
