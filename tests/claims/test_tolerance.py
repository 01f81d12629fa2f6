"""A chapter's check of a CPU-dependent number prints the same line wherever it passes, and fails loudly."""

import doctest
import math

import pytest
import torch

from alexnet.claims import tolerance
from alexnet.claims.tolerance import ToleranceError, expect, within


def test_the_line_names_the_bounds_and_never_the_value():
    lines = {within(v, "top-1 error", high=8, unit="%", why="chance: 87.5%") for v in (0.0, 1.86, 2.05, 8)}
    assert lines == {"checked: top-1 error at most 8% (chance: 87.5%)"}
    assert within(0.7, "share", low=0.5, high=0.9) == "checked: share between 0.5 and 0.9"
    assert within(98.4, "fc7 neighbours", low=80, unit="%") == "checked: fc7 neighbours at least 80%"
    assert within(torch.tensor(3.0), "a tensor", high=4) == "checked: a tensor at most 4"


def test_a_value_outside_its_bounds_or_nan_raises_with_the_value():
    with pytest.raises(ToleranceError, match=r"top-1 error is 12.5%, not at most 8%"):
        within(12.5, "top-1 error", high=8, unit="%")
    with pytest.raises(ToleranceError, match="not between 0.5 and 0.9"):
        within(0.2, "share", low=0.5, high=0.9)
    with pytest.raises(ToleranceError, match="is nan"):
        within(math.nan, "loss", high=10)
    assert issubclass(ToleranceError, AssertionError)  # a failed check reads as a failed assertion


def test_bounds_must_make_sense():
    with pytest.raises(ValueError, match="low, high or both"):
        within(1.0, "x")
    with pytest.raises(ValueError, match="above high"):
        within(1.0, "x", low=2, high=1)


def test_expect_keeps_its_detail_out_of_the_line():
    assert expect(True, "the towers agree", detail="largest difference 3e-07") == "checked: the towers agree"
    assert expect(torch.tensor(True), "a tensor's truth") == "checked: a tensor's truth"
    with pytest.raises(ToleranceError, match=r"not so: the towers agree \(largest difference 0.2\)"):
        expect(False, "the towers agree", detail="largest difference 0.2")


def test_the_module_examples_run():
    assert doctest.testmod(tolerance).failed == 0
