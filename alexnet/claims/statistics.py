"""Is a claimed effect there? Paired differences over seeds, a 95% interval, and a verdict.

Each mechanism experiment trains every arm once per seed, the arms of one seed sharing their
data order and initial weights where the layouts allow (:func:`alexnet.claims.runner.run_claim`).
The per-seed differences between two arms are therefore paired, and their mean with a Student-t
interval is the effect (signed so that a positive value is the direction the paper claims). A
claim about a ratio (Figure 1's "six times faster") is averaged on its own scale, the logarithm:
:func:`ratio_effect` gives the geometric mean of the per-seed ratios and its interval. The
verdict follows from the interval alone:

* ``"shown"``: the interval lies above zero;
* ``"opposite"``: it lies below zero;
* ``"not shown"``: it contains zero (at this scale and with these seeds the data cannot tell).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "t_quantile_975",
    "Effect",
    "paired_effect",
    "ratio_effect",
    "verdict",
    "VERDICTS",
    "standard_error",
    "seeds_needed",
    "seeds_for_power",
    "prediction_interval",
]

VERDICTS = ("shown", "not shown", "opposite")

# Two-sided 95% critical values of Student's t, t_{0.975}(df), for df = 1 ... 30 (standard tables).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """t_{0.975} with ``df`` degrees of freedom: a table to 30, then the Cornish-Fisher expansion about z = 1.96."""
    if df < 1:
        raise ValueError(f"an interval needs at least 2 seeds (df >= 1), got df={df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def verdict(ci95: Sequence[float]) -> str:
    """``"shown"``, ``"not shown"`` or ``"opposite"`` from an interval of an effect signed towards the paper."""
    low, high = ci95
    if low > 0:
        return "shown"
    if high < 0:
        return "opposite"
    return "not shown"


@dataclass(frozen=True)
class Effect:
    """The mean of the per-seed differences, its 95% interval and the verdict."""

    differences: tuple[float, ...]
    effect: float
    ci95: tuple[float, float]
    verdict: str

    def describe(self, unit: str = "", scale: float = 1.0) -> str:
        """One sentence with the numbers (multiplied by ``scale``, e.g. 100 for errors in points)."""
        low, high = (scale * v for v in self.ci95)
        return (
            f"mean paired difference {scale * self.effect:+.3g}{unit} over {len(self.differences)} seeds, "
            f"95% interval [{low:+.3g}, {high:+.3g}]{unit}: {self.verdict}"
        )


def paired_effect(claimed: Sequence[float], baseline: Sequence[float], larger_is_better: bool = False) -> Effect:
    """The effect of the paper's mechanism from one value per seed for each arm, in the same seed order.

    ``claimed`` is the arm with the mechanism, ``baseline`` the arm without. With
    ``larger_is_better=False`` (errors, epochs to a target) the paper's direction is a smaller
    value, so each difference is ``baseline - claimed``; otherwise ``claimed - baseline``.
    """
    if len(claimed) != len(baseline):
        raise ValueError(f"need one value per seed in both arms, got {len(claimed)} and {len(baseline)}")
    values = [float(v) for v in (*claimed, *baseline)]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("every per-seed value must be finite (a run that never reached its target needs a value)")
    sign = 1.0 if larger_is_better else -1.0
    diffs = tuple(sign * (float(c) - float(b)) for c, b in zip(claimed, baseline, strict=True))
    n = len(diffs)
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else math.nan
    half = t_quantile_975(n - 1) * math.sqrt(var / n)
    ci = (mean - half, mean + half)
    return Effect(diffs, mean, ci, verdict(ci))


def ratio_effect(claimed: Sequence[float], baseline: Sequence[float]) -> Effect:
    """The effect of a mechanism that should make a positive quantity smaller by a factor (epochs to a target).

    Ratios multiply, so they are averaged as logarithms: the per-seed log ratios
    log(baseline / claimed) get the paired mean and Student-t interval of :func:`paired_effect`, and
    the effect is the geometric mean ratio minus 1, the interval's ends likewise (a ratio of 2 on
    one seed and 1/2 on another averages to 1, not to 1.25). ``differences`` holds the per-seed
    ratios minus 1. The verdict is the log scale's: ``"shown"`` when the interval lies above a ratio of 1.
    """
    if len(claimed) != len(baseline):
        raise ValueError(f"need one value per seed in both arms, got {len(claimed)} and {len(baseline)}")
    if not all(math.isfinite(v) and v > 0 for v in (*claimed, *baseline)):
        raise ValueError("a ratio needs positive, finite values in both arms")
    logs = paired_effect([math.log(b / c) for c, b in zip(claimed, baseline, strict=True)], [0.0] * len(claimed), True)
    ratios = tuple(b / c - 1 for c, b in zip(claimed, baseline, strict=True))
    low, high = logs.ci95
    return Effect(ratios, math.exp(logs.effect) - 1, (math.exp(low) - 1, math.exp(high) - 1), logs.verdict)


def standard_error(error: float, n: int) -> float:
    """Binomial standard error sqrt(e (1 - e) / n) of an error rate ``error`` measured on ``n`` images."""
    if n < 1 or not 0 <= error <= 1:
        raise ValueError(f"need an error rate in [0, 1] and n >= 1 images, got error={error!r}, n={n!r}")
    return (error * (1 - error) / n) ** 0.5


def seeds_needed(spread: float, effect: float, limit: int = 1_000_000) -> int | None:
    """How many seeds a paired experiment needs before its 95% interval can exclude zero.

    If the per-seed differences keep the standard deviation ``spread`` and their mean is
    ``effect``, the interval's half-width t_{0.975}(n - 1) * spread / sqrt(n) falls below |effect|
    from this n on (at least 2). ``None`` when no n up to ``limit`` is enough (e.g. an effect of 0).
    """
    if not (math.isfinite(spread) and spread >= 0 and math.isfinite(effect)):
        raise ValueError(f"need a finite spread >= 0 and a finite effect, got spread={spread!r}, effect={effect!r}")
    if effect == 0:
        return None
    if spread == 0:
        return 2
    # t_{0.975} >= 1.96 at every df, so no n below (1.96 * spread / effect)^2 can be enough: start there
    n = max(2, math.floor((1.959964 * spread / abs(effect)) ** 2))
    while n <= limit:
        if t_quantile_975(n - 1) * spread / math.sqrt(n) < abs(effect):
            return n
        n += 1
    return None


def seeds_for_power(spread: float, effect: float, power: float = 0.8, limit: int = 100_000) -> int | None:
    """How many seeds a paired experiment needs to *show* an effect of size ``effect`` with probability ``power``.

    The power calculation fixed in a design before its evidence is recorded: if the per-seed
    differences are normal with mean ``effect`` and standard deviation ``spread`` (measured on probe
    seeds), the 95% interval's lower end lies above zero with probability
    P(T > t_{0.975}(n - 1)), T a noncentral t with n - 1 degrees of freedom and noncentrality
    ``effect * sqrt(n) / spread``. Returns the smallest n >= 2 at which that reaches ``power``,
    or ``None`` when no n up to ``limit`` does. (:func:`seeds_needed` asks a weaker question: from
    which n an interval *could* exclude zero if the mean came out exactly at ``effect``; that is
    a power of about one half.)
    """
    from scipy import stats

    if not (math.isfinite(spread) and spread >= 0 and math.isfinite(effect) and effect > 0):
        raise ValueError(f"need a finite spread >= 0 and an effect > 0, got spread={spread!r}, effect={effect!r}")
    if not 0 < power < 1:
        raise ValueError(f"power must lie between 0 and 1, got {power!r}")
    if spread == 0:
        return 2

    def reached(n: int) -> bool:
        df = n - 1
        return stats.nct.sf(stats.t.ppf(0.975, df), df, effect * math.sqrt(n) / spread) >= power

    if not reached(limit):
        return None
    low, high = 2, limit  # power grows with n: bisect for the first n that reaches it
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if reached(mid) else (mid + 1, high)
    return low


def prediction_interval(values: Sequence[float], k: int = 1, false_alarm: float = 1e-3) -> tuple[float, float]:
    """Where the mean of ``k`` new draws lands, given ``values`` drawn before from the same distribution.

    The Student-t prediction interval mean +- t_{1 - a/2}(n - 1) * s * sqrt(1/n + 1/k) for a
    false-alarm rate a (``false_alarm``): a new run of the same experiment, on any machine, falls
    outside it with probability a when the values are normal. A chapter's live run is checked against
    its recorded evidence with it.
    """
    from scipy import stats

    n = len(values)
    if n < 2 or k < 1:
        raise ValueError(f"need at least 2 recorded values and k >= 1 new ones, got {n} and {k}")
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm must lie between 0 and 1, got {false_alarm!r}")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(1 - false_alarm / 2, n - 1) * sd * math.sqrt(1 / n + 1 / k)
    return float(mean - half), float(mean + half)
