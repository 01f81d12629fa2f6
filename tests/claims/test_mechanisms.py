"""alexnet.claims.mechanisms: every claim's layers pass, and each mechanism broken on purpose fails.

The breakages are the faults a live run of two seeds cannot see (its prediction intervals are wider
than what they do to the errors): the chapters' check cells call ``check_mechanism`` before
``check_live`` so that such a fault fails the cell.
"""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnet.claims.designs import CLAIMS
from alexnet.claims.mechanisms import MechanismError, check_mechanism
from alexnet.data import augment
from alexnet.nn import lrn

BOOK = Path(__file__).resolve().parents[2] / "book"


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_every_claim_passes(name):
    line = check_mechanism(name)
    assert line.startswith(f"the layers compute what Section {CLAIMS[name].section} says: ")
    for arm in CLAIMS[name].arms:
        assert f"{arm}: " in line


def test_the_line_is_the_same_each_time():
    assert check_mechanism("dropout") == check_mechanism("dropout")


def _no_neighbours(squares, size):
    return squares  # each channel divided by its own square only


def _wrong_divisor(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    return x / (k + alpha / size * lrn.window_sums(x.pow(2), size)).pow(beta)  # torch's averaged alpha


def _unscaled_dropout(self, x):
    return x * torch.bernoulli(torch.full_like(x, 1 - self.p)) if self.training else x  # kept outputs not / (1 - p)


def _drops_nothing(self, x):
    return x


def _dropout_at_test(self, x):
    return F.dropout(x, self.p, training=True)


def _leaky(self, x):
    return F.leaky_relu(x, 0.01)


def _average_pool(self, x):
    return F.avg_pool2d(x, self.kernel_size, self.stride)


def _non_overlapping(self, x):
    return F.max_pool2d(x, 2, 2)


def _strong_lighting(images, eigenvalues, eigenvectors, std=0.1, generator=None, scale=1.0):
    return original_lighting(images, eigenvalues, eigenvectors, 10 * std, generator, scale)


def _never_mirrored(images, top, left, flip, size):
    return original_crop_flip(images, top, left, torch.zeros_like(flip), size)


original_lighting, original_crop_flip = augment.pca_lighting, augment.crop_flip

BREAKAGES = {
    "LRN without its neighbours": ("lrn", lrn, "window_sums", _no_neighbours, "LRN layer 1"),
    "LRN with torch's alpha / n": ("lrn", lrn, "local_response_norm", _wrong_divisor, "LRN layer 1"),
    "dropout that does not rescale": ("dropout", nn.Dropout, "forward", _unscaled_dropout, "on average"),
    "dropout that drops nothing": ("dropout", nn.Dropout, "forward", _drops_nothing, "zeroes 0.0000"),
    "dropout left on at test time": ("dropout", nn.Dropout, "forward", _dropout_at_test, "at test time"),
    "a ReLU that leaks": ("relu", nn.ReLU, "forward", _leaky, "differs from the formula"),
    "average pooling": ("pooling", nn.MaxPool2d, "forward", _average_pool, "pooling layer 1"),
    "pooling windows that do not overlap": ("pooling", nn.MaxPool2d, "forward", _non_overlapping, "pooling layer 1"),
    "lighting ten times too strong": ("augmentation", augment, "pca_lighting", _strong_lighting, "standard deviation"),
    "no reflections": ("augmentation", augment, "crop_flip", _never_mirrored, "mirrors 0 of"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_mechanism_fails(breakage, monkeypatch):
    name, owner, attribute, broken, says = BREAKAGES[breakage]
    monkeypatch.setattr(owner, attribute, broken)
    with pytest.raises(MechanismError, match=says) as error:
        check_mechanism(name)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "chapter, name",
    [("03_relu", "relu"), ("04_lrn", "lrn"), ("05_overlapping_pooling", "pooling"),
     ("06_augmentation", "augmentation"), ("07_dropout", "dropout")],
)  # fmt: skip
def test_each_claim_chapter_checks_its_layers_before_its_live_run(chapter, name):
    cells = json.loads((BOOK / f"{chapter}.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    check = next(s for s in sources if "evidence.check_live(" in s)
    assert f'check_mechanism("{name}"' in check
    assert check.index("check_mechanism(") < check.index("check_live(")
