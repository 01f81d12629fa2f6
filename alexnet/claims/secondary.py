"""The paper's secondary claims, measured from the records of the five main ones.

Three sentences of the paper come with a main claim and are measured on the same runs:

* Section 3.4: "models with overlapping pooling find it slightly more difficult to overfit": the
  train-validation gap (validation minus training error in test mode, last two epochs) of
  non-overlapping minus overlapping pooling, from the pooling record;
* Section 4.2: "Dropout roughly doubles the number of iterations required to converge": epochs until
  the on-the-fly training error first reaches :data:`CONVERGE_AT`, dropout over no dropout (a
  geometric mean), from the dropout record;
* Section 4.1: the PCA colour noise "reduces the top-1 error rate by over 1%": validation error of
  crops + flips minus crops + flips + PCA (last two epochs), from the augmentation record, whose
  validation patches are seen under another light.

They were not what the records' numbers of seeds were chosen for (no power calculation), so a
verdict here is weaker evidence than a main claim's. Chapters 5 and 7 measure the first two with these
functions; chapter 6 sets the colour noise beside the cost of a change of light.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexnet.claims.fit import History, epochs_to_reach
from alexnet.claims.materials import gap
from alexnet.claims.runner import ClaimResult
from alexnet.claims.statistics import Effect, paired_effect, ratio_effect

__all__ = [
    "CONVERGE_AT",
    "Secondary",
    "overfitting_gaps",
    "pooling_overfitting",
    "epochs_to_converge",
    "dropout_convergence",
    "pca_colour",
    "secondary_claims",
]

CONVERGE_AT = 0.50  # the training error that counts as converged (the paper does not define it; chapter 7 explains)


@dataclass(frozen=True)
class Secondary:
    """One secondary claim: where the paper makes it, its figure, and our effect on the records' seeds."""

    section: str
    claim: str
    paper: str
    effect: Effect
    ratio: bool  # the effect is a ratio minus 1 (else a difference of error rates)

    def row(self) -> list[str]:
        low, high = self.effect.ci95
        if self.ratio:
            ours, interval = f"ratio {1 + self.effect.effect:.2f}", f"[{1 + low:.2f}, {1 + high:.2f}]"
        else:
            ours, interval = f"{100 * self.effect.effect:+.2f} points", f"[{100 * low:+.2f}, {100 * high:+.2f}]"
        return [self.section, self.claim, self.paper, ours, interval, self.effect.verdict]


def _last_two(history: History, key: str) -> float:
    values = getattr(history, key)[-2:]
    return sum(values) / len(values)


def overfitting_gaps(pooling: ClaimResult) -> dict[str, list[float]]:
    """Per arm and seed: validation minus training error in test mode, the mean of the last two evaluations."""
    budget = pooling.claim.design(pooling.mode == "full").budget
    return {arm: [gap(h, budget) for h in pooling.histories[arm]] for arm in pooling.claim.arms}


def pooling_overfitting(pooling: ClaimResult) -> Effect:
    """Section 3.4's second sentence: how much smaller overlapping pooling's train-validation gap is."""
    gaps = overfitting_gaps(pooling)
    return paired_effect(gaps[pooling.claim.mechanism], gaps[pooling.claim.baseline])


def epochs_to_converge(dropout: ClaimResult) -> dict[str, list[float | None]]:
    """Per arm and seed: epochs until the on-the-fly training error first reaches :data:`CONVERGE_AT`,
    interpolated from chance before the first epoch; ``None`` for a run that never gets there."""
    chance = 1 - 1 / dropout.claim.design(dropout.mode == "full").budget.num_classes
    return {arm: [epochs_to_reach(h.train_error, CONVERGE_AT, start=chance) for h in dropout.histories[arm]]
            for arm in dropout.claim.arms}  # fmt: skip


def dropout_convergence(dropout: ClaimResult) -> Effect:
    """Section 4.2: epochs to :data:`CONVERGE_AT` training error, dropout over no dropout; a run that never gets
    there counts as the budget plus one epoch (so a ratio that involves one is a bound, not a measurement)."""
    budget = dropout.claim.design(dropout.mode == "full").budget
    epochs = {arm: [budget.epochs + 1.0 if r is None else r for r in reach]
              for arm, reach in epochs_to_converge(dropout).items()}  # fmt: skip
    return ratio_effect(epochs[dropout.claim.baseline], epochs[dropout.claim.mechanism])


def pca_colour(augmentation: ClaimResult) -> Effect:
    """Section 4.1: how much lower the validation error is with the PCA colour noise than with crops and flips alone."""
    pca, crops = "crops + flips + PCA", augmentation.claim.mechanism
    return paired_effect([_last_two(h, "val_error") for h in augmentation.histories[pca]],
                         [_last_two(h, "val_error") for h in augmentation.histories[crops]])  # fmt: skip


def secondary_claims(records: dict[str, ClaimResult]) -> list[Secondary]:
    """The three secondary claims from the records of ``pooling``, ``dropout`` and ``augmentation``."""
    return [
        Secondary("3.4", "overlapping pooling: harder to overfit", "'slightly' (no number)",
                  pooling_overfitting(records["pooling"]), ratio=False),
        Secondary("4.2", "dropout: slower to converge", "roughly 2x the iterations",
                  dropout_convergence(records["dropout"]), ratio=True),
        Secondary("4.1", "PCA colour: lower top-1 error", "over 1 point",
                  pca_colour(records["augmentation"]), ratio=False),
    ]  # fmt: skip
