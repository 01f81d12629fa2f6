"""TrainConfig's checks (alexnet.training.config): a bad value gets one line naming the field; a good one is left alone."""

import dataclasses
import math

import numpy as np
import pytest

from alexnet.nn.config import PRESETS
from alexnet.training import recipes
from alexnet.training.config import TrainConfig

from ..messages import CLEAR, assert_one_line

TRAIN_OPTIONS = {
    "epochs=2.5": ({"epochs": 2.5}, r"epochs must be an integer, got 2.5"),
    "epochs='3'": ({"epochs": "3"}, r"epochs must be an integer"),
    "batch_size=32.0": ({"batch_size": 32.0}, r"batch_size must be an integer"),
    "lr=nan": ({"lr": math.nan}, r"lr must be a finite number"),
    "lr=inf": ({"lr": math.inf}, r"lr must be a finite number"),
    "momentum=nan": ({"momentum": math.nan}, r"momentum must be a finite number"),
    "weight_decay=nan": ({"weight_decay": math.nan}, r"weight_decay must be a finite number"),
    "pca_std=inf": ({"pca_std": math.inf}, r"pca_std must be a finite number"),
    "seed=2**64": ({"seed": 2**64}, r"seed must be an integer in \[0, 2\*\*63\)"),
    "seed=-1": ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*63\)"),
    "seed=1.5": ({"seed": 1.5}, r"seed must be an integer"),
    "ten_crop='no'": ({"ten_crop": "no"}, r"ten_crop must be True or False"),
    "model_options=None": ({"model_options": None}, r"model_options must be a dict"),
    "out=5": ({"out": 5}, r"out must be a string or a path or None"),
    "num_workers=-1": ({"num_workers": -1}, r"num_workers must be a non-negative integer"),
    "stop_after=0": ({"stop_after": 0}, r"stop_after must be None or a positive integer"),
    "device=0": ({"device": 0}, r"device must be a string"),
}


@pytest.mark.parametrize("case", TRAIN_OPTIONS)
def test_bad_train_options(case):
    options, pattern = TRAIN_OPTIONS[case]
    with pytest.raises(CLEAR) as info:
        TrainConfig(**options)
    assert_one_line(info.value, pattern)


def _fields(config: TrainConfig) -> dict:
    """The config's field values themselves (not copies), so that a check that edits one in place is seen."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def test_no_config_is_changed_by_the_checks():
    """The checks only read. Every recipe, made again from its very field values (its option dicts included), equals
    itself and leaves them as they were, in value and in type (their repr); so do the presets, which the model
    options are checked against, and a caller's own options; numpy numbers and the largest seed pass as they are."""
    configs = {name: getattr(recipes, name) for name in recipes.__all__}
    before = {name: repr(config) for name, config in configs.items()}
    presets = {name: repr(preset) for name, preset in PRESETS.items()}
    for name, config in configs.items():
        again = TrainConfig(**_fields(config))
        assert repr(again) == before[name], name
        dataclasses.replace(config, seed=2**63 - 1, epochs=np.int64(3))
    assert {name: repr(config) for name, config in configs.items()} == before
    assert {name: repr(preset) for name, preset in PRESETS.items()} == presets

    options = {"width": np.float64(0.25), "conv_channels": [32, 64, 96, 96, 64], "image_size": 67}
    data = {"num_images": np.int64(64), "num_classes": 4}
    config = TrainConfig(model_options=options, dataset_options=data, lr=1, epochs=np.int64(3))
    assert options == {"width": 0.25, "conv_channels": [32, 64, 96, 96, 64], "image_size": 67}
    assert isinstance(options["conv_channels"], list) and data == {"num_images": 64, "num_classes": 4}
    assert config.model_options == options and config.epochs == 3 and config.lr == 1
    assert dataclasses.replace(config, seed=2**63 - 1).seed == 2**63 - 1
