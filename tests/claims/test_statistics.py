"""The verdict of an experiment comes from a paired t interval over seeds."""

import math

import numpy as np
import pytest

from alexnet.claims.statistics import paired_effect, ratio_effect, seeds_needed, t_quantile_975, verdict


def test_the_interval_is_students_t_on_the_paired_differences():
    claimed, baseline = [0.30, 0.28, 0.33, 0.31], [0.35, 0.36, 0.34, 0.38]
    e = paired_effect(claimed, baseline)  # errors: smaller is the paper's direction
    d = np.array(baseline) - np.array(claimed)
    half = 3.182 * d.std(ddof=1) / math.sqrt(4)
    assert e.effect == pytest.approx(d.mean())
    assert e.ci95 == pytest.approx((d.mean() - half, d.mean() + half))
    assert e.verdict == "shown" and e.ci95[0] > 0


def test_the_sign_follows_the_papers_direction_and_each_verdict_can_come_out():
    assert paired_effect([2.0, 2.1, 2.2], [1.0, 1.1, 1.0], larger_is_better=True).verdict == "shown"
    assert paired_effect([2.0, 2.1, 2.2], [1.0, 1.1, 1.0]).verdict == "opposite"
    assert paired_effect([1.0, 2.0, 0.5], [1.2, 1.1, 1.0]).verdict == "not shown"
    assert verdict((0.1, 0.2)) == "shown" and verdict((-0.2, -0.1)) == "opposite" and verdict((-1, 1)) == "not shown"
    assert verdict((0.0, 0.2)) == "not shown" and verdict((-0.2, 0.0)) == "not shown"  # an end at 0 does not exclude it


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one value per seed"):
        paired_effect([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        paired_effect([1.0], [2.0])
    with pytest.raises(ValueError, match="finite"):
        paired_effect([1.0, math.inf], [2.0, 1.0])


def test_t_quantiles_match_the_exact_values():
    scipy = pytest.importorskip("scipy.stats")
    for df in (1, 2, 4, 9, 29, 30, 31, 60, 200):
        assert t_quantile_975(df) == pytest.approx(scipy.t.ppf(0.975, df), abs=2e-3)


def test_a_ratio_is_averaged_on_the_log_scale():
    claimed, baseline = [2.0, 2.0, 1.0], [4.0, 6.0, 3.0]  # epochs: the mechanism needs fewer; ratios 2, 3, 3
    e = ratio_effect(claimed, baseline)
    logs = np.log(np.array(baseline) / np.array(claimed))
    half = 4.303 * logs.std(ddof=1) / math.sqrt(3)
    assert e.effect == pytest.approx(math.exp(logs.mean()) - 1)  # geometric mean 2.62, not the mean 2.67
    assert e.ci95 == pytest.approx((math.exp(logs.mean() - half) - 1, math.exp(logs.mean() + half) - 1))
    assert e.differences == pytest.approx((1.0, 2.0, 2.0)) and e.verdict == "shown"
    # a ratio of 2 and one of 1/2 average to 1 (no effect), where their arithmetic mean would claim 1.25
    assert ratio_effect([1.0, 2.0], [2.0, 1.0]).effect == pytest.approx(0.0)
    assert ratio_effect([3.0, 3.1, 2.9], [1.0, 1.1, 1.0]).verdict == "opposite"
    with pytest.raises(ValueError, match="positive"):
        ratio_effect([0.0, 1.0], [1.0, 1.0])


def _differences(n: int, mean: float, spread: float) -> list[float]:
    """n per-seed differences with exactly this mean and standard deviation (ddof 1)."""
    z = np.arange(n) - (n - 1) / 2
    return list(mean + spread * z / z.std(ddof=1))


@pytest.mark.parametrize("spread, effect", [(9.11, 21.78), (2.31, 2.0), (2.42, 0.4), (1.0, -0.5)])
def test_seeds_needed_is_where_the_interval_first_excludes_zero(spread, effect):
    n = seeds_needed(spread, effect)
    direction = "shown" if effect > 0 else "opposite"
    assert paired_effect(_differences(n, effect, spread), [0.0] * n, larger_is_better=True).verdict == direction
    if n > 2:
        assert paired_effect(_differences(n - 1, effect, spread), [0.0] * (n - 1), True).verdict == "not shown"


def test_seeds_needed_edge_cases_and_bad_inputs():
    assert seeds_needed(9.11, 21.78) == 4  # chapter 7's seeds 0-2: one seed short of an interval above zero
    assert seeds_needed(0.0, 1.0) == 2 and seeds_needed(1.0, 0.0) is None
    assert seeds_needed(1.0, 1e-4, limit=1000) is None
    with pytest.raises(ValueError, match="finite spread"):
        seeds_needed(math.nan, 1.0)


def test_seeds_for_power_matches_a_simulation_and_a_textbook_value():
    from alexnet.claims.statistics import seeds_for_power

    assert seeds_for_power(1.0, 1.0) == 10  # paired t, d = 1, 80% power, two-sided 5%: n = 10 in standard tables
    assert seeds_for_power(0.0, 1.0) == 2 and seeds_for_power(1.0, 1e-4, limit=1000) is None
    rng = np.random.default_rng(0)
    n = seeds_for_power(2.0, 1.0)
    shown = 0
    for _ in range(4000):
        d = rng.normal(1.0, 2.0, n)
        shown += paired_effect(list(d), [0.0] * n, larger_is_better=True).verdict == "shown"
    assert 0.77 < shown / 4000 < 0.85
    with pytest.raises(ValueError, match="effect > 0"):
        seeds_for_power(1.0, -1.0)
