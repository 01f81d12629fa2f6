"""AlexNetConfig's checks (alexnet.nn.config): a bad value gets one line naming the field; a good one is left alone."""

import dataclasses
import math

import numpy as np
import pytest

from alexnet import build_model
from alexnet.nn.config import PRESETS, AlexNetConfig, check_config

from ..messages import CLEAR, assert_one_line

MODEL_OPTIONS = {
    "width=inf": ({"width": math.inf}, r"width must be a finite number, got inf"),
    "width=nan": ({"width": math.nan}, r"width must be a finite number"),
    "width='1'": ({"width": "1"}, r"width must be a finite number, got '1'"),
    "num_classes=2.5": ({"num_classes": 2.5}, r"num_classes must be an integer, got 2.5"),
    "num_classes='10'": ({"num_classes": "10"}, r"num_classes must be an integer"),
    "num_classes=True": ({"num_classes": True}, r"num_classes must be an integer, got True"),
    "image_size=227.5": ({"image_size": 227.5}, r"image_size must be an integer, got 227.5"),
    "dropout=nan": ({"dropout": math.nan}, r"dropout must be a finite number"),
    "lrn_alpha=inf": ({"lrn_alpha": math.inf}, r"lrn_alpha must be a finite number"),
    "lrn='yes'": ({"lrn": "yes"}, r"lrn must be True or False"),
    "groups=2.0": ({"groups": 2.0}, r"groups must be an integer"),
    "conv_channels floats": (
        {"conv_channels": (96.5, 256, 384, 384, 256)},
        r"conv_channels must be a sequence of 5 integers",
    ),
}


@pytest.mark.parametrize("case", MODEL_OPTIONS)
def test_bad_model_options(case):
    options, pattern = MODEL_OPTIONS[case]
    with pytest.raises(CLEAR) as info:
        build_model("paper", **options)
    assert_one_line(info.value, pattern)
    with pytest.raises(CLEAR):
        AlexNetConfig(**options)


def test_no_preset_is_changed_by_the_checks():
    """The checks only read. Each preset, checked again, remade from its own field values and built with overrides,
    is afterwards what it was, in value and in type (its repr); numpy numbers pass the checks as they are."""
    before = {name: repr(preset) for name, preset in PRESETS.items()}
    channels = [32, 64, 96, 96, 64]  # a list: build_model makes a tuple of it for the frozen config
    for name, preset in PRESETS.items():
        check_config(preset)
        again = AlexNetConfig(**{f.name: getattr(preset, f.name) for f in dataclasses.fields(preset)})
        assert repr(again) == before[name]
        small = build_model(name, width=0.125, image_size=67, num_classes=4, conv_channels=channels, dropout=0.0)
        assert small.config.conv_channels == tuple(channels) and small.config.num_classes == 4
    assert {name: repr(preset) for name, preset in PRESETS.items()} == before  # no override leaked into a preset
    assert channels == [32, 64, 96, 96, 64] and isinstance(channels, list)  # the caller's list is not rewritten
    config = build_model("paper", width=np.float64(0.25), num_classes=np.int64(10), image_size=np.int64(67)).config
    assert (config.width, config.num_classes, config.image_size) == (0.25, 10, 67)
