"""What each claim says in words: the paper's sentence and numbers, our metric, why our data, what was revised.

One entry per claim of :data:`alexnet.claims.designs.CLAIMS` (Sections 3.1, 3.3, 3.4, 4.1, 4.2), the
:class:`~alexnet.claims.claim.Claim` fields a chapter prints: ``section``, ``claim`` (the paper's claim, in our
words), ``paper`` and ``paper_value`` (its figure, in words and on the effect's scale), ``paper_scale`` (the
paper's experiment), ``metric``, ``why`` (what the mechanism has to do on our data) and ``revised`` (what changed
in the design after earlier results had been seen). None of it is part of a record's fingerprint
(:func:`alexnet.claims.evidence.fingerprint`): the words may be mended without making a record stale, the designs
in :mod:`alexnet.claims.designs` may not.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WORDING"]

WORDING: dict[str, dict[str, Any]] = {
    "relu": {
        "section": "3.1, Figure 1",
        "claim": "a four-layer CNN with ReLUs reaches 25% training error six times faster than with tanh",
        "paper": "ratio ~6 (Figure 1)",
        "paper_value": 6.0,
        "paper_scale": "CIFAR-10, 50,000 images of 32 px, 10 classes; the four-layer net; ~6 vs ~36 epochs to 25%",
        "metric": "epochs to 25% training error",
        "why": (
            "Figure 1 measures how fast training error falls, not generalisation, so the task must be learnable in the "
            "budget yet not in the first epoch: on clean shapes in their class hue both nets reached 25% within about "
            "two epochs (ratio 1.7-1.8, seeds 0-2 and 100-102); with distractor blobs and each image's contrast scaled "
            "by 1/2 to 2x (fed as raw values, as cuda-convnet fed this net) the last stretch to 25% takes several "
            "epochs, and a unit that saturates on the high-contrast images is slow there"
        ),
        "revised": "the averaging of the ratios (arithmetic to log scale), after seeds 0-2 had been seen",
    },
    "lrn": {
        "section": "3.3",
        "claim": "local response normalisation lowers the test error of a four-layer CNN on CIFAR-10 from 13% to 11%",
        "paper": "+2 points (CIFAR-10, 13% -> 11%)",
        "paper_value": 0.02,
        "paper_scale": "CIFAR-10, 50,000 training images, the four-layer net; test error 13% without, 11% with LRN",
        "metric": "validation top-1 error, mean of the last two epochs",
        "why": (
            "a brightness normalisation has something to do when the images' brightness and contrast vary: each "
            "image's contrast is scaled by 1/4 to 4x and its brightness shifted, with distractor blobs; raw 0-255 "
            "inputs minus the mean image (Section 2), so that alpha * sum(a^2) is not negligible next to k; the layer "
            "is the one of cuda-convnet's CIFAR-10 net, to which Section 3.3's footnote refers this result (n=9, "
            "alpha=1.1e-4, k=1)"
        ),
        "revised": (
            "the layer (printed constants to cuda-convnet's CIFAR-10 layer) and a learning rate per arm, after seeds "
            "0-2 and 100-102"
        ),
    },
    "pooling": {
        "section": "3.4",
        "claim": (
            "overlapping pooling (z=3, s=2) lowers the error against z=2, s=2 and makes over-fitting slightly harder"
        ),
        "paper": "+0.4 / +0.3 points (top-1 / top-5)",
        "paper_value": 0.004,
        "paper_scale": "ImageNet (ILSVRC-2010), the full network; top-1/top-5 error 0.4/0.3 points lower",
        "metric": "validation top-1 error, mean of the last two epochs",
        "why": (
            "an over-fitting regime (256 training images, distractor blobs, contrast varying per image), since the "
            "paper's second claim is that overlapping pooling makes over-fitting harder"
        ),
        "revised": "the budget (10 to 30 epochs), after seeds 0-2; 3-seed verdicts then differed between two CPUs",
    },
    "augmentation": {
        "section": "4.1",
        "claim": "random crops and reflections reduce over-fitting; without them the network overfits substantially",
        "paper": "needed to avoid over-fitting (no number)",
        "paper_scale": (
            "ImageNet, 1.2 million images at 256 px cropped to 224, 90 epochs; no figure without augmentation"
        ),
        "metric": (
            "validation minus training error (test mode), mean of the last two epochs (validation under other light)"
        ),
        "why": (
            "real photographs with few training patches (32 per photo), so that a network can memorise them; the "
            "validation patches come from other quadrants of the photos and are seen under another light (each "
            "patch's R, G, B scaled by 0.7-1.4x), the change of illumination that the PCA colour noise is for"
        ),
        "revised": (
            "seeds added (3, then 5) after the first result had been seen; 3-seed verdicts could change with the CPU"
        ),
    },
    "dropout": {
        "section": "4.2",
        "claim": (
            "without dropout the network overfits substantially; dropout on fc6 and fc7 narrows the train-validation "
            "gap"
        ),
        "paper": "substantial over-fitting without it",
        "paper_scale": (
            "ImageNet, 1.2 million images, the full network with dropout 0.5 on fc6 and fc7; no figure without"
        ),
        "metric": "validation minus training error (test mode), mean of the last two epochs",
        "why": (
            "an over-fitting regime in which shape is the only cue (256 training images, each shape in a random hue, "
            "distractor blobs, contrast varying per image): the plain network memorises its training images long "
            "before it generalises; on the shapes in their class hue (the pooling design) it generalised well enough "
            "that the gap was a few points and noisy (+4.95 points, 95% interval -4.6 to +14.5, seeds 0-2), and "
            "dropout's slower convergence needs the longer budget"
        ),
        "revised": (
            "the data (the third regime tried) and the split of the gap, after seeds 0-2; the 3-seed verdict "
            "differed between two CPUs"
        ),
    },
}
