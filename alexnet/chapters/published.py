"""Published numbers, each with its source, and the provenance of our own runs.

The results chapter prints three kinds of numbers side by side and never mixes them up:

* the paper's, typed in here from Krizhevsky et al. (2012), with table and section;
* torchvision's, read from the metadata of its pretrained weights as installed (no download);
* ours, only from runs that happened, each with the mode, hardware and command that made it.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

__all__ = [
    "Reported",
    "PAPER_RESULTS",
    "PAPER_ABLATIONS",
    "PAPER_FALL_2009",
    "torchvision_reported",
    "Ablation",
    "format_reported",
    "format_ablations",
]


@dataclass(frozen=True)
class Reported:
    """An error rate somebody published: percentages as printed, None where not given."""

    model: str
    data: str
    top1: float | None
    top5: float | None
    source: str


PAPER_RESULTS = [
    Reported("Sparse coding (ILSVRC-2010 winner)", "ILSVRC-2010 test", 47.1, 28.2, "paper, Table 1"),
    Reported("SIFT + FVs", "ILSVRC-2010 test", 45.7, 25.7, "paper, Table 1"),
    Reported("CNN (ten patches)", "ILSVRC-2010 test", 37.5, 17.0, "paper, Table 1"),
    Reported("CNN (centre patch only)", "ILSVRC-2010 test", 39.0, 18.3, "paper, Section 6, footnote 5"),
    Reported("SIFT + FVs (2012 runner-up)", "ILSVRC-2012 test", None, 26.2, "paper, Table 2"),
    Reported("1 CNN", "ILSVRC-2012 val", 40.7, 18.2, "paper, Table 2"),
    Reported("5 CNNs", "ILSVRC-2012 val", 38.1, 16.4, "paper, Table 2"),
    Reported("5 CNNs", "ILSVRC-2012 test", None, 16.4, "paper, Table 2"),
    Reported("1 CNN* (pre-trained on Fall 2011)", "ILSVRC-2012 val", 39.0, 16.6, "paper, Table 2"),
    Reported("7 CNNs*", "ILSVRC-2012 val", 36.7, 15.4, "paper, Table 2"),
    Reported("7 CNNs* (the winning entry)", "ILSVRC-2012 test", None, 15.3, "paper, Table 2"),
]


# Section 6, last paragraph of "Results": the Fall 2009 release of ImageNet, 10,184 categories and
# 8.9 million images, half for training and half for testing; the network has an extra, sixth
# convolutional layer over the last pooling layer.
PAPER_FALL_2009 = [
    Reported("CNN with a sixth conv layer", "ImageNet Fall 2009", 67.4, 40.9, "paper, Section 6"),
    Reported("best published result before it", "ImageNet Fall 2009", 78.1, 60.9, "paper, Section 6 (as cited there)"),
]


@dataclass(frozen=True)
class Ablation:
    """A change the paper measured: how much it lowered top-1 / top-5 error (percentage points)."""

    change: str
    top1_gain: float | None
    top5_gain: float | None
    data: str
    source: str


PAPER_ABLATIONS = [
    Ablation("two GPUs vs a one-GPU net with half the kernels", 1.7, 1.2, "ILSVRC", "paper, Section 3.2"),
    Ablation("local response normalisation", 1.4, 1.2, "ILSVRC", "paper, Section 3.3"),
    Ablation("LRN in a four-layer CNN (test error 13% -> 11%)", 2.0, None, "CIFAR-10", "paper, Section 3.3"),
    Ablation("overlapping pooling (z=3, s=2 vs z=2, s=2)", 0.4, 0.3, "ILSVRC", "paper, Section 3.4"),
    Ablation("PCA colour augmentation", 1.0, None, "ILSVRC", "paper, Section 4.1 ('over 1%')"),
    Ablation("any one middle conv layer kept (vs removed)", 2.0, None, "ILSVRC", "paper, Section 7 ('about 2%')"),
]


def torchvision_reported() -> Reported:
    """torchvision's published accuracy for its AlexNet weights, from the installed package's metadata."""
    from torchvision.models import AlexNet_Weights

    weights = AlexNet_Weights.IMAGENET1K_V1
    acc = weights.meta["_metrics"]["ImageNet-1K"]
    preprocess = weights.transforms()
    version = importlib.metadata.version("torchvision")
    return Reported(
        "torchvision AlexNet, IMAGENET1K_V1 weights",
        f"ImageNet-1K val (resize {preprocess.resize_size[0]}, centre crop {preprocess.crop_size[0]})",
        round(100 - acc["acc@1"], 3),
        round(100 - acc["acc@5"], 3),
        f"torchvision {version} weights metadata (acc@1 {acc['acc@1']}, acc@5 {acc['acc@5']})",
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def format_reported(rows: list[Reported]) -> str:
    """Reported error rates as an aligned text table, source last."""
    lines = [f"{'model':<36} {'data':<18} {'top-1':>6} {'top-5':>6}  source"]
    lines += [f"{r.model:<36} {r.data:<18} {_pct(r.top1):>6} {_pct(r.top5):>6}  {r.source}" for r in rows]
    return "\n".join(lines)


def format_ablations(rows: list[Ablation]) -> str:
    """The paper's ablations (error-rate reductions in points) as an aligned text table."""
    lines = [f"{'change':<50} {'top-1':>6} {'top-5':>6}  {'data':<17} source"]
    lines += [f"{a.change:<50} {_pct(a.top1_gain):>6} {_pct(a.top5_gain):>6}  {a.data:<17} {a.source}" for a in rows]
    return "\n".join(lines)
