"""The five claims' experiments, each written down before it is run (Sections 3.1, 3.3, 3.4, 4.1, 4.2).

A :class:`Claim` is one sentence of the paper and the experiment that tests it: the data (chosen
so that the mechanism has something to do, and why, in ``why``), the networks of its arms, the
metric and the direction the paper claims; a :class:`Design` is its budget at one scale, quick
(CPU, offline data) or full (GPU, CIFAR-10 / Imagenette), with the learning rates to try. The
designs were probed on seeds 500-504 and on :data:`TUNING_SEED`, but not only there: some were
changed after earlier versions had been run on seeds 0-2 and 100-102, the seeds chapters then
reported (ReLU's data and dropout's, as their ``why`` says; LRN's layer and learning rates,
pooling's budget), and each chapter's collapsed design note says what the earlier version
measured. The records were made afterwards, over seeds their power calculations fixed. :data:`CLAIMS` holds them; :func:`alexnet.claims.runner.run_claim` runs one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from alexnet.chapters.mode import REHEARSAL, is_rehearsal, rehearsed
from alexnet.claims.fit import Budget, History, epochs_to_reach, four_layer_net
from alexnet.data import ImageTensorDataset, load_dataset
from alexnet.nn.lrn import paper_lrn_parameters

__all__ = ["TUNING_SEED", "Power", "Design", "Claim", "CLAIMS"]

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
    """In a rehearsal (:func:`alexnet.chapters.mode.is_rehearsal`) the design at a CPU's amounts: epochs, batch, sweep points
    and images (the synthetic sets' sizes, the photos' patches); its data, networks and metric stay."""
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
        """The quick or the full design; in a rehearsal (:func:`alexnet.chapters.mode.is_rehearsal`) the full one at a CPU's amounts."""
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


# ----------------------------------------------------------------------------- data, networks, metrics


def _reduced_cifar(epochs: int) -> Design:
    """Full mode for the reduced AlexNet: CIFAR-10 resized to 67 px, width 0.5, lr 0.01."""
    budget = dataclasses.replace(_CIFAR_FULL, image_size=67, epochs=epochs, weight_decay=5e-4, width=0.5)
    return Design(dict(dataset="cifar10", image_size=67), budget, lrs=(0.01,))


def synthetic(options: dict, seed: int):
    """Both splits of the synthetic shapes drawn with ``seed``; full mode reads CIFAR-10 instead."""
    if options.get("dataset") == "cifar10":
        from alexnet.claims.fit import load_data

        size = options.get("image_size", 32)
        first = {k: options[k] for k in ("train_images", "val_images") if k in options}  # a rehearsal's amounts
        return load_data(dataclasses.replace(_CIFAR_FULL, image_size=size, **first))
    opts = dict(options)
    sizes = {"train": opts.pop("train_images"), "val": opts.pop("val_images")}
    return tuple(load_dataset("synthetic", s, num_images=sizes[s], seed=seed, **opts) for s in ("train", "val"))


def _four_layer(options: dict, budget: Budget, train=None) -> nn.Module:
    return four_layer_net(num_classes=budget.num_classes, width=budget.width, image_size=budget.image_size, **options)


def _alexnet(options: dict, budget: Budget, train=None) -> nn.Module:
    from alexnet.nn.model import build_model

    return build_model("paper", num_classes=budget.num_classes, width=budget.width, image_size=budget.image_size,
                       **_HE_STANDARDISED, **options)  # fmt: skip


def epochs_to_25(history: History, budget: Budget) -> float:
    """Figure 1's measure: epochs until the on-the-fly training error first reaches 25%; a run that never
    does counts as the whole budget plus one epoch (so its ratio is understated, never overstated)."""
    reached = epochs_to_reach(history.train_error, 0.25, start=1 - 1 / budget.num_classes)
    return reached if reached is not None else budget.epochs + 1.0


def _last_val_error(history: History, budget: Budget) -> float:
    """Validation top-1 error, the mean of the last two epochs (less noisy than one)."""
    return sum(history.val_error[-2:]) / len(history.val_error[-2:])


def _gap(history: History, budget: Budget) -> float:
    """Over-fitting: validation error minus training error measured in test mode, mean of the last two epochs."""
    gaps = [v - t for v, t in zip(history.val_error, history.train_eval_error, strict=True)]
    return sum(gaps[-2:]) / len(gaps[-2:])


def other_light(images: torch.Tensor, seed: int) -> torch.Tensor:
    """The same images under other light: each image's R, G and B multiplied by its own gain in [0.7, 1.4]."""
    g = torch.Generator().manual_seed(seed)
    gains = torch.exp((2 * torch.rand(len(images), 3, 1, 1, generator=g) - 1) * 0.35)
    return (images.float() * gains).round().clamp(0, 255).to(torch.uint8)


def photo_patches(options: dict, seed: int):
    """ "Which photo is this patch from?" (alexnet.data.photos); with ``relight``, the validation patches
    are seen under a different light per patch (:func:`other_light`), the change Section 4.1's colour noise is for."""
    opts = dict(options)
    relight = opts.pop("relight", False)
    per = {"train": opts.pop("train_patches"), "val": opts.pop("val_patches")}
    train, val = (load_dataset("photos", s, patches_per_photo=per[s], seed=seed, **opts) for s in ("train", "val"))
    if relight:
        val = ImageTensorDataset(other_light(val.images, seed), val.labels, val.classes)
    return train, val


def _augmented_alexnet(options: dict, budget: Budget, train: ImageTensorDataset) -> nn.Module:
    """The reduced AlexNet behind Section 4.1's augmentation layer; ``pca`` adds the colour noise."""
    from alexnet.data.augment import Augment, rgb_eigen
    from alexnet.data.inputs import ModelInput

    opts = dict(options)
    crop = round(budget.image_size * 224 / 256)  # Section 4.1's ratio of crop to image side: 77 -> 67, 146 -> 128
    eigen = rgb_eigen(train.images) if opts.pop("pca", False) else None
    net = _alexnet({}, dataclasses.replace(budget, image_size=crop))
    scale = ModelInput.fit(net, train.images).pixel_scale()  # colour noise in the input's own units
    model = nn.Sequential(Augment(crop, **opts, eigen=eigen, scale=scale), net)
    model.input_convention = net.config.input_convention  # what fit() feeds the Sequential
    return model


# The four-layer net is fed Section 2's raw 0-255 values minus the mean image, as cuda-convnet fed it;
# its learning rate is cuda-convnet's for that net, epsW=0.001 in example-layers/layer-params-18pct.cfg
# (dnouri/cuda-convnet@26e02814, the svn trunk's mirror). At 0.01 the ReLU net diverges on these inputs.
_FOUR_LAYER_LR = 0.001
# The reduced AlexNets train with He init on standardised inputs (a deviation the chapters print): on raw
# 0-255 values He init diverges at lr 0.01, Section 5's N(0, 0.01) stays at chance, and the same scaled to
# the width ("paper-width") learns, but far more slowly than He init within the quick budgets.
_HE_STANDARDISED = {"init": "kaiming", "input_convention": "torchvision"}
_SHAPES = dict(image_size=32, num_classes=8)
# LRN's learning rates, per arm, around cuda-convnet's 0.001 for this net. The first design gave both arms 0.001
# with the printed constants and measured LRN 14.5 points worse (seeds 0-2), its arm training more slowly: an LRN
# that barely divides still scales every unit by k^-beta = 0.59, twice, so the same step moves that net less.
# With the CIFAR-10 constants below (k = 1, no such factor) both arms' best rate on the tuning seed was 0.001,
# inside this grid.
_LRN_LRS = (0.0003, _FOUR_LAYER_LR, 0.003)
# The CIFAR-10 result of Section 3.3 is, by its footnote, "specified precisely by the code and parameter files"
# of cuda-convnet: layer-params-conv-local-11pct.cfg normalises with size=9, scale=0.001, pow=0.75 and its
# constant 1 (dnouri/cuda-convnet@35d0bc4). Converted to the paper's convention, alpha * n / k is 4 times the
# printed ImageNet layer's (1e-3 against 2.5e-4), and on this chapter's inputs its median alpha * sum(a^2) / k
# at lrn1 is 0.1-0.3 after training (probe, seeds 500-502), where the printed constants gave 0.03.
_CIFAR_LRN = paper_lrn_parameters("cuda-convnet", size=9, scale=1e-3, pow=0.75)
# Figure 1's per-network learning rates are swept over a grid wide enough that neither arm's best is at its edge
_FIGURE_1_LRS = (0.0003, 0.001, 0.003, 0.01, 0.03)
# an over-fitting regime: few training images, distractor blobs and a contrast that varies per image
_SMALL_DATA = dict(image_size=67, num_classes=8, train_images=256, val_images=512, clutter=3, contrast=0.5)
_OVERFIT_QUICK = Design(  # the reduced AlexNet in the over-fitting regime (pooling and dropout)
    dict(_SMALL_DATA),
    Budget(train_images=256, image_size=67, num_classes=8, epochs=10, weight_decay=5e-4, width=0.25),
    lrs=(0.01,),
)
_CIFAR_FULL = Budget(dataset="cifar10", train_images=None, val_images=None, num_classes=10, batch_size=128)

# ----------------------------------------------------------------------------- how many seeds: power calculations
# The spreads were measured by `python -m alexnet experiment NAME --seeds 5 --seed-offset 500` (probe seeds, never
# reported) on a 2-core AMD EPYC before any record was made: the standard deviation of the per-seed effect. The times
# per seed are the same probes' wall times (sweep included) for augmentation and dropout; the LRN, ReLU and pooling
# probes shared their CPU with other work (LRN's got 95% of one core's worth, its time 4 times its idle one), so theirs
# are the times of `experiment NAME --json` (3 seeds and the sweep) on an idle 2-core Intel Xeon when the designs were
# last changed, lest the records be capped by what else the machine was doing.
_PROBES = (500, 501, 502, 503, 504)
# Sections 4.1 and 4.2 give no number for how much augmentation and dropout reduce over-fitting ("substantial");
# 5 points of train-validation gap is the smallest narrowing we would call a real reduction of over-fitting.
_GAP_TARGET = "no number in the paper: 5 points of gap, the smallest narrowing we would call substantial"
# LRN: Section 3.3's 2 points (13% -> 11% test error on CIFAR-10)
_LRN_POWER = Power(
    _PROBES, spread=0.02574, seconds_per_seed=62 / 3, target=0.02, target_source="Section 3.3: 13% -> 11%"
)
# ReLU: Figure 1's ratio of about 6, on the log scale on which the ratios are averaged
_RELU_POWER = Power(
    _PROBES,
    spread=0.1087,
    seconds_per_seed=69 / 3,
    target=math.log(6),
    target_source="Figure 1: a ratio of about 6, log 6",
)
# Pooling: Section 3.4's 0.4 points of top-1 error
_POOLING_POWER = Power(
    _PROBES,
    spread=0.05126,
    seconds_per_seed=35 / 3,
    target=0.004,
    target_source="Section 3.4: 0.4 points of top-1 error",
)
_GAP_POWER = {
    "augmentation": Power(_PROBES, spread=0.04964, seconds_per_seed=10.6, target=0.05, target_source=_GAP_TARGET),
    "dropout": Power(_PROBES, spread=0.0962, seconds_per_seed=16.7, target=0.05, target_source=_GAP_TARGET),
}

CLAIMS: dict[str, Claim] = {
    "relu": Claim(
        name="relu",
        revised="the averaging of the ratios (arithmetic to log scale), after seeds 0-2 had been seen",
        section="3.1, Figure 1",
        claim="a four-layer CNN with ReLUs reaches 25% training error six times faster than with tanh",
        paper="ratio ~6 (Figure 1)",
        metric="epochs to 25% training error",
        why=(
            "Figure 1 measures how fast training error falls, not generalisation, so the task must be learnable in the "
            "budget yet not in the first epoch: on clean shapes in their class hue both nets reached 25% within about "
            "two epochs (ratio 1.7-1.8, seeds 0-2 and 100-102); with distractor blobs and each image's contrast scaled "
            "by 1/2 to 2x (fed as raw values, as cuda-convnet fed this net) the last stretch to 25% takes several "
            "epochs, and a unit that saturates on the high-contrast images is slow there"
        ),
        paper_scale="CIFAR-10, 50,000 images of 32 px, 10 classes; the four-layer net; ~6 vs ~36 epochs to 25%",
        arms={"ReLU": {"activation": "relu"}, "tanh": {"activation": "tanh"}},
        build=_four_layer,
        data=synthetic,
        measure=epochs_to_25,
        quick=Design(
            dict(_SHAPES, train_images=2048, val_images=8, contrast=1.0, clutter=2),
            Budget(train_images=2048, image_size=32, num_classes=8, epochs=10),
            lrs=_FIGURE_1_LRS,
            tune_epochs=4,
            seeds=_RELU_POWER.seeds,
            power=_RELU_POWER,
        ),
        full=Design(dict(dataset="cifar10"), dataclasses.replace(_CIFAR_FULL, epochs=40), lrs=_FIGURE_1_LRS),
        ratio=True,
        unit="",
        stop_below=0.25,
        paper_value=6.0,
    ),
    "lrn": Claim(
        name="lrn",
        revised="the layer (printed constants to cuda-convnet's CIFAR-10 layer) and a learning rate per arm, after seeds 0-2 and 100-102",
        section="3.3",
        claim="local response normalisation lowers the test error of a four-layer CNN on CIFAR-10 from 13% to 11%",
        paper="+2 points (CIFAR-10, 13% -> 11%)",
        metric="validation top-1 error, mean of the last two epochs",
        why=(
            "a brightness normalisation has something to do when the images' brightness and contrast vary: each image's "
            "contrast is scaled by 1/4 to 4x and its brightness shifted, with distractor blobs; raw 0-255 inputs minus the "
            "mean image (Section 2), so that alpha * sum(a^2) is not negligible next to k; the layer is the one of "
            "cuda-convnet's CIFAR-10 net, to which Section 3.3's footnote refers this result (n=9, alpha=1.1e-4, k=1)"
        ),
        paper_scale="CIFAR-10, 50,000 training images, the four-layer net; test error 13% without, 11% with LRN",
        arms={
            "LRN": {"lrn": "before_pool", **{f"lrn_{key}": value for key, value in _CIFAR_LRN.items()}},
            "no LRN": {"lrn": "none"},
        },
        build=_four_layer,
        data=synthetic,
        measure=_last_val_error,
        paper_value=0.02,
        quick=Design(
            # contrast 3: each image's gain from 1/4 to 4x; at 1 (1/2 to 2x) the network without LRN coped alone
            dict(_SHAPES, train_images=1024, val_images=512, contrast=3.0, clutter=2),
            Budget(train_images=1024, image_size=32, num_classes=8, epochs=6, weight_decay=5e-4),
            lrs=_LRN_LRS,
            tune_epochs=2,
            seeds=_LRN_POWER.seeds,
            power=_LRN_POWER,
        ),
        full=Design(
            dict(dataset="cifar10"),
            dataclasses.replace(_CIFAR_FULL, epochs=60, weight_decay=5e-4),
            lrs=_LRN_LRS,
            tune_epochs=10,
        ),
    ),
    "pooling": Claim(
        name="pooling",
        revised="the budget (10 to 30 epochs), after seeds 0-2; 3-seed verdicts then differed between two CPUs",
        section="3.4",
        claim="overlapping pooling (z=3, s=2) lowers the error against z=2, s=2 and makes over-fitting slightly harder",
        why=(
            "an over-fitting regime (256 training images, distractor blobs, contrast varying per image), since the "
            "paper's second claim is that overlapping pooling makes over-fitting harder"
        ),
        paper_scale="ImageNet (ILSVRC-2010), the full network; top-1/top-5 error 0.4/0.3 points lower",
        paper="+0.4 / +0.3 points (top-1 / top-5)",
        metric="validation top-1 error, mean of the last two epochs",
        arms={
            "overlapping (z=3, s=2)": {"overlapping_pool": True},
            "non-overlapping (z=2, s=2)": {"overlapping_pool": False},
        },
        build=_alexnet,
        data=synthetic,
        measure=_last_val_error,
        # 30 epochs, not 10: after 10 both arms' training error (test mode) was still 31-36% on seeds 0-2, so nothing
        # had over-fitted yet; at 30 both fit their 256 images (0-1.2%, probe seeds 500-502)
        # (evaluating both sets after every epoch took half of each run's time; every third epoch draws the curves)
        quick=dataclasses.replace(
            _OVERFIT_QUICK,
            budget=dataclasses.replace(_OVERFIT_QUICK.budget, epochs=30),
            eval_every=3,
            seeds=_POOLING_POWER.seeds,
            power=_POOLING_POWER,
        ),
        full=_reduced_cifar(epochs=30),
        eval_train=True,
        paper_value=0.004,
    ),
    "augmentation": Claim(
        name="augmentation",
        revised="seeds added (3, then 5) after the first result had been seen; 3-seed verdicts could change with the CPU",
        section="4.1",
        claim="random crops and reflections reduce over-fitting; without them the network overfits substantially",
        why=(
            "real photographs with few training patches (32 per photo), so that a network can memorise them; the "
            "validation patches come from other quadrants of the photos and are seen under another light (each "
            "patch's R, G, B scaled by 0.7-1.4x), the change of illumination that the PCA colour noise is for"
        ),
        paper_scale="ImageNet, 1.2 million images at 256 px cropped to 224, 90 epochs; no figure without augmentation",
        paper="needed to avoid over-fitting (no number)",
        metric="validation minus training error (test mode), mean of the last two epochs (validation under other light)",
        arms={
            "crops + flips": {},
            "none": {"crop": False, "flip": False},
            "crops + flips + PCA": {"pca": True},
        },
        build=_augmented_alexnet,
        data=photo_patches,
        measure=_gap,
        quick=Design(
            dict(image_size=256, patch_size=77, train_patches=32, val_patches=32, relight=True),
            Budget(image_size=77, num_classes=8, epochs=10, batch_size=32, weight_decay=5e-4, width=0.25),
            lrs=(0.01,),
            seeds=_GAP_POWER["augmentation"].seeds,
            eval_every=2,  # a third of each run's time went to evaluating both sets after every epoch
            power=_GAP_POWER["augmentation"],
        ),
        full=Design(
            dict(image_size=512, patch_size=146, train_patches=256, val_patches=64, relight=True),
            Budget(image_size=146, num_classes=8, epochs=40, batch_size=64, weight_decay=5e-4, width=1.0),
            lrs=(0.01,),
        ),
        eval_train=True,
        gap_metric=True,
    ),
    "dropout": Claim(
        name="dropout",
        revised="the data (the third regime tried) and the split of the gap, after seeds 0-2; the 3-seed verdict differed between two CPUs",
        section="4.2",
        claim="without dropout the network overfits substantially; dropout on fc6 and fc7 narrows the train-validation gap",
        why=(
            "an over-fitting regime in which shape is the only cue (256 training images, each shape in a random hue, "
            "distractor blobs, contrast varying per image): the plain network memorises its training images long "
            "before it generalises; on the shapes in their class hue (the pooling design) it generalised well enough "
            "that the gap was a few points and noisy (+4.95 points, 95% interval -4.6 to +14.5, seeds 0-2), and "
            "dropout's slower convergence needs the longer budget"
        ),
        paper_scale="ImageNet, 1.2 million images, the full network with dropout 0.5 on fc6 and fc7; no figure without",
        paper="substantial over-fitting without it",
        metric="validation minus training error (test mode), mean of the last two epochs",
        arms={"dropout 0.5": {"dropout": 0.5}, "no dropout": {"dropout": 0.0}},
        build=_alexnet,
        data=synthetic,
        measure=_gap,
        quick=Design(
            dict(_SMALL_DATA, random_hue=True),
            dataclasses.replace(_OVERFIT_QUICK.budget, epochs=40),
            lrs=(0.01,),
            eval_every=4,  # as for pooling: the evaluations were half of the time; the metric uses the last two
            seeds=_GAP_POWER["dropout"].seeds,
            power=_GAP_POWER["dropout"],
        ),
        full=_reduced_cifar(epochs=60),
        eval_train=True,
        gap_metric=True,
    ),
}
