"""The layer table against hand arithmetic, torchinfo and fvcore, with every difference derived."""

import math

import pytest
import torch
import torchinfo
import torchvision
from fvcore.nn import FlopCountAnalysis
from torch import nn

from alexnet import build_model
from alexnet.nn.arithmetic import conv_output_size, layer_table, totals


def test_conv_output_size_floor_and_ceil():
    assert conv_output_size(227, 11, 4) == 55
    assert conv_output_size(224, 11, 4) == 54
    assert conv_output_size(224, 11, 4, ceil_mode=True) == 55  # cuda-convnet: 1 + ceil(213 / 4)
    assert conv_output_size(224, 11, 4, padding=2) == 55  # torchvision's padding
    assert conv_output_size(55, 3, 2) == conv_output_size(55, 2, 2) == 27  # overlapping or not
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(5, 11, 4)
    with pytest.raises(ValueError, match="expected size"):
        conv_output_size(10, 3, 0)


def test_torchvision_macs_match_design_total():
    rows = layer_table(build_model("torchvision"), 224)
    assert totals(rows)["macs"] == 714_188_480
    assert totals(rows)["params"] == 61_100_840


def test_hand_arithmetic_for_paper_conv_layers():
    rows = {r.name: r for r in layer_table(build_model("paper"), 227)}
    assert rows["conv1"].output_shape == (96, 55, 55)
    assert rows["conv1"].macs == 55 * 55 * 96 * 3 * 11 * 11
    assert rows["conv2"].macs == 27 * 27 * 256 * (96 // 2) * 5 * 5  # two towers: half the inputs
    assert rows["conv3"].macs == 13 * 13 * 384 * 256 * 3 * 3
    assert rows["fc6"].macs == 256 * 6 * 6 * 4096
    assert rows["conv1"].neurons == 290_400  # 55 * 55 * 96, not the paper's 253,440
    assert [rows[f"conv{i}"].neurons for i in (2, 3, 4, 5)] == [186_624, 64_896, 64_896, 43_264]
    assert totals(rows.values())["params"] == 60_965_224


@pytest.mark.parametrize("size", [224, 256])
def test_table_is_read_from_modules_not_hard_coded(size):
    model = build_model("torchvision", width=0.5)
    rows = layer_table(model, size)
    x = torch.zeros(1, 3, size, size)
    assert rows[-1].output_shape == tuple(model.eval()(x).shape[1:])
    assert totals(rows)["params"] == sum(p.numel() for p in model.parameters())


def bias_uses(rows):
    """torchinfo counts one multiply-add per bias use: one per output neuron of a conv or fc layer."""
    return sum(r.neurons for r in rows)


@pytest.mark.parametrize("name", ["torchvision", "paper"])
def test_reconciles_with_torchinfo_exactly(name):
    model = build_model(name).eval()
    size = model.config.image_size
    rows = layer_table(model, size)
    info = torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0)
    assert info.total_mult_adds == totals(rows)["macs"] + bias_uses(rows)
    assert info.total_params == totals(rows)["params"]


def fvcore_total(model, size):
    analysis = FlopCountAnalysis(model.eval(), torch.zeros(1, 3, size, size))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis.total(), analysis


@pytest.mark.parametrize("name, size", [("torchvision", 224), ("torchvision", 256), ("paper", 227)])
def test_reconciles_with_fvcore_exactly(name, size):
    model = build_model(name)
    rows = layer_table(model, size)
    total, analysis = fvcore_total(model, size)
    # fvcore counts the adaptive average pool (torchvision's; the paper's network has none), one
    # operation per element of its input, and skips max-pooling (and ReLU, LRN, dropout) entirely.
    pool5 = next(r for r in rows if r.name == "pool5")
    avgpool = math.prod(pool5.output_shape) if model.config.adaptive_pool else 0
    assert total == totals(rows)["macs"] + avgpool
    assert "aten::max_pool2d" in analysis.unsupported_ops()


def test_same_for_torchvisions_own_model():
    model = torchvision.models.alexnet()
    rows = layer_table(model, 224)
    assert sum(r.macs for r in rows) == 714_188_480
    assert [r.kind for r in rows if r.macs] == ["Conv2d"] * 5 + ["Linear"] * 3


def test_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        layer_table(build_model("torchvision"), (1, 2, 3, 4))


def test_table_leaves_model_mode_alone():
    model = build_model("torchvision", width=0.25).train()
    layer_table(model, 128)
    assert model.training and isinstance(model.classifier[0], nn.Dropout)
