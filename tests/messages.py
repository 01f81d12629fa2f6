"""What a bad input gets (issue 12, part 3): one of the package's clear error types, with one line that says what was
expected. The cases live beside the tests of the module whose input they check."""

import re

import pytest

from alexnet.data import CorruptImageError
from alexnet.training.errors import TrainingError

CLEAR = (ValueError, TrainingError, FileNotFoundError, CorruptImageError)


def assert_one_line(error: BaseException | str, pattern: str) -> None:
    """``error``'s message (or a command's stderr) is one line and matches the regular expression ``pattern``."""
    text = str(error)
    assert "\n" not in text.strip(), f"more than one line: {text!r}"
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"


def raises_one_line(call, pattern: str, errors=CLEAR) -> None:
    """``call()`` raises one of ``errors`` whose message is one line matching ``pattern``."""
    with pytest.raises(errors) as info:
        call()
    assert_one_line(info.value, pattern)
