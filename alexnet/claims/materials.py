"""What the claims' experiments are made of: the data each is run on, the networks of its arms, its metric.

The data are chosen so that the mechanism has something to do (each claim's ``why`` says how): the
synthetic shapes (:func:`synthetic`, CIFAR-10 in full mode) and patches of real photographs
(:func:`photo_patches`, seen under :func:`other_light` for Section 4.1's colour noise). The networks are
Figure 1's four-layer net (:func:`four_layer`) and the paper's AlexNet at a reduced width (:func:`alexnet`,
and :func:`augmented_alexnet` behind Section 4.1's augmentation). The metrics read a run's
:class:`~alexnet.claims.fit.History`: Figure 1's epochs to 25% training error (:func:`epochs_to_25`), the
validation error (:func:`last_val_error`) and the train-validation gap (:func:`gap`).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from alexnet.claims.fit import Budget, History, epochs_to_reach
from alexnet.data import ImageTensorDataset, load_dataset
from alexnet.nn.config import HE_STANDARDISED
from alexnet.nn.four_layer import four_layer_net

__all__ = [
    "CIFAR_FULL",
    "synthetic",
    "photo_patches",
    "other_light",
    "four_layer",
    "alexnet",
    "augmented_alexnet",
    "epochs_to_25",
    "last_val_error",
    "gap",
]

CIFAR_FULL = Budget(dataset="cifar10", train_images=None, val_images=None, num_classes=10, batch_size=128)


def synthetic(options: dict, seed: int):
    """Both splits of the synthetic shapes drawn with ``seed``; full mode reads CIFAR-10 instead."""
    if options.get("dataset") == "cifar10":
        from alexnet.claims.fit import load_data

        size = options.get("image_size", 32)
        first = {k: options[k] for k in ("train_images", "val_images") if k in options}  # a rehearsal's amounts
        return load_data(dataclasses.replace(CIFAR_FULL, image_size=size, **first))
    opts = dict(options)
    sizes = {"train": opts.pop("train_images"), "val": opts.pop("val_images")}
    return tuple(load_dataset("synthetic", s, num_images=sizes[s], seed=seed, **opts) for s in ("train", "val"))


def four_layer(options: dict, budget: Budget, train=None) -> nn.Module:
    """Figure 1's four-layer net (:mod:`alexnet.nn.four_layer`) with an arm's options, at the budget's scale."""
    return four_layer_net(num_classes=budget.num_classes, width=budget.width, image_size=budget.image_size, **options)


def alexnet(options: dict, budget: Budget, train=None) -> nn.Module:
    """The paper's AlexNet at the budget's width, with an arm's options, He init and standardised inputs.

    A deviation the chapters print (:data:`~alexnet.nn.config.HE_STANDARDISED`): on raw 0-255 values He init
    diverges at lr 0.01, Section 5's N(0, 0.01) stays at chance, and the same scaled to the width ("paper-width")
    learns, but far more slowly than He init within the quick budgets.
    """
    from alexnet.nn.model import build_model

    return build_model("paper", num_classes=budget.num_classes, width=budget.width, image_size=budget.image_size,
                       **HE_STANDARDISED, **options)  # fmt: skip


def epochs_to_25(history: History, budget: Budget) -> float:
    """Figure 1's measure: epochs until the on-the-fly training error first reaches 25%; a run that never
    does counts as the whole budget plus one epoch (so its ratio is understated, never overstated)."""
    reached = epochs_to_reach(history.train_error, 0.25, start=1 - 1 / budget.num_classes)
    return reached if reached is not None else budget.epochs + 1.0


def last_val_error(history: History, budget: Budget) -> float:
    """Validation top-1 error, the mean of the last two epochs (less noisy than one)."""
    return sum(history.val_error[-2:]) / len(history.val_error[-2:])


def gap(history: History, budget: Budget) -> float:
    """Over-fitting: validation error minus training error measured in test mode, mean of the last two epochs."""
    gaps = [v - t for v, t in zip(history.val_error, history.train_eval_error, strict=True)]
    return sum(gaps[-2:]) / len(gaps[-2:])


def other_light(images: torch.Tensor, seed: int) -> torch.Tensor:
    """The same images under other light: each image's R, G and B multiplied by its own gain in [0.7, 1.4]."""
    g = torch.Generator().manual_seed(seed)
    gains = torch.exp((2 * torch.rand(len(images), 3, 1, 1, generator=g) - 1) * 0.35)
    return (images.float() * gains).round().clamp(0, 255).to(torch.uint8)


def photo_patches(options: dict, seed: int):
    """ "Which photo is this patch from?" (alexnet.data.photos); with ``relight``, the validation patches
    are seen under a different light per patch (:func:`other_light`), the change Section 4.1's colour noise is for."""
    opts = dict(options)
    relight = opts.pop("relight", False)
    per = {"train": opts.pop("train_patches"), "val": opts.pop("val_patches")}
    train, val = (load_dataset("photos", s, patches_per_photo=per[s], seed=seed, **opts) for s in ("train", "val"))
    if relight:
        val = ImageTensorDataset(other_light(val.images, seed), val.labels, val.classes)
    return train, val


def augmented_alexnet(options: dict, budget: Budget, train: ImageTensorDataset) -> nn.Module:
    """The reduced AlexNet behind Section 4.1's augmentation layer; ``pca`` adds the colour noise."""
    from alexnet.data.augment import Augment, rgb_eigen
    from alexnet.data.inputs import ModelInput

    opts = dict(options)
    crop = round(budget.image_size * 224 / 256)  # Section 4.1's ratio of crop to image side: 77 -> 67, 146 -> 128
    eigen = rgb_eigen(train.images) if opts.pop("pca", False) else None
    net = alexnet({}, dataclasses.replace(budget, image_size=crop))
    scale = ModelInput.fit(net, train.images).pixel_scale()  # colour noise in the input's own units
    model = nn.Sequential(Augment(crop, **opts, eigen=eigen, scale=scale), net)
    model.input_convention = net.config.input_convention  # what fit() feeds the Sequential
    return model
