"""What :class:`alexnet.model.AlexNet` refuses, each with one line that says what was expected.

Kept out of :mod:`alexnet.model` so that the network reads as the paper describes it: a
configuration is checked when it is made (:func:`check_config`), and every batch before the
forward pass (:func:`check_batch`): rank 4, three channels, a floating dtype matching the
weights, a side the design accepts (pool5 must come out at its designed size unless the pooling
is adaptive), finite pixels.
"""

from __future__ import annotations

import torch

from alexnet.fields import check_types

__all__ = ["check_config", "check_batch"]


def check_config(config) -> None:
    """A ``ValueError`` naming the field unless every field of an :class:`~alexnet.model.AlexNetConfig` is valid."""
    from alexnet.inputs import CONVENTIONS
    from alexnet.model import ACTIVATIONS, DROPOUT_PLACES, INITS  # (model imports this module)

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
    if config.input_convention not in CONVENTIONS:
        raise ValueError(f"input_convention must be one of {tuple(CONVENTIONS)}, got {config.input_convention!r}")
    if not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got {config.dropout!r}")
    if not config.width > 0:
        raise ValueError(f"width must be a positive multiplier, got {config.width!r}")
    if config.num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {config.num_classes!r}")
    if config.image_size < 1:
        raise ValueError(f"image_size must be a positive number of pixels, got {config.image_size!r}")


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
            f"with alexnet.inputs.ModelInput.fit(model, train_images)(x) before the network"
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
