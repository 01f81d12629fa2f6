"""The presets of DESIGN.md, torchvision compatibility, initialisation and input checks."""

import math

import pytest
import torch
import torchvision
from torch import nn

from alexnet import AlexNet, AlexNetConfig, build_model
from alexnet.nn.lrn import LocalResponseNorm

from ..messages import raises_one_line


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_paper_preset_parameter_count_and_structure():
    model = build_model("paper")
    assert n_params(model) == 60_965_224
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # conv3 sees both towers (Section 3.2)
    names = [name for name, _ in model.named_layers()]
    # ReLU -> LRN -> overlapping max-pool after conv1 and conv2 (Sections 3.3, 3.4)
    assert names[:8] == ["conv1", "relu1", "lrn1", "pool1", "conv2", "relu2", "lrn2", "pool2"]
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert [(p.kernel_size, p.stride) for p in pools] == [(3, 2)] * 3
    drops = [m.p for m in model.classifier if isinstance(m, nn.Dropout)]
    assert drops == [0.5, 0.5]
    assert model.classifier[-1].out_features == 1000


def test_paper_output_shape_at_227():
    model = build_model("paper").eval()
    assert model(torch.randn(2, 3, 227, 227)).shape == (2, 1000)


def test_torchvision_preset_loads_torchvision_weights_and_matches_outputs():
    torch.manual_seed(0)
    reference = torchvision.models.alexnet().eval()  # random weights: no download
    model = build_model("torchvision").eval()
    assert n_params(model) == 61_100_840
    ours = model.state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    model.load_state_dict(theirs, strict=True)
    x = torch.randn(3, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=0)


def test_one_weird_trick_widths():
    model = build_model("one-weird-trick")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 192, 384, 384, 256]
    assert all(c.groups == 1 for c in convs)


def test_paper_initialisation_section_5():
    torch.manual_seed(0)
    model = build_model("paper")
    layers = dict(model.named_layers())
    for name in ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]:
        w = layers[name].weight
        assert abs(w.mean().item()) < 1e-3
        assert w.std().item() == pytest.approx(0.01, rel=0.05)
        expected_bias = 1.0 if name in {"conv2", "conv4", "conv5", "fc6", "fc7"} else 0.0
        assert torch.all(layers[name].bias == expected_bias), name


def test_224_input_with_cuda_convnet_rounding_gives_55():
    model = build_model("paper", image_size=224, ceil_mode=True).eval()
    shapes = {}
    for name, module in model.named_layers():
        module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
    model(torch.randn(1, 3, 224, 224))
    assert shapes["conv1"] == (96, 55, 55)
    assert shapes["pool5"] == (256, 6, 6)
    # without the rounding rule PyTorch gives 54, and pool5 shrinks to 5x5 instead of 6x6
    plain = build_model("paper", image_size=224)
    assert plain.feature_size(224) == 5 and isinstance(plain.avgpool, nn.Identity)  # the paper has no adaptive pool
    assert plain.features[0](torch.zeros(1, 3, 224, 224)).shape[-1] == 54


@pytest.mark.parametrize(
    "overrides, check",
    [
        ({"num_classes": 10}, lambda m: m.classifier[-1].out_features == 10),
        ({"lrn": False}, lambda m: not any(isinstance(x, LocalResponseNorm) for x in m.features)),
        (
            {"overlapping_pool": False},
            lambda m: all(p.kernel_size == 2 for p in m.features if isinstance(p, nn.MaxPool2d)),
        ),
        (
            {"activation": "tanh"},
            lambda m: (
                any(isinstance(x, nn.Tanh) for x in m.features) and not any(isinstance(x, nn.ReLU) for x in m.modules())
            ),
        ),
        ({"dropout": 0.0}, lambda m: all(d.p == 0.0 for d in m.classifier if isinstance(d, nn.Dropout))),
        ({"groups": 1}, lambda m: all(c.groups == 1 for c in m.features if isinstance(c, nn.Conv2d))),
    ],
)
def test_overrides(overrides, check):
    assert check(build_model("paper", **overrides))


def test_reduced_scale_keeps_layer_structure():
    full = build_model("paper")
    small = build_model("paper", width=0.25, image_size=99, num_classes=4).eval()
    assert [n for n, _ in small.named_layers()] == [n for n, _ in full.named_layers()]
    assert small.config.channels == (24, 64, 96, 96, 64)
    assert small(torch.randn(2, 3, 99, 99)).shape == (2, 4)
    assert n_params(small) < n_params(full) / 20


def test_non_overlapping_pool_gives_same_sizes():
    a, b = build_model("paper"), build_model("paper", overlapping_pool=False)
    assert a.feature_size(227) == b.feature_size(227) == 6


def test_unknown_preset_and_option_are_named():
    with pytest.raises(ValueError, match="known models: paper, torchvision, one-weird-trick"):
        build_model("vgg16")
    with pytest.raises(ValueError, match="unknown option"):
        build_model("paper", num_class=10)
    with pytest.raises(ValueError, match="activation must be one of"):
        build_model("paper", activation="gelu")
    with pytest.raises(ValueError, match="groups must be 1"):
        build_model("paper", groups=3)
    with pytest.raises(ValueError, match="dropout must be"):
        AlexNetConfig(dropout=1.5)


@pytest.fixture(scope="module")
def small_model():
    return build_model("paper", width=0.125, image_size=99, num_classes=4).eval()


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.randn(3, 99, 99), r"rank 4.*got rank 3.*unsqueeze"),
        (torch.randn(2, 1, 99, 99), r"3 colour channels"),
        (torch.randn(2, 99, 99, 3), r"3 colour channels.*permute"),
        (torch.zeros(2, 3, 99, 99, dtype=torch.uint8), r"floating-point.*uint8.*ModelInput"),
        (torch.randn(2, 3, 32, 32), r"at least 67x67 pixels; got 32x32"),
    ],
)
def test_forward_rejects_bad_input_with_clear_message(small_model, x, message):
    with pytest.raises(ValueError, match=message):
        small_model(x)


def test_min_input_size_is_exact():
    model = build_model("paper").eval()
    assert model.min_input_size == 67 and model.feature_size(66) == 0 and model.feature_size(67) == 1
    build_model("paper", image_size=67).eval()(torch.randn(1, 3, 67, 67))  # the smallest design that works
    build_model("torchvision").eval()(torch.randn(1, 3, 63, 63))  # adaptive pooling takes any size from its minimum


def test_the_paper_network_has_no_adaptive_pool_and_names_the_sizes_that_work():
    """Section 3.5's layer sizes hold for one range of inputs; torchvision averages any pool5 map to 6x6."""
    model = build_model("paper").eval()
    assert isinstance(model.avgpool, nn.Identity) and "avgpool" not in dict(model.named_layers())
    assert model.input_sizes == range(227, 259)
    model(torch.randn(1, 3, 258, 227))
    for side in (224, 259):
        with pytest.raises(ValueError, match=r"sides lie in 227-258 pixels.*6x6.*got 224x224|got 259x259"):
            model(torch.randn(1, 3, side, side))
    assert isinstance(build_model("torchvision").avgpool, nn.AdaptiveAvgPool2d)
    assert build_model("paper", image_size=67).input_sizes == range(67, 99)


def test_dropout_sits_where_the_paper_puts_it_and_torchvision_keeps_its_order():
    """Section 4.2 drops the outputs of fc6 and fc7 (Caffe's drop6/drop7 after relu6/relu7)."""
    paper = [name for name, _ in build_model("paper").named_layers()][-7:]
    assert paper == ["fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    tv = [name for name, _ in build_model("torchvision").named_layers()][-7:]
    assert tv == ["drop6", "fc6", "relu6", "drop7", "fc7", "relu7", "fc8"]
    assert [type(m).__name__ for m in build_model("torchvision").classifier] == [
        "Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear"
    ]  # fmt: skip


def test_width_scaled_paper_init_keeps_each_layers_full_scale_std_times_fan_in():
    small = build_model("paper", width=0.25, image_size=67, init="paper-width", num_classes=8)
    full = small.full_scale_fan_ins()
    for name, layer in small.named_layers():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            fan_in = layer.weight[0].numel()
            expected = 0.01 * math.sqrt(full[name] / fan_in)
            assert layer.weight.std().item() == pytest.approx(expected, rel=0.1), name
    assert full["fc6"] == 9216 and small.classifier[0].in_features == 64  # 64 kernels at 1x1 vs 256 at 6x6


def test_too_small_image_size_in_config():
    with pytest.raises(ValueError, match="too small"):
        AlexNet(AlexNetConfig(image_size=40))


def test_kaiming_init_option_for_quick_runs():
    torch.manual_seed(0)
    model = build_model("paper", init="kaiming", input_convention="torchvision")
    conv1 = dict(model.named_layers())["conv1"]
    assert conv1.weight.std().item() == pytest.approx((2 / (3 * 11 * 11)) ** 0.5, rel=0.05)
    assert torch.all(conv1.bias == 0)
    with pytest.raises(ValueError, match="init must be one of"):
        build_model("paper", init="xavier")


# ----------------------------------------------------------------------------- bad batches: one line each

TINY = build_model("paper", width=0.125, image_size=67, num_classes=4)
x32 = torch.zeros(2, 3, 67, 67)


def _nan():
    x = x32.clone()
    x[0, 0, 5, 5] = float("nan")
    return x


def _inf():
    x = x32.clone()
    x[1, 2, 0, 0] = float("inf")
    return x


def _half_weights():
    return build_model("paper", width=0.125, image_size=67, num_classes=4).half()(x32)


BATCHES = {
    "float64": (lambda: TINY(x32.double()), r"weights are torch.float32 but the images are torch.float64"),
    "float16": (lambda: TINY(x32.half()), r"images are torch.float16.*x.to\(torch.float32\)"),
    "bfloat16": (lambda: TINY(x32.bfloat16()), r"images are torch.bfloat16"),
    "empty": (lambda: TINY(x32[:0]), r"empty batch"),
    "nan-pixel": (lambda: TINY(_nan()), r"1 NaN or infinite pixel"),
    "inf-pixel": (lambda: TINY(_inf()), r"1 NaN or infinite pixel"),
    "float16-weights": (_half_weights, r"weights are torch.float16 but the images are torch.float32"),
}


@pytest.mark.parametrize("case", BATCHES)
def test_bad_batches(case):
    """A batch of another dtype than the weights, an empty one, a NaN or infinite pixel: one line naming it."""
    call, pattern = BATCHES[case]
    raises_one_line(call, pattern)


def test_good_batches_still_pass():
    assert TINY(x32).shape == (2, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts inside the layers: allowed
        assert TINY(x32).shape == (2, 4)
    model = build_model("paper", width=0.125, image_size=67, num_classes=4).double()
    assert model(x32.double()).dtype == torch.float64  # a float64 network takes float64 batches
    model.check_finite = False
    assert torch.isnan(model(_nan().double())).any()  # the check can be turned off
