"""Every named run of the book and the command line, in one place (nanoGPT's ``config/*.py`` idea).

Each recipe is a :class:`~alexnet.training.config.TrainConfig`: Section 5's recipe is its defaults, and a
recipe names only what it changes. The book's quick runs are reduced in scale (smaller images,
narrower layers, fewer epochs) so that a CPU finishes them in about a minute; each chapter prints
that scale next to the paper's. Use one as it is, or change a field::

    config = dataclasses.replace(recipes.CHAPTER_8_QUICK, out="runs/mine")
"""

from __future__ import annotations

import dataclasses

from alexnet.nn.config import HE_STANDARDISED
from alexnet.training.config import TrainConfig

__all__ = ["PAPER", "CHAPTER_8_QUICK", "CHAPTER_8_FULL", "CHAPTER_10_QUICK", "CHAPTER_10_FULL", "CLI_QUICK"]

# Section 5 at the paper's scale: the paper's model, batch 128, lr 0.01 divided by 10 three times, 90 epochs.
PAPER = TrainConfig()

# The book's quick runs: a width-0.25 network on 67-pixel crops, batch 64, with He initialisation and standardised
# inputs (nn.config.HE_STANDARDISED): Section 5's N(0, 0.01) leaves a width-0.25 network at ln(classes) for many
# epochs, and on the paper's raw 0-255 inputs He init diverges at lr 0.01 (chapter 11).
_QUICK = TrainConfig(model_options={"width": 0.25, "image_size": 67, **HE_STANDARDISED}, batch_size=64, progress=False)

# Chapter 8, quick: 8 synthetic classes, 3,072 images at 76 px cropped to 67 with distractor blobs and a
# contrast that varies per image, width 0.25, batch 64, 8 epochs; the learning rate is divided by 10 after
# one epoch without a new best validation error (the paper waited longer; a CPU-minute run must show one).
CHAPTER_8_QUICK = dataclasses.replace(
    _QUICK,
    dataset_options={"num_images": 3072, "image_size": 76, "num_classes": 8, "clutter": 2, "contrast": 0.5},
    val_options={"num_images": 1024},
    epochs=8,
    lr_patience=0,
)
# Chapter 8, full: the paper's model, recipe and initialisation on Imagenette (10 ImageNet classes, 256 px
# cropped to 227), downloaded on first use.
CHAPTER_8_FULL = TrainConfig(dataset="imagenette", download=True)

# Chapter 10, quick: 4 synthetic classes, 1,024 images at 80 px cropped to 67, width 0.25, 3 epochs.
CHAPTER_10_QUICK = dataclasses.replace(
    _QUICK,
    dataset_options={"num_classes": 4, "num_images": 1024, "image_size": 80},
    val_options={"num_images": 256},
    epochs=3,
)
# Chapter 10, full: the paper's model at full width on Imagenette, He init with standardised inputs, 30 epochs.
CHAPTER_10_FULL = TrainConfig(dataset="imagenette", download=True, model_options=dict(HE_STANDARDISED), epochs=30)

# `python -m alexnet train` with no options: what a CPU does in about two minutes and still learns; 8 classes,
# 8,192 synthetic images at 76 px cropped to 67 (the paper: 256 -> 224), a quarter of them for validation.
CLI_QUICK = dataclasses.replace(
    _QUICK,
    dataset_options={"num_classes": 8, "num_images": 8192, "image_size": 76},
    val_options={"num_images": 2048},
    epochs=15,
    progress=True,
)
