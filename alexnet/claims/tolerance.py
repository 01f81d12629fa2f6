"""Checks of CPU-dependent numbers that print the same line on every CPU.

A trained number (an error, a loss, a count of neighbours) depends on the CPU that computed it:
Intel and AMD processors, their instruction sets (SSE, AVX2, AVX-512), ARM and the number of threads
round floating-point sums differently, and training turns a difference in the last bit of the first
step into a different run. A chapter therefore prints such a number in a cell whose output the tests
do not compare (``# NBVAL_IGNORE_OUTPUT``) and checks it in the next cell against a tolerance:
wide enough that an honest rerun on another CPU passes (the chapter's comment says which recorded
spread the margin comes from), narrow enough that a real regression fails. Each check returns one
line that names what was checked and the bound, never the value, so the check cell prints the same
on every machine; a number outside its bound raises :class:`ToleranceError`, which names the value.

    >>> print(within(1.9, "one-crop top-1 error", high=8, unit="%", why="chance: 87.5%"))
    checked: one-crop top-1 error at most 8% (chance: 87.5%)
    >>> print(expect(0.98 > 0.53, "fc7 neighbours share the class more often than pixel neighbours"))
    checked: fc7 neighbours share the class more often than pixel neighbours
"""

from __future__ import annotations

import math

__all__ = ["ToleranceError", "within", "expect"]


class ToleranceError(AssertionError):
    """A checked number fell outside its tolerance: a regression, or a tolerance that was too tight."""


def _bound(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def within(
    value: float,
    what: str,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
    why: str = "",
) -> str:
    """Check ``low <= value <= high`` (either bound may be left out) and return the line that says so.

    The line names ``what``, the bounds (with ``unit``) and ``why`` in brackets, never ``value``:
    it is the same on every machine. A value outside the bounds, or NaN, raises
    :class:`ToleranceError` with the value in its message.
    """
    if low is None and high is None:
        raise ValueError("give low, high or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"low {low!r} is above high {high!r}")
    if low is not None and high is not None:
        bounds = f"between {_bound(low, unit)} and {_bound(high, unit)}"
    elif high is not None:
        bounds = f"at most {_bound(high, unit)}"
    else:
        bounds = f"at least {_bound(low, unit)}"
    line = f"{what} {bounds}" + (f" ({why})" if why else "")
    value = float(value)
    if math.isnan(value) or (low is not None and value < low) or (high is not None and value > high):
        raise ToleranceError(f"{what} is {value:g}{unit}, not {bounds}")
    return f"checked: {line}"


def expect(condition: bool, statement: str, detail: str = "") -> str:
    """Return ``checked: statement`` when ``condition`` holds; raise :class:`ToleranceError` otherwise.

    ``detail`` (the numbers behind the condition, say) goes into the error's message only, so that
    the returned line stays the same on every machine.
    """
    if not condition:
        raise ToleranceError(f"not so: {statement}" + (f" ({detail})" if detail else ""))
    return f"checked: {statement}"
