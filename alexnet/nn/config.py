"""What distinguishes one AlexNet variant from another: :class:`AlexNetConfig`, its presets and its checks.

A configuration is checked when it is made (:func:`check_config`): a field of the wrong type or
out of range gets one ``ValueError`` line naming the field and what it accepts. The presets are
the three networks the book compares (see :mod:`alexnet.nn.model`).
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass

from alexnet.nn.activations import ACTIVATIONS
from alexnet.nn.fields import check_types

__all__ = [
    "AlexNetConfig",
    "PRESETS",
    "INITS",
    "HE_STANDARDISED",
    "DROPOUT_PLACES",
    "INPUT_CONVENTIONS",
    "DESIGN_SIZE",
    "check_config",
]

INITS = ("paper", "paper-width", "pytorch", "kaiming")
# He init (He et al. 2015, not the paper's) goes with standardised inputs (torchvision's convention): on Section 2's
# raw 0-255 values minus the mean image it diverges at lr 0.01, while Section 5's N(0, 0.01) leaves a reduced-width
# network at chance for many epochs (chapter 11). A run given He init is given both: the recipes, the claims' reduced
# AlexNets, the doctor and `train --init kaiming`.
HE_STANDARDISED = types.MappingProxyType({"init": "kaiming", "input_convention": "torchvision"})
DROPOUT_PLACES = ("outputs", "inputs")  # of fc6 and fc7: the paper's (after relu6/relu7), torchvision's
INPUT_CONVENTIONS = ("paper", "torchvision")  # what the network is fed: alexnet.data.inputs
DESIGN_SIZE = 227  # the input side the paper's layer sizes are computed for (Figure 2, the CS231n reading)


@dataclass(frozen=True)
class AlexNetConfig:
    """Everything that distinguishes one AlexNet variant from another.

    Widths are given at full scale; ``width`` multiplies all of them (conv kernels and the
    fully-connected layers) so that quick runs keep the layer structure at a fraction of the cost.
    """

    conv_channels: tuple[int, int, int, int, int] = (96, 256, 384, 384, 256)
    fc_features: int = 4096
    num_classes: int = 1000
    image_size: int = 227
    conv1_padding: int = 0
    groups: int = 2  # 2 = the paper's two towers on conv2, conv4, conv5 (Section 3.2)
    lrn: bool = True  # Section 3.3, after conv1 and conv2
    lrn_size: int = 5
    lrn_alpha: float = 1e-4
    lrn_beta: float = 0.75
    lrn_k: float = 2.0
    overlapping_pool: bool = True  # Section 3.4: z=3, s=2 (False: z=2, s=2)
    activation: str = "relu"  # Section 3.1 ("tanh" for the Figure 1 comparison)
    dropout: float = 0.5  # Section 4.2, on fc6 and fc7
    dropout_at: str = "outputs"  # "outputs" of fc6/fc7 (the paper, Caffe); "inputs" (torchvision's order)
    adaptive_pool: bool = False  # torchvision's AdaptiveAvgPool2d before the classifier
    input_convention: str = "paper"  # see alexnet.data.inputs: "paper" (0-255 minus mean image) or "torchvision"
    width: float = 1.0
    ceil_mode: bool = False  # cuda-convnet's rounding: 224 px -> 55x55 after conv1
    # "paper": Section 5; "paper-width": Section 5's std scaled to a reduced network's fan-ins (see
    # AlexNet.reset_parameters_paper); "pytorch": PyTorch's default (torchvision's); "kaiming": He
    # et al. (2015), not in the paper
    init: str = "paper"

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def channels(self) -> tuple[int, ...]:
        """Kernels per conv layer after the width multiplier, divisible by ``groups``."""
        return tuple(_scaled(c, self.width, self.groups) for c in self.conv_channels)

    @property
    def hidden(self) -> int:
        """Units in fc6 and fc7 after the width multiplier."""
        return _scaled(self.fc_features, self.width, 1)


def check_config(config) -> None:
    """A ``ValueError`` naming the field unless every field of an :class:`~alexnet.nn.config.AlexNetConfig` is valid."""
    check_types(config)
    if any(c < 1 for c in config.conv_channels):
        raise ValueError(f"conv_channels must be five positive integers, got {config.conv_channels!r}")
    if config.groups not in (1, 2):
        raise ValueError(f"groups must be 1 (one tower) or 2 (the paper's two towers), got {config.groups!r}")
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {config.activation!r}")
    if config.init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {config.init!r}")
    if config.dropout_at not in DROPOUT_PLACES:
        raise ValueError(f"dropout_at must be one of {DROPOUT_PLACES}, got {config.dropout_at!r}")
    if config.input_convention not in INPUT_CONVENTIONS:
        raise ValueError(f"input_convention must be one of {INPUT_CONVENTIONS}, got {config.input_convention!r}")
    if not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got {config.dropout!r}")
    if not config.width > 0:
        raise ValueError(f"width must be a positive multiplier, got {config.width!r}")
    if config.num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {config.num_classes!r}")
    if config.image_size < 1:
        raise ValueError(f"image_size must be a positive number of pixels, got {config.image_size!r}")


def _scaled(n: int, width: float, multiple: int) -> int:
    return max(multiple, multiple * round(n * width / multiple))


_TORCHVISION = AlexNetConfig(
    conv_channels=(64, 192, 384, 256, 256),
    image_size=224,
    conv1_padding=2,
    groups=1,
    lrn=False,
    init="pytorch",
    dropout_at="inputs",
    adaptive_pool=True,
    input_convention="torchvision",
)

PRESETS: dict[str, AlexNetConfig] = {
    "paper": AlexNetConfig(),
    "torchvision": _TORCHVISION,
    # Krizhevsky (2014), footnote 1: torchvision's layout but for conv4, which has 384 kernels there
    "one-weird-trick": dataclasses.replace(_TORCHVISION, conv_channels=(64, 192, 384, 384, 256)),
}
