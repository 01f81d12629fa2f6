"""A claim of the paper and the experiment that tests it, written down before it is run (Sections 3.1-4.2).

A :class:`Claim` is one sentence of the paper and the experiment that tests it: the data (chosen
so that the mechanism has something to do, and why, in ``why``), the networks of its arms, the
metric and the direction the paper claims; a :class:`Design` is its budget at one scale, quick
(CPU, offline data) or full (GPU, CIFAR-10 / Imagenette), with the learning rates to try, and a
:class:`Power` calculation fixes how many seeds its record runs. The five claims are in
:mod:`alexnet.claims.designs`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from alexnet.chapters.mode import REHEARSAL, is_rehearsal, rehearsed
from alexnet.claims.fit import Budget, History
from alexnet.data import ImageTensorDataset

__all__ = ["TUNING_SEED", "Power", "Design", "Claim"]

TUNING_SEED = 10_000  # learning rates are chosen on this seed alone; it may not be among the reported seeds


@dataclass(frozen=True)
class Power:
    """How many seeds a claim's record runs, fixed before it was recorded: a power calculation.

    ``spread`` is the standard deviation of the per-seed effect (the log ratio, for a ratio claim)
    measured on the probe seeds, which are never reported; ``target`` is the effect to detect on the
    same scale, the paper's where it gives one (``target_source`` says which). The record runs
    :attr:`needed` seeds, the fewest that show ``target`` with probability ``power``
    (:func:`alexnet.claims.statistics.seeds_for_power`), but at least ``minimum`` and at most :attr:`cap`,
    the number that fits in ``budget_seconds`` at the probe's pace on two CPU cores. Where the cap
    binds, the claim is *underpowered at this scale*, and its chapter says how many seeds it would take.
    """

    probe_seeds: tuple[int, ...]
    spread: float
    seconds_per_seed: float  # the probe's wall time (sweep included) per seed, on 2 CPU cores
    target: float
    target_source: str
    power: float = 0.8
    budget_seconds: float = 600.0
    minimum: int = 10

    @property
    def needed(self) -> int | None:
        from alexnet.claims.statistics import seeds_for_power

        return seeds_for_power(self.spread, self.target, self.power)

    @property
    def cap(self) -> int:
        return max(self.minimum, math.floor(self.budget_seconds / self.seconds_per_seed))

    @property
    def seeds(self) -> int:
        needed = self.needed
        return max(self.minimum, self.cap if needed is None else min(needed, self.cap))

    @property
    def underpowered(self) -> bool:
        needed = self.needed
        return needed is None or needed > self.cap

    def describe(self, ratio: bool = False) -> str:
        scale = "log ratio" if ratio else "difference"
        needed = self.needed
        need = f"{needed:,}" if needed is not None else "more than 100,000"
        probes = f"{self.probe_seeds[0]}-{self.probe_seeds[-1]}"
        verdict = (
            f"underpowered at this scale: {self.seeds} seeds, the most that fit in {self.budget_seconds / 60:.0f} "
            f"minutes, where {need} would give {self.power:.0%} power"
            if self.underpowered
            else f"{self.seeds} seeds (at least {self.minimum})"
        )
        return (
            f"the per-seed {scale} had a standard deviation of {self.spread:.4g} on probe seeds {probes}; "
            f"to show {self.target:.4g} ({self.target_source}) with {self.power:.0%} power takes {need} seeds; "
            f"{self.seconds_per_seed:.0f} s per seed on 2 CPU cores; so {verdict}"
        )

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "needed": self.needed, "cap": self.cap, "seeds": self.seeds,
                "underpowered": self.underpowered}  # fmt: skip


@dataclass(frozen=True)
class Design:
    """One scale of a claim's experiment: the data's options, the budget, the learning rates to try."""

    data: dict
    budget: Budget
    lrs: tuple[float, ...]  # one value: that learning rate for every arm; several: a per-arm sweep
    tune_epochs: int | None = None  # epochs of each sweep run (default: the budget's)
    seeds: int = 3  # how many seeds the record runs: power.seeds where a power calculation fixed it
    eval_every: int = 1  # evaluate after every that many epochs and after the last two (the metrics use those)
    power: Power | None = None  # the power calculation behind ``seeds``

    def describe(self) -> str:
        b = self.budget
        lrs = f"lr {self.lrs[0]:g}" if len(self.lrs) == 1 else f"lr per arm from {{{', '.join(map(str, self.lrs))}}}"
        every = "" if self.eval_every == 1 else f", evaluated every {self.eval_every} epochs and after the last two"
        return (
            f"data {self.data}; {b.epochs} epochs, batch {b.batch_size}, {lrs}, momentum {b.momentum}, "
            f"weight decay {b.weight_decay}, network width x{b.width}{every}"
        )


def _rehearsed(design: Design) -> Design:
    """In a rehearsal (:func:`alexnet.chapters.mode.is_rehearsal`) the design at a CPU's amounts: epochs, batch,
    sweep points and images (the synthetic sets' sizes, the photos' patches); its data, networks and metric stay."""
    if not is_rehearsal():
        return design
    amounts = {"train_images": "images", "val_images": "images", "train_patches": "patches", "val_patches": "patches"}
    data = {k: rehearsed(v, amounts[k]) if k in amounts else v for k, v in design.data.items()}
    if data.get("dataset") == "cifar10":  # the first images of each split
        data.update(train_images=REHEARSAL["images"], val_images=REHEARSAL["images"])
    b = design.budget
    budget = dataclasses.replace(
        b, epochs=rehearsed(b.epochs, "claim_epochs"), batch_size=rehearsed(b.batch_size, "batch_size")
    )
    lrs = design.lrs[: REHEARSAL["sweep"]]
    tune = design.tune_epochs and rehearsed(design.tune_epochs, "claim_epochs")
    return dataclasses.replace(design, data=data, budget=budget, lrs=lrs, tune_epochs=tune)


@dataclass(frozen=True)
class Claim:
    """A claim of the paper and the experiment that tests it; ``arms`` lists the mechanism's arm first."""

    name: str
    section: str
    claim: str  # the paper's claim, in our words, with its number
    paper: str  # the paper's figure, for the claims table
    metric: str
    arms: dict[str, dict]
    build: Callable[[dict, Budget, ImageTensorDataset], nn.Module]  # (arm options, budget, train) -> network
    data: Callable[[dict, int], tuple[ImageTensorDataset, ImageTensorDataset]]  # (options, seed) -> splits
    measure: Callable[[History, Budget], float]
    quick: Design
    full: Design
    why: str = ""  # why this data: what the mechanism has to do on it
    paper_scale: str = ""  # the paper's experiment, to print next to ours
    ratio: bool = False  # effect = geometric mean of baseline / mechanism, minus 1 (e.g. epochs), else a difference
    larger_is_better: bool = False
    unit: str = " points"
    stop_below: float | None = None  # training may stop once the training error reaches this
    eval_train: bool = False  # measure the training error in test mode after each epoch (for gaps)
    paper_value: float | None = None  # the paper's magnitude on the effect's scale (a ratio for a ratio claim)
    gap_metric: bool = False  # the metric is a train-validation gap: say whether validation fell or training rose
    revised: str = ""  # what changed in the design after earlier results had been seen (the chapter tells it in full)

    @property
    def mechanism(self) -> str:
        return next(iter(self.arms))

    @property
    def baseline(self) -> str:
        return list(self.arms)[1]

    def design(self, full: bool) -> Design:
        """The quick or the full design; in a rehearsal (:func:`alexnet.chapters.mode.is_rehearsal`) the full one
        at a CPU's amounts."""
        return _rehearsed(self.full) if full else self.quick

    def describe(self, full: bool = False, seeds: int | None = None, seed_offset: int = 0) -> str:
        """The design, written before the run: what a chapter prints above its experiment."""
        d = self.design(full)
        seeds = seeds or d.seeds
        if len(d.lrs) > 1:
            lr = (
                f"chosen per arm from {', '.join(map(str, d.lrs))} by a sweep of "
                f"{d.tune_epochs or d.budget.epochs} epochs on seed {TUNING_SEED}, which is not reported"
            )
        else:
            lr = f"{d.lrs[0]:g} for every arm (the paper chose none per arm here)"
        shown = (f"the 95% interval of the geometric mean of {self.baseline}/{self.mechanism} over seeds lies above 1"
                 if self.ratio else f"the 95% interval of the mean paired difference ({self.baseline} minus "
                 f"{self.mechanism}{', reversed' if self.larger_is_better else ''}) lies above 0")  # fmt: skip
        lines = [
            f"claim ({self.section}): {self.claim}",
            f"paper's experiment: {self.paper_scale}",
            f"ours ({'full' if full else 'quick'} mode): {d.describe()}",
            f"why this data: {self.why}",
            f"arms: {', '.join(f'{a} {o}' for a, o in self.arms.items())}",
            f"metric: {self.metric}",
            f"learning rate: {lr}",
            f"seeds: {seed_offset}-{seed_offset + seeds - 1} ({seeds} seeds; each draws the data, the initial "
            "weights, the batch order and the dropout masks; the arms of a seed share them)",
            f"shown if {shown}; opposite if it lies below {1 if self.ratio else 0}; otherwise not shown",
        ]
        if d.power is not None:
            lines.append(f"how many seeds (fixed before the record was made): {d.power.describe(self.ratio)}")
        return "\n".join(lines)
