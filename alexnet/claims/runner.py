"""The paper's claims about its mechanisms, each as an experiment with seeds and a computed verdict.

One :class:`Claim` per mechanism chapter (Sections 3.1, 3.3, 3.4, 4.1, 4.2). A claim fixes its
design before it is run: the data (chosen so that the mechanism has something to do), the
networks of its arms, the budget at each scale, how learning rates are chosen, the metric and
the direction the paper claims. :func:`run_claim` then

1. picks each arm's learning rate by a small sweep on :data:`TUNING_SEED`, a seed that is never
   reported, where the paper chose learning rates per network (Figure 1), and otherwise uses the
   design's one learning rate;
2. trains every arm on each reported seed (seed s draws the data, the initial weights, the order
   of mini-batches and the dropout masks; the arms of one seed share all of them where their
   layouts allow);
3. measures the metric per arm and seed, and computes the paired effect, its 95% interval and the
   verdict with :func:`alexnet.claims.statistics.paired_effect` (:func:`~alexnet.claims.statistics.ratio_effect`
   for a ratio). No seed is dropped.

The claims and their designs are in :mod:`alexnet.claims.designs`; ``python -m alexnet experiment NAME``
runs the same function, and with ``--record`` keeps its result as the claim's evidence
(:mod:`alexnet.claims.evidence`), which the chapters read.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field

from alexnet.chapters.mode import rehearsed
from alexnet.claims.claim import TUNING_SEED, Claim, Design
from alexnet.claims.designs import CLAIMS
from alexnet.claims.fit import Budget, History, fit, format_table, seed_everything
from alexnet.claims.statistics import Effect, paired_effect, ratio_effect
from alexnet.training.cost import time_line

__all__ = ["ClaimResult", "run_claim", "CLAIMS_HEADER", "CLAIMS_NOTE", "claims_rows", "claims_table"]


@dataclass
class ClaimResult:
    """What :func:`run_claim` measured; :meth:`to_json` is the ``experiment --json`` object."""

    claim: Claim
    mode: str
    seeds: list[int]
    values: dict[str, list[float]]
    effect: Effect
    learning_rates: dict[str, float]
    seconds: float
    histories: dict[str, list[History]] = field(default_factory=dict, repr=False)
    sweep: dict[str, dict[float, float]] = field(default_factory=dict)
    sweep_epochs: dict[str, dict[float, int]] = field(default_factory=dict)  # the epochs each sweep run was given
    provenance: dict = field(default_factory=dict)  # where and how a recorded result was made (alexnet.claims.evidence)
    fingerprint: str = ""  # a record's design fingerprint (alexnet.claims.evidence.fingerprint)

    def to_json(self) -> dict:
        return {
            "experiment": self.claim.name,
            "claim": self.claim.claim,
            "mode": self.mode,
            "seeds": self.seeds,
            "metric": self.claim.metric,
            "arms": self.values,
            "effect": self.effect.effect,
            "ci95": list(self.effect.ci95),
            "verdict": self.effect.verdict,
            "paper_inside": self.paper_inside(),
            "narrowing": self.narrowing(),
            "learning_rates": self.learning_rates,
            "seconds": round(self.seconds, 1),
        }

    def paper_inside(self) -> bool | None:
        """Does the paper's magnitude (:attr:`Claim.paper_value`) lie inside the 95% interval? ``None``: it gives none."""
        c, (low, high) = self.claim, self.effect.ci95
        if c.paper_value is None:
            return None
        return bool((1 + low if c.ratio else low) <= c.paper_value <= (1 + high if c.ratio else high))

    def narrowing(self) -> dict | None:
        """For a train-validation gap claim, how the gap narrowed: the mechanism's validation error lower by
        (paired mean, 95% interval), its training error (test mode) higher by; the two add up to the effect.
        ``None`` for other claims or without per-epoch curves."""
        c = self.claim
        if not c.gap_metric or not all(self.histories.get(arm) for arm in (c.mechanism, c.baseline)):
            return None

        def last_two(arm: str, key: str) -> list[float]:
            return [sum(getattr(h, key)[-2:]) / len(getattr(h, key)[-2:]) for h in self.histories[arm]]

        val = paired_effect(last_two(c.mechanism, "val_error"), last_two(c.baseline, "val_error"))
        train = paired_effect(last_two(c.mechanism, "train_eval_error"), last_two(c.baseline, "train_eval_error"), True)
        return {
            "validation_error_lower_by": val.effect,
            "validation_ci95": list(val.ci95),
            "training_error_higher_by": train.effect,
            "training_ci95": list(train.ci95),
            "mostly": "training error up" if train.effect > val.effect else "validation error down",
        }

    def summary(self) -> str:
        """The verdict in a sentence, with the numbers it was computed from."""
        c, e = self.claim, self.effect
        percent = c.unit == " points"  # errors and gaps are fractions, shown in %
        means = ", ".join(
            f"{arm} {100 * sum(v) / len(v):.2f}%" if percent else f"{arm} {sum(v) / len(v):.3g}"
            for arm, v in self.values.items()
        )
        if c.ratio:
            low, high = e.ci95
            size = f"{c.baseline} / {c.mechanism} = {1 + e.effect:.2f} (95% interval {1 + low:.2f} to {1 + high:.2f})"
        else:
            size = e.describe(c.unit, scale=100 if c.unit == " points" else 1)  # errors are fractions
        return f"{c.name} ({c.section}): {c.metric}, mean over {len(self.seeds)} seeds: {means}; {size}; verdict: {e.verdict}"


# ----------------------------------------------------------------------------- running


def _say(log, *parts) -> None:
    if log is not None:
        print(*parts, file=log, flush=True)


def _train_arm(claim: Claim, options: dict, data, budget: Budget, seed: int, lr: float, eval_every: int = 1) -> History:
    train, val = data
    budget = dataclasses.replace(budget, seed=seed, lr=lr)
    seed_everything(seed)
    model = claim.build(options, budget, train)
    history = fit(model, train, val, budget, stop_below=claim.stop_below, eval_train=claim.eval_train,
                  eval_every=eval_every)  # fmt: skip
    history.model = model
    return history


def _train_seed(claim: Claim, design: Design, seed: int, rates: dict[str, float]) -> dict[str, History]:
    """Every arm on one reported seed, each at its learning rate; the arms share the seed's data."""
    data = claim.data(design.data, seed)
    return {arm: _train_arm(claim, options, data, design.budget, seed, rates[arm], design.eval_every)
            for arm, options in claim.arms.items()}  # fmt: skip


def _sweep_budget(claim: Claim, tune: Budget, so_far: dict[float, float], given: dict[float, int]) -> Budget:
    """The epochs a sweep run needs: for a time to a target (``stop_below``), a run that has not reached it
    by the best time so far can no longer win, so it stops there; the choice is the same as without stopping."""
    reached = [v for lr, v in so_far.items() if v <= given[lr]]  # not reached counts as its epochs plus one
    if claim.stop_below is None or not reached:
        return tune
    return dataclasses.replace(tune, epochs=min(tune.epochs, math.ceil(min(reached))))


def _score(claim: Claim, value: float) -> float:
    return -value if claim.larger_is_better else value  # smaller is better


def run_claim(
    name: str,
    seeds: int | None = None,
    seed_offset: int = 0,
    full: bool = False,
    log=sys.stderr,
    learning_rates: dict[str, float] | None = None,
) -> ClaimResult:
    """Run claim ``name`` on seeds ``seed_offset`` ... ``seed_offset + seeds - 1``; progress goes to ``log``.

    ``seeds`` defaults to the design's number (:attr:`Design.seeds`), the one its evidence records.
    ``learning_rates`` (one per arm, e.g. a record's) skips the sweep and trains at those rates.
    """
    reported = _reported_seeds(name, seeds, seed_offset, full)
    claim, start = CLAIMS[name], time.perf_counter()
    design = claim.design(full)
    _say(log, f"{name}: {design.describe()}")
    rates, sweep, sweep_epochs = _learning_rates(claim, design, learning_rates, log)
    if full:  # hours on a GPU: say how many before they start
        _say_cost(claim, design, reported, log)
    values = {arm: [] for arm in claim.arms}
    histories = {arm: [] for arm in claim.arms}
    for seed in reported:
        for arm, history in _train_seed(claim, design, seed, rates).items():
            histories[arm].append(history)
            values[arm].append(claim.measure(history, design.budget))
            _say(log, f"  seed {seed}: {arm}: {values[arm][-1]:.4g}")
    mech, base = values[claim.mechanism], values[claim.baseline]
    if claim.ratio:
        effect = ratio_effect(mech, base)  # the geometric mean of baseline / mechanism, minus 1
    else:
        effect = paired_effect(mech, base, claim.larger_is_better)
    mode, seconds = "full" if full else "quick", time.perf_counter() - start
    result = ClaimResult(claim, mode, reported, values, effect, rates, seconds, histories, sweep, sweep_epochs)
    _say(log, result.summary())
    return result


def _reported_seeds(name: str, seeds: int | None, seed_offset: int, full: bool) -> list[int]:
    """The seeds a run reports: the design's number unless ``seeds`` says otherwise, never the tuning seed."""
    if name not in CLAIMS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(CLAIMS)}")
    seeds = rehearsed(CLAIMS[name].design(full).seeds if seeds is None else seeds, "seeds")
    if seeds < 2:
        raise ValueError(f"--seeds must be at least 2 (an interval needs two), got {seeds}")
    reported = list(range(seed_offset, seed_offset + seeds))
    if seed_offset < 0 or TUNING_SEED in reported:
        raise ValueError(f"the seeds must be non-negative and exclude the tuning seed {TUNING_SEED}, got {reported}")
    return reported


def _learning_rates(claim: Claim, design: Design, given: dict[str, float] | None, log) -> tuple[dict, dict, dict]:
    """Each arm's learning rate, with the sweep that chose it (empty where none ran) and its epochs per run:
    ``given`` rates as they are, a sweep on :data:`TUNING_SEED` where the design lists several, else its one."""
    if given is not None:
        if set(given) != set(claim.arms):
            raise ValueError(f"learning_rates must name every arm {list(claim.arms)}, got {list(given)}")
        return dict(given), {}, {}
    if len(design.lrs) > 1:
        return _sweep(claim, design, log)
    return {arm: design.lrs[0] for arm in claim.arms}, {}, {}


def _sweep(claim: Claim, design: Design, log) -> tuple[dict, dict, dict]:
    """Figure 1: each network's learning rate chosen to train it as fast as possible, on the tuning seed alone."""
    data = claim.data(design.data, TUNING_SEED)
    tune = dataclasses.replace(design.budget, epochs=design.tune_epochs or design.budget.epochs)
    rates, sweep, sweep_epochs = {}, {}, {}
    for arm, options in claim.arms.items():
        sweep[arm], last, sweep_epochs[arm] = {}, {}, {}
        for lr in design.lrs:
            given = _sweep_budget(claim, tune, sweep[arm], sweep_epochs[arm])
            history = _train_arm(claim, options, data, given, TUNING_SEED, lr)
            sweep[arm][lr], last[lr] = claim.measure(history, given), history.train_loss[-1]
            sweep_epochs[arm][lr] = given.epochs
            _say(log, f"  tuning seed {TUNING_SEED}: {arm} at lr {lr:g}: {sweep[arm][lr]:.4g}")
        # the best metric; between equals (e.g. none reached the target), the lower final training loss
        rates[arm] = min(design.lrs, key=lambda lr, arm=arm, last=last: (_score(claim, sweep[arm][lr]), last[lr]))
    _say(log, f"  chosen learning rates: {rates}")
    return rates, sweep, sweep_epochs


def _say_cost(claim: Claim, design: Design, reported: list[int], log) -> None:
    """How many runs of how many epochs, and what they cost on this machine (:func:`alexnet.training.cost.time_line`)."""
    budget = design.budget
    train = claim.data(design.data, reported[0])[0]
    runs = len(claim.arms) * len(reported)
    net = claim.build(claim.arms[claim.mechanism], budget, train)
    cost = time_line(net, len(train), runs * budget.epochs, budget.image_size)
    _say(log, f"{runs} runs of {budget.epochs} epochs; {cost}")


CLAIMS_HEADER = ("section", "claim", "paper", "ours", "95% interval", "verdict", "paper's size inside", "seeds", "mode")
CLAIMS_NOTE = "(effects are signed so that a positive value is the paper's direction)"


def claims_rows(results: list[ClaimResult]) -> list[list[str]]:
    """One row per claim under :data:`CLAIMS_HEADER`: the paper's number, ours, the interval, the verdict,
    whether the paper's magnitude lies inside the interval, the seeds and the mode."""
    rows = []
    for r in results:
        c, e = r.claim, r.effect
        if c.ratio:
            ours, ci = f"ratio {1 + e.effect:.2f}", f"[{1 + e.ci95[0]:.2f}, {1 + e.ci95[1]:.2f}]"
        else:
            scale = 100 if c.unit == " points" else 1
            ours = f"{scale * e.effect:+.2f}{c.unit}"
            ci = f"[{scale * e.ci95[0]:+.2f}, {scale * e.ci95[1]:+.2f}]"
        inside = {None: "no number", True: "yes", False: "no"}[r.paper_inside()]
        seeds = f"{r.seeds[0]}-{r.seeds[-1]} ({len(r.seeds)})"
        rows.append([c.section, c.name, c.paper, ours, ci, e.verdict, inside, seeds, r.mode])
    return rows


def claims_table(results: list[ClaimResult]) -> str:
    """:func:`claims_rows` as a text table, for a terminal."""
    return f"{format_table(list(CLAIMS_HEADER), claims_rows(results), left=len(CLAIMS_HEADER))}\n{CLAIMS_NOTE}"
