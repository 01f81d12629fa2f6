"""The AlexNet network and its variants (Krizhevsky, Sutskever & Hinton 2012, Section 3 and Figure 2).

One class builds every variant the book discusses, from one configuration:

* ``"paper"``: the 2012 network as Section 3.5 and Figure 2 describe it. Five convolutional
  layers with 96-256-384-384-256 kernels, split into two towers (the two GPUs of Section 3.2:
  conv2, conv4 and conv5 see only their own tower, conv3 and the fully-connected layers see
  both), ReLU (3.1), local response normalisation after conv1 and conv2 (3.3), overlapping
  max-pooling after the normalisations and after conv5 (3.4), dropout on the outputs of fc6 and
  fc7 (4.2: after relu6 and relu7, where Caffe's ``bvlc_alexnet`` and cuda-convnet2 put it), and
  the initialisation of Section 5. Input 227x227 by default (see ``ceil_mode`` for 224), and no
  adaptive pooling: pool5 must come out 6x6. Its inputs are raw 0-255 pixel values minus the
  training set's mean image (Section 2, :mod:`alexnet.data.inputs`).
* ``"torchvision"``: ``torchvision.models.alexnet``: 64-192-384-256-256 kernels, one tower, no
  LRN, dropout on the *inputs* of fc6 and fc7, an adaptive average pool before the classifier,
  inputs standardised with ImageNet's mean and std. Its ``state_dict`` has the same keys and
  shapes, so its pretrained weights load as they are.
* ``"one-weird-trick"``: the one-column network of Krizhevsky (2014), footnote 1:
  64-192-384-384-256 kernels, one tower.

The module reads top to bottom as ``features`` -> ``avgpool`` -> ``classifier``, the layout of
torchvision's model, so that indices in ``features`` mean the same in both (the paper preset's
``avgpool`` is an identity, and its classifier orders dropout as the paper does).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator

import torch
from torch import nn

from alexnet.nn.activations import ACTIVATIONS
from alexnet.nn.arithmetic import conv_output_size
from alexnet.nn.config import DESIGN_SIZE, PRESETS, AlexNetConfig
from alexnet.nn.lrn import LocalResponseNorm

__all__ = ["AlexNet", "build_model"]


class AlexNet(nn.Module):
    """AlexNet built from an :class:`AlexNetConfig`; see the module docstring for the variants."""

    def __init__(self, config: AlexNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or AlexNetConfig()
        c1, c2, c3, c4, c5 = cfg.channels
        act = ACTIVATIONS[cfg.activation]
        pool = (3, 2) if cfg.overlapping_pool else (2, 2)

        def lrn() -> list[nn.Module]:
            if not cfg.lrn:
                return []
            return [LocalResponseNorm(cfg.lrn_size, cfg.lrn_alpha, cfg.lrn_beta, cfg.lrn_k)]

        pad = []
        if cfg.ceil_mode:  # pad right and bottom so that floor rounding gives cuda-convnet's ceil
            extra = _ceil_padding(cfg.image_size, 11, 4, cfg.conv1_padding)
            if extra:
                pad = [nn.ZeroPad2d((0, extra, 0, extra))]

        self.features = nn.Sequential(
            *pad,
            nn.Conv2d(3, c1, kernel_size=11, stride=4, padding=cfg.conv1_padding),
            act(),
            *lrn(),
            nn.MaxPool2d(*pool),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2, groups=cfg.groups),
            act(),
            *lrn(),
            nn.MaxPool2d(*pool),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            act(),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1, groups=cfg.groups),
            act(),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1, groups=cfg.groups),
            act(),
            nn.MaxPool2d(*pool),
        )
        side = self.feature_size(cfg.image_size)
        if side < 1:
            raise ValueError(
                f"image_size={cfg.image_size} is too small for this network: the feature maps "
                f"vanish before pool5; use at least {self.min_input_size} pixels"
            )
        # torchvision averages any pool5 map down to the designed size; the paper's network has no
        # such layer, so its input must give that size exactly (check_input names the sizes that do)
        self.avgpool = nn.AdaptiveAvgPool2d((side, side)) if cfg.adaptive_pool else nn.Identity()
        fc6, fc7, fc8 = (
            nn.Linear(c5 * side * side, cfg.hidden),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )
        if cfg.dropout_at == "outputs":  # Section 4.2: "the first two fully-connected layers" drop their outputs
            layers = [fc6, act(), nn.Dropout(cfg.dropout), fc7, act(), nn.Dropout(cfg.dropout), fc8]
        else:  # torchvision's order (its state_dict indices 1, 4, 6)
            layers = [nn.Dropout(cfg.dropout), fc6, act(), nn.Dropout(cfg.dropout), fc7, act(), fc8]
        self.classifier = nn.Sequential(*layers)
        if cfg.init in ("paper", "paper-width"):
            self.reset_parameters_paper(width_scaled=cfg.init == "paper-width")
        elif cfg.init == "kaiming":
            self.reset_parameters_kaiming()

    def reset_parameters_paper(self, width_scaled: bool = False) -> None:
        """Section 5: weights from N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6 and fc7, else 0.

        The paper's reason: a positive bias gives the ReLUs positive inputs early on, which
        "accelerates the early stages of learning". With ``width_scaled`` (``init="paper-width"``,
        not in the paper) each layer's std is 0.01 * sqrt(full fan-in / this fan-in), the fan-in
        of the same layer in the full-width network at the 227-pixel design: a reduced network
        then passes each layer's signal on with the gain that layer has at full scale.
        """
        ones = {"conv2", "conv4", "conv5", "fc6", "fc7"}
        full = self.full_scale_fan_ins() if width_scaled else {}
        for name, module in self.named_layers():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                std = 0.01 * math.sqrt(full[name] / fan_in) if width_scaled else 0.01
                nn.init.normal_(module.weight, mean=0.0, std=std)
                nn.init.constant_(module.bias, 1.0 if name in ones else 0.0)

    def full_scale_fan_ins(self) -> dict[str, int]:
        """Inputs per unit of each conv and fc layer in this variant at width 1 and the 227-pixel design."""
        cfg = self.config
        c1, c2, c3, c4, c5 = cfg.conv_channels
        g, fc = cfg.groups, cfg.fc_features
        side = self.feature_size(DESIGN_SIZE)
        return {
            "conv1": 3 * 11 * 11,
            "conv2": c1 // g * 25,
            "conv3": c2 * 9,
            "conv4": c3 // g * 9,
            "conv5": c4 // g * 9,
            "fc6": c5 * side * side,
            "fc7": fc,
            "fc8": fc,
        }

    def reset_parameters_kaiming(self) -> None:
        """He et al. (2015) normal init for ReLU layers, zero biases: a later method than the paper's.

        With the paper's fixed std of 0.01, narrow quick-mode networks pass almost no signal to
        the output and sit at loss ln(classes) for many epochs; this init keeps each layer's
        activation variance and lets a CPU-sized run learn. Chapters that use it say so.
        """
        for _, module in self.named_layers():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def named_layers(self) -> Iterator[tuple[str, nn.Module]]:
        """Each layer with the name the paper's numbering gives it: conv1, relu1, lrn1, pool1, ..., fc8.

        Names follow the conv or fc layer they belong to: the dropout on fc6's outputs (the paper's
        order) or on its inputs (torchvision's) is ``drop6``. An identity ``avgpool`` is left out.
        """
        conv = 0
        for module in self.features:
            if isinstance(module, nn.Conv2d):
                conv += 1
            kind = _kind(module)
            yield (f"{kind}{conv}" if conv else kind), module
        if not isinstance(self.avgpool, nn.Identity):
            yield "avgpool", self.avgpool
        fc = conv
        after = self.config.dropout_at == "outputs"
        for module in self.classifier:
            if isinstance(module, nn.Linear):
                fc += 1
                yield f"fc{fc}", module
            elif isinstance(module, nn.Dropout):
                yield f"drop{fc if after else fc + 1}", module
            else:
                yield f"{_kind(module)}{fc}", module

    def feature_size(self, size: int) -> int:
        """Side of the pool5 output for a square input of ``size`` pixels (0 if it vanishes)."""
        for module in self.features:
            if isinstance(module, nn.ZeroPad2d):
                size += module.padding[1]
            elif isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
                k, s, p = (_pair(getattr(module, a)) for a in ("kernel_size", "stride", "padding"))
                if size + 2 * p < k:
                    return 0
                size = conv_output_size(size, k, s, p)
        return size

    @functools.cached_property
    def min_input_size(self) -> int:
        """The smallest input side that still leaves a pool5 output of at least 1x1 (computed once)."""
        size = 1
        while self.feature_size(size) < 1:
            size += 1
        return size

    @functools.cached_property
    def input_sizes(self) -> range:
        """The input sides the network accepts: any from ``min_input_size`` with adaptive pooling, else
        those that give the designed pool5 size (227-258 for the paper's 227-pixel design)."""
        if self.config.adaptive_pool:
            return range(self.min_input_size, 2**31)
        side = self.feature_size(self.config.image_size)
        low = high = self.config.image_size
        while low > 1 and self.feature_size(low - 1) == side:
            low -= 1
        while self.feature_size(high + 1) == side:
            high += 1
        return range(low, high + 1)

    # Reject NaN/inf pixels: None checks batches on the CPU only (free there; on a GPU it would make
    # every step wait for the device), True checks every batch, False none.
    check_finite: bool | None = None

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` saying what was expected unless ``x`` is a float batch (N, 3, H, W).

        The batch must not be empty, its dtype must be the weights' dtype (outside autocast), and
        its pixels must be finite (see ``check_finite``).
        """
        check_batch(self, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def build_model(name: str = "paper", **overrides) -> AlexNet:
    """Build a preset (``"paper"``, ``"torchvision"``, ``"one-weird-trick"``) with overrides.

    Any :class:`AlexNetConfig` field can be overridden, e.g.
    ``build_model("paper", num_classes=10, width=0.25, image_size=99, lrn=False)``;
    ``build_model("paper", image_size=224, ceil_mode=True)`` is the paper's 224-pixel reading.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(AlexNetConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for build_model; options are: {', '.join(sorted(known))}")
    if isinstance(overrides.get("conv_channels"), list):  # a frozen config holds a tuple
        overrides["conv_channels"] = tuple(overrides["conv_channels"])
    return AlexNet(dataclasses.replace(PRESETS[name], **overrides))


def _kind(module: nn.Module) -> str:
    return {
        nn.Conv2d: "conv",
        nn.ReLU: "relu",
        nn.Tanh: "tanh",
        LocalResponseNorm: "lrn",
        nn.MaxPool2d: "pool",
        nn.ZeroPad2d: "pad",
        nn.Dropout: "drop",
        nn.Linear: "fc",
        nn.AdaptiveAvgPool2d: "avgpool",
        nn.Identity: "avgpool",
    }.get(type(module), type(module).__name__.lower())


def _pair(v) -> int:
    return v[0] if isinstance(v, tuple) else v


def _ceil_padding(size: int, kernel: int, stride: int, padding: int) -> int:
    """Zero columns to add on the right so that floor rounding gives the ceil-rounded size."""
    want = conv_output_size(size, kernel, stride, padding, ceil_mode=True)
    return max(0, (want - 1) * stride + kernel - (size + 2 * padding))


def check_batch(model, x: torch.Tensor) -> None:
    """A ``ValueError`` saying what was expected unless ``x`` is a batch ``model`` can take."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"AlexNet expects a torch.Tensor of shape (N, 3, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        hint = " (a single image? add a batch dimension with x.unsqueeze(0))" if x.dim() == 3 else ""
        raise ValueError(
            f"AlexNet expects a batch of images of rank 4, (N, 3, H, W); got rank {x.dim()} "
            f"with shape {tuple(x.shape)}{hint}"
        )
    if x.shape[1] != 3:
        hint = " (channels-last? use x.permute(0, 3, 1, 2))" if x.shape[-1] == 3 else ""
        raise ValueError(
            f"AlexNet expects 3 colour channels in dimension 1, (N, 3, H, W); got shape {tuple(x.shape)}{hint}"
        )
    if not x.is_floating_point():
        raise ValueError(
            f"AlexNet expects floating-point images; got dtype {x.dtype}. Convert uint8 images "
            f"with alexnet.data.inputs.ModelInput.fit(model, train_images)(x) before the network"
        )
    h, w = x.shape[-2:]
    if min(h, w) < model.min_input_size:
        raise ValueError(
            f"AlexNet ({model.config.image_size}-pixel design) expects images of at least "
            f"{model.min_input_size}x{model.min_input_size} pixels; got {h}x{w}"
        )
    sizes = model.input_sizes
    if h not in sizes or w not in sizes:
        side = model.feature_size(model.config.image_size)
        raise ValueError(
            f"AlexNet ({model.config.image_size}-pixel design, no adaptive pooling) expects images whose "
            f"sides lie in {sizes.start}-{sizes.stop - 1} pixels, which give pool5 its {side}x{side} "
            f"positions; got {h}x{w} (build the model with image_size={h} for that size)"
        )
    if x.shape[0] == 0:
        raise ValueError(f"AlexNet got an empty batch, shape {tuple(x.shape)}: pass at least one image")
    weights = next(model.parameters()).dtype
    if x.dtype != weights and not torch.is_autocast_enabled(x.device.type):
        raise ValueError(
            f"AlexNet's weights are {weights} but the images are {x.dtype}: convert the batch with "
            f"x.to({weights}) (or the network with model.to({x.dtype}), or run under torch.autocast)"
        )
    check = model.check_finite if model.check_finite is not None else x.device.type == "cpu"
    if check and not torch.compiler.is_compiling() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"AlexNet got {bad} NaN or infinite pixel value(s): the images must be finite "
            "(check the decoding, the mean subtracted, or a division by zero upstream)"
        )
