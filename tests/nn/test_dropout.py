"""The paper's dropout (Section 4.2) against PyTorch's inverted dropout, and the ensemble view."""

import pytest
import torch
from torch import nn

from alexnet.claims.ensemble import ensemble_agreement
from alexnet.data import synthetic
from alexnet.data.inputs import ModelInput
from alexnet.nn.dropout import PaperDropout, dropout_expectation, use_paper_dropout
from alexnet.nn.model import build_model


def test_paper_dropout_drops_without_rescaling_and_scales_at_test():
    torch.manual_seed(0)
    d = PaperDropout(0.5)
    x = torch.ones(10_000)
    out = d.train()(x)
    assert set(out.unique().tolist()) == {0.0, 1.0}  # kept units are not rescaled
    assert abs(out.mean().item() - 0.5) < 0.03
    assert torch.equal(d.eval()(x), torch.full_like(x, 0.5))
    assert torch.equal(PaperDropout(0.0).train()(x), x)
    with pytest.raises(ValueError, match="probability"):
        PaperDropout(1.0)


def test_use_paper_dropout_replaces_every_dropout():
    model = use_paper_dropout(build_model("paper", num_classes=4, width=0.125, image_size=67))
    assert not any(type(m) is nn.Dropout for m in model.modules())
    assert sum(isinstance(m, PaperDropout) for m in model.modules()) == 2


def test_dropout_conventions_agree_in_expectation():
    r = dropout_expectation(torch.rand(256) + 1, p=0.5, samples=20_000)
    assert r["paper_gap"] < 0.05 * r["scale"] and r["inverted_gap"] < 0.1 * r["scale"]
    assert r["test_ratio"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="samples"):
        dropout_expectation(torch.ones(3), samples=0)


def test_ensemble_agreement_rows_and_the_no_dropout_limit():
    torch.manual_seed(0)
    model = build_model(
        "paper", num_classes=4, width=0.125, image_size=67, init="kaiming", input_convention="torchvision"
    )
    ds = synthetic("val", num_images=24, image_size=67, num_classes=4)
    mean = ModelInput.fit(model, synthetic("train", num_images=64, image_size=67, num_classes=4).images)
    rows = ensemble_agreement(model, ds, mean, samples=(1, 4))
    assert [r["samples"] for r in rows] == [1, 4, 0]
    assert rows[0]["arithmetic_distance"] > 0 and 0 <= rows[-1]["scaled_error"] <= 1
    assert model.training  # the model's mode is restored
    torch.manual_seed(0)
    no_dropout = build_model(
        "paper", num_classes=4, width=0.125, image_size=67, init="kaiming", input_convention="torchvision", dropout=0.0
    )
    rows = ensemble_agreement(no_dropout, ds, mean, samples=(2,))
    assert rows[0]["arithmetic_distance"] < 1e-6 and rows[0]["geometric_distance"] < 1e-6
    with pytest.raises(ValueError, match="samples"):
        ensemble_agreement(model, ds, mean, samples=(0,))


def test_ensemble_agreement_runs_the_trunk_once_and_samples_the_same_sub_networks():
    torch.manual_seed(0)
    model = build_model(
        "paper", num_classes=4, width=0.125, image_size=67, init="kaiming", input_convention="torchvision"
    )
    ds = synthetic("val", num_images=16, image_size=67, num_classes=4)
    mean = ModelInput.fit(model, ds.images)
    calls = []
    model.features.register_forward_hook(lambda *_: calls.append(1))
    split = ensemble_agreement(model, ds, mean, samples=(1, 3))
    assert len(calls) == 1  # the convolutional trunk ran once, not once per sub-network
    whole = ensemble_agreement(nn.Sequential(model), ds, mean, samples=(1, 3))  # a wrapper is not split
    assert len(calls) == 1 + 1 + 3 and whole == split
