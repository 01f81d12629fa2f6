"""One training run's configuration: :class:`TrainConfig`, whose defaults are Section 5's recipe.

Each field is checked when the config is made (one ``ValueError`` line naming the field and what
it accepts). :data:`RUN_FIELDS` are the fields that define what a checkpoint contains: a resumed
run must agree on all of them, while the others (``SETTING`` fields: where the data lives, the
device, the number of epochs ...) say only how the run is carried out.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from alexnet.data.augment import check_augment
from alexnet.nn.config import PRESETS, AlexNetConfig
from alexnet.nn.fields import check_types
from alexnet.training.step import PRECISIONS

__all__ = ["TrainConfig", "RUN_FIELDS", "SETTING", "run_fields"]

# A config field with this metadata says how a run is carried out, not what it computes: a resume may change it.
SETTING = {"run": False}


def run_fields(config_class) -> tuple[str, ...]:
    """The fields of a config dataclass that define what a checkpoint contains (all but the :data:`SETTING` ones)."""
    return tuple(f.name for f in dataclasses.fields(config_class) if f.metadata.get("run", True))


def _setting(default: Any) -> Any:
    """A field that says how a run is carried out, not what it computes: a resume may change it (not in RUN_FIELDS)."""
    return field(default=default, metadata=SETTING)


@dataclass
class TrainConfig:
    """One training run. The defaults are Section 5's recipe at the paper's scale.

    ``model_options`` go to :func:`alexnet.build_model` (``width``, ``image_size`` = the crop
    side, ``init``, ``dropout`` ...; ``num_classes`` comes from the dataset), ``dataset_options``
    to :func:`alexnet.data.load_dataset` for both splits, ``val_options`` to the validation split
    only (e.g. a smaller ``num_images``).
    """

    model: str = "paper"
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset: str = "synthetic"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    val_options: dict[str, Any] = field(default_factory=dict)
    data_root: str | os.PathLike = _setting("data")
    download: bool = _setting(False)
    epochs: int = _setting(90)  # Section 5: "roughly 90 cycles through the training set"
    batch_size: int = 128  # Section 5; under torchrun, the global batch over all processes
    lr: float = 0.01  # Section 5: initial learning rate
    momentum: float = 0.9
    weight_decay: float = 0.0005
    optimizer: str = "paper"  # "paper": Section 5's update rule; "torch": torch.optim.SGD
    lr_factor: float = 0.1  # "divide the learning rate by 10"
    lr_patience: int = 2  # epochs without improvement before a division (the paper gives no number)
    lr_drops: int = 3  # the paper divided three times
    augment: str = "paper"  # one of alexnet.data.augment.AUGMENTS: "paper" is crop + flip + PCA colour (4.1)
    pca_std: float = 0.1  # Section 4.1: alpha ~ N(0, 0.1)
    ten_crop: bool = _setting(True)  # ten-crop error at the end (Section 4.1)
    seed: int = 0
    device: str = _setting("auto")  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: bool | str = _setting(True)  # on CUDA: bf16 where native, else fp16 + scaler; "bf16"/"fp16": forced, CPU too
    channels_last: bool | str = _setting(True)  # True: on CUDA; "always": on a CPU too; False: never
    compile: bool = _setting(False)  # torch.compile the model
    num_workers: int = _setting(2)  # for datasets that are not held in memory
    out: str | os.PathLike | None = _setting(None)  # checkpoint.pt and metrics.jsonl land here
    resume: bool = _setting(False)  # continue from OUT/checkpoint.pt
    progress: bool = _setting(True)  # a tqdm bar per epoch and one printed line per epoch
    stop_after: int | None = _setting(None)  # stop (as if interrupted) after this epoch; for tests and demos

    def __post_init__(self) -> None:
        _check_values(self)
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.optimizer not in ("paper", "torch"):
            raise ValueError(
                f"optimizer must be 'paper' (Section 5's rule) or 'torch' (torch.optim.SGD), got {self.optimizer!r}"
            )
        check_augment(self.augment)
        if not 0 < self.lr_factor < 1:
            raise ValueError(f"lr_factor must lie in (0, 1), got {self.lr_factor!r}")
        if self.lr_patience < 0 or self.lr_drops < 0 or self.momentum < 0 or self.weight_decay < 0:
            raise ValueError("lr_patience, lr_drops, momentum and weight_decay must not be negative")
        if not (isinstance(self.amp, bool) or self.amp in PRECISIONS):
            raise ValueError(f"amp must be True, False, 'bf16' or 'fp16', got {self.amp!r}")
        if not (isinstance(self.channels_last, bool) or self.channels_last == "always"):
            raise ValueError(f"channels_last must be True, False or 'always', got {self.channels_last!r}")
        if self.resume and not self.out:
            raise ValueError("resume=True needs out= (the folder that holds checkpoint.pt)")
        if self.model not in PRESETS:
            raise ValueError(f"unknown model {self.model!r}; known models: {', '.join(PRESETS)}")
        if "num_classes" in self.model_options:
            raise ValueError("num_classes comes from the dataset; set it in dataset_options (synthetic) instead")
        _check_model_options(self.model, self.model_options)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_values(config: TrainConfig) -> None:
    """A ``ValueError`` naming the field unless each has its type (:func:`alexnet.nn.fields.check_types`) and its range."""
    check_types(config)
    if config.stop_after is not None and config.stop_after < 1:
        raise ValueError(f"stop_after must be None or a positive integer, got {config.stop_after!r}")
    if not 0 <= config.seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {config.seed!r}")
    if config.num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {config.num_workers!r}")


def _check_model_options(model: str, options: dict[str, Any]) -> None:
    """The model options' names, types and values, checked now rather than after the data is loaded."""
    known = {f.name for f in dataclasses.fields(AlexNetConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown model option(s) {unknown}; options are: {', '.join(sorted(known))}")
    options = dict(options)
    if isinstance(options.get("conv_channels"), list):
        options["conv_channels"] = tuple(options["conv_channels"])
    dataclasses.replace(PRESETS[model], **options)  # AlexNetConfig names the field and what it expects


# Fields that define what a checkpoint contains; a resumed run must agree on all of them.
RUN_FIELDS = run_fields(TrainConfig)
