"""Every field of the model's and the trainer's configuration refuses a value of the wrong type with one line."""

import dataclasses
import typing

import pytest

from alexnet import build_model
from alexnet.nn.config import AlexNetConfig
from alexnet.nn.fields import FieldTypeError
from alexnet.training.config import TrainConfig


def _wrong(config_class, name):
    """A value of another type than the field's annotation allows: a number where strings are allowed, else a string."""
    annotation = typing.get_type_hints(config_class)[name]
    return 3 if "str" in str(annotation) or annotation is typing.Any else "3"


@pytest.mark.parametrize(
    "config_class, name",
    [(AlexNetConfig, f.name) for f in dataclasses.fields(AlexNetConfig)]
    + [(TrainConfig, f.name) for f in dataclasses.fields(TrainConfig)],
)
def test_every_field_names_itself_and_the_type_it_expects(config_class, name):
    value = _wrong(config_class, name)
    with pytest.raises(FieldTypeError) as error:
        config_class(**{name: value})
    message = str(error.value)
    assert message.startswith(f"{name} must be ") and f"got {value!r}" in message and "\n" not in message


def test_build_model_names_the_field_not_its_own_code():
    with pytest.raises(FieldTypeError, match=r"^conv_channels must be a sequence of 5 integers, got 96 \(int\)$"):
        build_model("paper", conv_channels=96)
    assert build_model("paper", conv_channels=[48, 128, 192, 192, 128]).config.conv_channels == (48, 128, 192, 192, 128)


@pytest.mark.parametrize(
    "field, value", [("lrn", 1), ("dropout", True), ("width", float("nan")), ("conv_channels", (96, 256, 384))]
)
def test_near_misses_are_refused(field, value):
    with pytest.raises(FieldTypeError, match=f"^{field} must be "):
        AlexNetConfig(**{field: value})


def test_a_field_error_is_a_value_error_for_the_command_line():
    assert issubclass(FieldTypeError, ValueError) and issubclass(FieldTypeError, TypeError)
