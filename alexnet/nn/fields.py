"""A configuration's fields checked against their annotations, one line for the first that is wrong.

:class:`alexnet.nn.config.AlexNetConfig` and :class:`alexnet.training.config.TrainConfig` call :func:`check_types`
when they are made, so that ``build_model("paper", conv_channels=96)`` names the field and what it
wants instead of failing three calls later. The annotation is the rule: ``int`` (not a bool),
``float`` (any finite real number but a bool), ``bool``, ``str``, ``os.PathLike``, ``dict[...]``,
``tuple[int, ...]`` or ``tuple[int, int]`` (a tuple or list of them), ``X | Y`` and ``X | None``.
A new field is checked by writing its annotation. Ranges (positive, a probability, one of some
names) are each configuration's own business.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import types
import typing

__all__ = ["check_types", "FieldTypeError"]


class FieldTypeError(TypeError, ValueError):
    """A configuration field of the wrong type (a ValueError too, as the command line reports those)."""


def _matches(value, annotation) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is typing.Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(k, args[0]) for k in value) if args else isinstance(value, dict)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args, strict=True))
    return isinstance(value, origin or annotation)


def _words(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_words(a) for a in args)
    if origin is tuple:
        many = len(args) == 2 and args[1] is Ellipsis
        return f"a sequence of {'' if many else f'{len(args)} '}{_words(args[0]).split(' ', 1)[1]}s"
    if origin is dict:
        return "a dict of options"
    words = {type(None): "None", bool: "True or False", int: "an integer", float: "a finite number", str: "a string"}
    return words.get(
        annotation, "a path" if annotation is os.PathLike else f"a {getattr(annotation, '__name__', annotation)}"
    )


def check_types(config) -> None:
    """Raise :class:`FieldTypeError` naming the first field of the dataclass ``config`` whose value
    does not have its annotated type, and the type it expected."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value, annotation = getattr(config, field.name), hints[field.name]
        if not _matches(value, annotation):
            raise FieldTypeError(f"{field.name} must be {_words(annotation)}, got {value!r} ({type(value).__name__})")
