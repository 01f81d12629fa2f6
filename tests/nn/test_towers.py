"""The paper's two towers on two devices (Section 3.2): alexnet.nn.towers.split_towers."""

import pytest
import torch

from alexnet import build_model
from alexnet.nn.towers import split_towers


def _model(**kw):
    torch.manual_seed(0)
    return build_model(
        "paper", num_classes=10, width=0.25, image_size=67, init="kaiming", input_convention="torchvision", **kw
    )


def test_split_towers_computes_what_the_grouped_model_computes():
    model = _model().eval()
    towers = split_towers(model, ["cpu", "cpu"]).eval()
    x = torch.randn(3, 3, 67, 67, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(towers(x), model(x), atol=1e-5)
    assert towers.exchanges == ["lrn1", "lrn2", "conv3", "fc6", "fc7", "fc8"]
    assert towers.tower_parameters(0) + towers.tower_parameters(1) == sum(p.numel() for p in model.parameters())
    state = towers.grouped_state_dict()
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_towers_that_normalise_alone_differ_only_through_the_lrn():
    x = torch.randn(3, 3, 67, 67, generator=torch.Generator().manual_seed(1))
    model = _model().eval()
    alone = split_towers(model, ["cpu", "cpu"], exact=False).eval()
    assert alone.exchanges == ["conv3", "fc6", "fc7", "fc8"]  # exactly where Section 3.2's GPUs talk
    assert not torch.allclose(alone(x), model(x), atol=1e-7)
    no_lrn = _model(lrn=False).eval()
    assert torch.allclose(split_towers(no_lrn, ["cpu", "cpu"], exact=False).eval()(x), no_lrn(x), atol=1e-5)


def test_a_training_step_on_the_towers_matches_the_grouped_model():
    model = _model(dropout=0.0)
    towers = split_towers(model, ["cpu", "cpu"])
    x = torch.randn(4, 3, 67, 67, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 3, 5, 9])
    for net in (model, towers):
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    state = towers.grouped_state_dict()
    assert all(torch.allclose(state[k], v, atol=1e-6) for k, v in model.state_dict().items())


def test_split_towers_needs_two_towers_and_two_devices():
    with pytest.raises(ValueError, match="groups=2"):
        split_towers(build_model("torchvision", num_classes=10, width=0.25), ["cpu", "cpu"])
    with pytest.raises(ValueError, match="two devices"):
        split_towers(_model(), ["cpu"])


def test_split_of_the_full_paper_network():
    """Chapter 9's full-mode model: the paper's network at 227 pixels and 1000 classes."""
    torch.manual_seed(0)
    model = build_model("paper").eval()
    towers = split_towers(model, ["cpu", "cpu"]).eval()
    x = torch.randn(1, 3, 227, 227, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected, got = model(x), towers(x)
    assert got.shape == (1, 1000)
    assert torch.allclose(got, expected, atol=1e-4 * expected.abs().max().item())
    assert towers.tower_parameters(0) + towers.tower_parameters(1) == 60_965_224


def test_the_towers_are_fed_as_the_grouped_model_is():
    from alexnet.data.inputs import convention_of

    for convention in ("paper", "torchvision"):
        model = build_model("paper", num_classes=4, width=0.25, image_size=67, input_convention=convention)
        assert convention_of(split_towers(model, ["cpu", "cpu"])) == convention
