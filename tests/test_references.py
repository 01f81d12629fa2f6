"""The package against facts transcribed from the reference implementations.

Each constant below is a handful of numbers read from one of these repositories (commit = the
snapshot read; paths are given next to each fact):

* ``CAFFE``: BVLC/caffe, ``models/bvlc_alexnet/{deploy,train_val}.prototxt`` (the AlexNet
  model), ``src/caffe/proto/caffe.proto`` (defaults), ``src/caffe/layers/{lrn,pooling,conv}_layer.cpp``
  (formulas), ``python/caffe/io.py`` (``oversample``, the ten test patches).
* ``CONVNET2``: akrizhevsky/cuda-convnet2, ``layer.py`` (size rules, ``cmrnorm`` parsing),
  ``layers/layers-imagenet-*.cfg`` + ``layer-params-imagenet-*.cfg``, ``cudaconv3/src/conv_util.cu``.
* ``CONVNET``: dnouri/cuda-convnet, a git mirror of the original cuda-convnet svn trunk
  (akrizhevsky's commits): ``example-layers/layers-18pct.cfg`` + ``layer-params-18pct.cfg``,
  ``layer.py``, ``src/cudaconv2/conv_util.cu``, ``include/cudaconv2/conv_util.cuh``.

The references are re-implemented here in a few lines each (shape rules, LRN formulas, crop
coordinates), never imported.
"""

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from alexnet import build_model
from alexnet.data.augment import ten_crop
from alexnet.nn.arithmetic import conv_output_size, layer_table, totals
from alexnet.nn.four_layer import four_layer_net
from alexnet.nn.lrn import (
    LocalResponseNorm,
    cuda_convnet_lrn,
    local_response_norm,
    lrn_parameters,
    paper_lrn_parameters,
)

CAFFE = "BVLC/caffe@9b891540183ddc834a02b2bd81b31afae71b2153"
CONVNET2 = "akrizhevsky/cuda-convnet2@3238bf0367f63eb370e897b9e5714794cb67ddc2"
CONVNET = "dnouri/cuda-convnet@e4ac0c1f374a15cfe3944bd6d732c3822cc2b96b"

# ----------------------------------------------------------------------------- Caffe's bvlc_alexnet

# CAFFE models/bvlc_alexnet/train_val.prototxt (deploy.prototxt has the same layers). Caffe's
# defaults filled in from CAFFE src/caffe/proto/caffe.proto: ConvolutionParameter pad 0, stride 1,
# group 1; PoolingParameter pad 0, round_mode CEIL; LRNParameter k 1, norm_region ACROSS_CHANNELS.
CONV = "Convolution"
CAFFE_ALEXNET = [
    ("conv1", CONV, dict(num_output=96, kernel_size=11, stride=4, pad=0, group=1)),
    ("relu1", "ReLU", {}),
    ("norm1", "LRN", dict(local_size=5, alpha=1e-4, beta=0.75)),
    ("pool1", "Pooling", dict(kernel_size=3, stride=2)),  # pool: MAX
    ("conv2", CONV, dict(num_output=256, kernel_size=5, stride=1, pad=2, group=2)),
    ("relu2", "ReLU", {}),
    ("norm2", "LRN", dict(local_size=5, alpha=1e-4, beta=0.75)),
    ("pool2", "Pooling", dict(kernel_size=3, stride=2)),
    ("conv3", CONV, dict(num_output=384, kernel_size=3, stride=1, pad=1, group=1)),
    ("relu3", "ReLU", {}),
    ("conv4", CONV, dict(num_output=384, kernel_size=3, stride=1, pad=1, group=2)),
    ("relu4", "ReLU", {}),
    ("conv5", CONV, dict(num_output=256, kernel_size=3, stride=1, pad=1, group=2)),
    ("relu5", "ReLU", {}),
    ("pool5", "Pooling", dict(kernel_size=3, stride=2)),
    ("fc6", "InnerProduct", dict(num_output=4096)),
    ("relu6", "ReLU", {}),
    ("drop6", "Dropout", dict(dropout_ratio=0.5)),
    ("fc7", "InnerProduct", dict(num_output=4096)),
    ("relu7", "ReLU", {}),
    ("drop7", "Dropout", dict(dropout_ratio=0.5)),
    ("fc8", "InnerProduct", dict(num_output=1000)),
]
CAFFE_INPUT = (3, 227, 227)  # CAFFE deploy.prototxt input_param dim 10 3 227 227; train_val crop_size 227
CAFFE_LRN_K = 1.0  # CAFFE caffe.proto: LRNParameter `optional float k = 5 [default = 1.]`
CAFFE_TOTAL_PARAMS = 60_965_224  # the sum of the counts caffe_shapes_and_params() gives
CAFFE_TYPES = {
    CONV: nn.Conv2d,
    "ReLU": nn.ReLU,
    "LRN": LocalResponseNorm,
    "Pooling": nn.MaxPool2d,
    "InnerProduct": nn.Linear,
    "Dropout": nn.Dropout,
}


def ours(caffe_name: str) -> str:
    """Caffe's "norm1"/"norm2" are the package's "lrn1"/"lrn2"; every other name is the same."""
    return caffe_name.replace("norm", "lrn")


def caffe_shapes_and_params(shape=CAFFE_INPUT):
    """Each layer's output shape and parameter count by Caffe's own rules.

    CAFFE src/caffe/layers/conv_layer.cpp compute_output_shape: (in + 2 pad - kernel) / stride + 1
    in integers (floor); CAFFE src/caffe/layers/pooling_layer.cpp (round_mode CEIL):
    ceil((in + 2 pad - kernel) / stride) + 1 (its clip for padded pooling does not apply: pad 0).
    A convolution has num_output x (channels / group) x kernel^2 weights and num_output biases.
    """
    out = {}
    for name, kind, p in CAFFE_ALEXNET:
        params = 0
        if kind == CONV:
            c, h, w = shape
            side = (h + 2 * p["pad"] - p["kernel_size"]) // p["stride"] + 1
            params = p["num_output"] * (c // p["group"]) * p["kernel_size"] ** 2 + p["num_output"]
            shape = (p["num_output"], side, side)
        elif kind == "Pooling":
            c, h, w = shape
            side = int(math.ceil((h - p["kernel_size"]) / p["stride"])) + 1
            shape = (c, side, side)
        elif kind == "InnerProduct":
            params = math.prod(shape) * p["num_output"] + p["num_output"]
            shape = (p["num_output"],)
        out[name] = (shape, params)
    return out


@pytest.fixture(scope="module")
def paper():
    return build_model("paper")


def test_layer_order_is_caffes(paper):
    """bvlc_alexnet runs conv1 relu1 norm1 pool1 ... fc6 relu6 drop6 fc7 relu7 drop7 fc8 (norm = our lrn)."""
    assert [name for name, _ in paper.named_layers()] == [ours(name) for name, _, _ in CAFFE_ALEXNET]


def test_dropout_acts_on_relu6_and_relu7(paper):
    """Caffe's drop6/drop7 are in place on the ReLU outputs of fc6/fc7; no dropout precedes fc6."""
    names = [name for name, _ in paper.named_layers()]
    for relu, drop in (("relu6", "drop6"), ("relu7", "drop7")):
        assert names.index(drop) == names.index(relu) + 1
    assert not isinstance(dict(paper.named_layers())[names[names.index("fc6") - 1]], nn.Dropout)


@pytest.mark.parametrize("name,kind,p", CAFFE_ALEXNET, ids=[name for name, _, _ in CAFFE_ALEXNET])
def test_layer_hyperparameters_are_caffes(paper, name, kind, p):
    """Each layer of the paper preset has the type and numbers of Caffe's layer of that name."""
    module = dict(paper.named_layers())[ours(name)]
    assert type(module) is CAFFE_TYPES[kind]
    if kind == CONV:
        k, s, pad = p["kernel_size"], p["stride"], p["pad"]
        got = (module.out_channels, module.kernel_size, module.stride, module.padding, module.groups)
        assert got == (p["num_output"], (k, k), (s, s), (pad, pad), p["group"])
    elif kind == "Pooling":
        assert (module.kernel_size, module.stride, module.padding) == (p["kernel_size"], p["stride"], 0)
    elif kind == "Dropout":
        assert module.p == p["dropout_ratio"]
    elif kind == "InnerProduct":
        assert module.out_features == p["num_output"]
    elif kind == "LRN":
        # window and exponent are Caffe's; alpha and k stay the paper's (Section 3.3: k=2, alpha=1e-4
        # on the plain sum), which are NOT Caffe's: Caffe has k=1 and alpha/n = 2e-5 (see below)
        assert (module.size, module.beta) == (p["local_size"], p["beta"])
        assert (module.alpha, module.k) == (1e-4, 2.0)


def test_input_size_is_caffes(paper):
    """CAFFE deploy.prototxt: the input blob is 10 x 3 x 227 x 227 (train_val: crop_size 227)."""
    assert paper.config.image_size == CAFFE_INPUT[1]


def test_shapes_at_227_are_caffes(paper):
    """Every layer's output at 227 pixels: 96x55x55, 96x27x27, 256x27x27, ..., 256x6x6, 4096, 1000."""
    rows = {r.name: r.output_shape for r in layer_table(paper, 227)}
    expected = {ours(name): shape for name, (shape, _) in caffe_shapes_and_params().items()}
    assert {name: rows.get(name) for name in expected} == expected


def test_parameter_counts_are_caffes(paper):
    """Weights + biases per layer from the prototxt's numbers; groups halve conv2/4/5's inputs."""
    rows = layer_table(paper, 227)
    params = {r.name: r.params for r in rows}
    expected = {ours(name): n for name, (_, n) in caffe_shapes_and_params().items()}
    assert {name: params.get(name) for name in expected} == expected
    assert sum(expected.values()) == CAFFE_TOTAL_PARAMS == totals(rows)["params"]


def test_caffe_lrn_parameters_in_paper_convention():
    """Caffe's norm1/norm2 (local_size 5, alpha 1e-4, beta 0.75, default k 1) are the paper's
    formula with alpha = 1e-4 / 5 = 2e-5 and k = 1 (lrn_layer.cpp multiplies the sum by alpha_ / size_)."""
    p = paper_lrn_parameters("caffe", local_size=5, alpha=1e-4, beta=0.75)
    assert p == pytest.approx({"size": 5, "alpha": 2e-5, "beta": 0.75, "k": CAFFE_LRN_K})
    # caffe.proto defaults: local_size 5, alpha 1, beta 0.75, k 1
    assert paper_lrn_parameters("caffe") == pytest.approx({"size": 5, "alpha": 1 / 5, "beta": 0.75, "k": 1.0})
    # Caffe's convention is PyTorch's: the paper's (2e-5, k=1) is alpha 1e-4 in both
    assert lrn_parameters(5, 2e-5, 0.75, 1.0)["pytorch"] == pytest.approx(
        {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}
    )


def caffe_lrn(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """CAFFE lrn_layer.cpp CrossChannelForward_cpu: squares padded by (size-1)/2 zero channels on each
    side, scale = k + alpha / size * (window sum), top = bottom * scale^-beta."""
    pre = (size - 1) // 2
    padded = np.pad(x**2, ((0, 0), (pre, size - 1 - pre), (0, 0), (0, 0)))
    sums = np.stack([padded[:, c : c + size].sum(axis=1) for c in range(x.shape[1])], axis=1)
    return x * (k + alpha / size * sums) ** -beta


@pytest.mark.parametrize("size", [3, 5, 7])  # Caffe only accepts odd local_size
def test_caffe_lrn_formula_numerically(size):
    x = np.random.default_rng(0).normal(scale=30.0, size=(2, 12, 4, 3))
    expected = caffe_lrn(x, size, 1e-4, 0.75, 1.0)
    got = local_response_norm(torch.from_numpy(x), size=size, alpha=1e-4 / size, beta=0.75, k=1.0)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert not np.allclose(expected, x)  # the normalisation does something at this scale


# ----------------------------------------------------------------------------- Caffe's oversample


def caffe_oversample_boxes(height: int, width: int, crop: int) -> list[tuple[int, int]]:
    """(top, left) of the five crops of CAFFE python/caffe/io.py oversample, in its order.

    Corners: tops (0, H - c) in the outer loop, lefts (0, W - c) inner, so top-left, top-right,
    bottom-left, bottom-right; then the centre, im_shape / 2.0 - crop / 2.0 in floats stored into
    an int array (truncation: 14.5 -> 14). Crops 5..9 are crops 0..4 flipped along the width
    (``crops[ix-5:ix, :, ::-1, :]`` on H x W x K crops).
    """
    corners = [(t, x0) for t in (0, height - crop) for x0 in (0, width - crop)]
    return corners + [(int(height / 2.0 - crop / 2.0), int(width / 2.0 - crop / 2.0))]


CENTRES = {(256, 227): 14, (258, 227): 15, (255, 227): 14, (256, 224): 16, (300, 227): 36}  # by hand


@pytest.mark.parametrize(
    "height,width,crop", [(256, 256, 227), (256, 256, 224), (255, 255, 227), (258, 258, 227), (258, 300, 227)]
)
def test_ten_crop_is_caffes_oversample(height, width, crop):
    images = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    boxes = caffe_oversample_boxes(height, width, crop)
    assert boxes[4] == (CENTRES[height, crop], CENTRES[width, crop])
    patches = ten_crop(images, crop)
    assert patches.shape == (2, 10, 3, crop, crop)
    for i, (t, x0) in enumerate(boxes):
        assert torch.equal(patches[:, i], images[:, :, t : t + crop, x0 : x0 + crop]), f"patch {i} is not at {(t, x0)}"
    for i in range(5):
        assert torch.equal(patches[:, 5 + i], patches[:, i].flip(-1)), f"patch {5 + i} is not patch {i} mirrored"


# ----------------------------------------------------------------------------- cuda-convnet2


def convnet2_conv_side(img, filt, stride, padding):
    """CONVNET2 layer.py ConvLayerParser: modulesX = 1 + int(ceil((2*padding + imgSize - filterSize) / float(stride)))."""
    return 1 + int(math.ceil((2 * padding + img - filt) / float(stride)))


def convnet2_pool_side(img, size_x, stride, start=0):
    """CONVNET2 layer.py PoolLayerParser: outputsX = int(ceil((imgSize - start - sizeX) / float(stride))) + 1."""
    return int(math.ceil((img - start - size_x) / float(stride))) + 1


def test_cuda_convnet2_size_rules_are_ceil_mode():
    """conv_output_size(..., ceil_mode=True) is cuda-convnet2's rule for convolutions and (start 0) pools."""
    for img, filt, stride, pad in itertools.product(range(1, 80), range(1, 12), range(1, 6), range(4)):
        if img + 2 * pad >= filt:
            side = conv_output_size(img, filt, stride, pad, ceil_mode=True)
            assert side == convnet2_conv_side(img, filt, stride, pad), (img, filt, stride, pad)
            if pad == 0:
                assert side == convnet2_pool_side(img, filt, stride), (img, filt, stride)


def test_paper_at_224_with_ceil_mode_has_cuda_convnet2_sides():
    """CONVNET2 layers/layers-imagenet-2gpu-model.cfg on its 224-pixel crops: conv1 11/4 pad 0, pools 3/2,
    conv2 5 pad 2, conv3-5 3 pad 1 (48+48, 128+128, 192+192, 192+192, 128+128 filters: the paper's)."""
    sides = {"conv1": convnet2_conv_side(224, 11, 4, 0)}
    sides["pool1"] = convnet2_pool_side(sides["conv1"], 3, 2)
    sides["conv2"] = convnet2_conv_side(sides["pool1"], 5, 1, 2)
    sides["pool2"] = convnet2_pool_side(sides["conv2"], 3, 2)
    sides["conv5"] = convnet2_conv_side(sides["pool2"], 3, 1, 1)
    sides["pool5"] = convnet2_pool_side(sides["conv5"], 3, 2)  # cuda-convnet2's "pool3"
    assert tuple(sides.values()) == (55, 27, 27, 13, 13, 6)
    rows = {r.name: r.output_shape for r in layer_table(build_model("paper", image_size=224, ceil_mode=True), 224)}
    channels = {"conv1": 96, "pool1": 96, "conv2": 256, "pool2": 256, "conv5": 256, "pool5": 256}
    assert {n: rows[n] for n in sides} == {n: (channels[n], s, s) for n, s in sides.items()}


# CONVNET2 layers/layer-params-imagenet-1gpu.cfg and -2gpu-model.cfg, [rnorm1]/[rnorm2] (type=cmrnorm,
# size=5 in layers-imagenet-*.cfg): scale=0.0001, pow=0.75, minDiv=2. layer.py NormLayerParser
# divides scale by size for cmrnorm (by size**2 for rnorm) and defaults minDiv to 1.0.
CONVNET2_CMRNORM = dict(size=5, scale=1e-4, pow=0.75, minDiv=2.0)


def test_cuda_convnet2_cmrnorm_in_paper_convention():
    assert paper_lrn_parameters("cuda-convnet2", **CONVNET2_CMRNORM) == pytest.approx(
        {"size": 5, "alpha": 2e-5, "beta": 0.75, "k": 2.0}
    )
    assert lrn_parameters(5, 2e-5, 0.75, 2.0)["cuda-convnet2"] == pytest.approx(CONVNET2_CMRNORM)
    assert paper_lrn_parameters("cuda-convnet2", size=5, scale=1e-4, pow=0.75)["k"] == 1.0  # minDiv's default


def convnet_cmrnorm(x: np.ndarray, size: int, scale: float, power: float, min_div: float) -> np.ndarray:
    """kFCNorm of CONVNET2 cudaconv3/src/conv_util.cu (of CONVNET src/cudaconv2/conv_util.cu with min_div 1):
    window of maps from f - size/2 (C division) to that + size, cut at 0 and the map count;
    denominator min_div + addScale * sum, addScale = scale / size from layer.py; x * denom^-pow."""
    sums = np.stack(
        [(x[:, max(0, f - size // 2) : f - size // 2 + size] ** 2).sum(axis=1) for f in range(x.shape[1])], axis=1
    )
    return x * (min_div + scale / size * sums) ** -power


@pytest.mark.parametrize("size", [4, 5, 9])
def test_cuda_convnet2_cmrnorm_numerically(size):
    x = np.random.default_rng(1).normal(scale=40.0, size=(2, 16, 3, 3))
    expected = convnet_cmrnorm(x, size, 1e-4, 0.75, 2.0)
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(cuda_convnet_lrn(xt, size, 1e-4, 0.75, 2.0).numpy(), expected, rtol=1e-12)
    paper_form = paper_lrn_parameters("cuda-convnet2", size=size, scale=1e-4, pow=0.75, minDiv=2.0)
    np.testing.assert_allclose(local_response_norm(xt, **paper_form).numpy(), expected, rtol=1e-12)


def test_cuda_convnet_cmrnorm_has_constant_one():
    """Original cuda-convnet: kFCNorm adds 1 (no minDiv); CONVNET layers-conv-local-11pct.cfg has
    cmrnorm size 9 with scale 0.001, pow 0.75 (layer-params-conv-local-11pct.cfg)."""
    assert paper_lrn_parameters("cuda-convnet", size=9, scale=1e-3, pow=0.75) == pytest.approx(
        {"size": 9, "alpha": 1e-3 / 9, "beta": 0.75, "k": 1.0}
    )
    # the paper's layer (k=2) in the original convention: scale n*alpha/k, output times k^-beta
    conv = lrn_parameters(5, 1e-4, 0.75, 2.0)["cuda-convnet"]
    x = np.random.default_rng(2).normal(scale=40.0, size=(1, 10, 2, 2))
    expected = conv["output_factor"] * convnet_cmrnorm(x, 5, conv["scale"], 0.75, 1.0)
    np.testing.assert_allclose(local_response_norm(torch.from_numpy(x)).numpy(), expected, rtol=1e-12)


# ----------------------------------------------------------------------------- cuda-convnet's 18% CIFAR-10 net

# CONVNET example-layers/layers-18pct.cfg, the layers with weights or pooling, in order. Also in that
# file: pool1 carries neuron=relu (conv1 has none), conv2/conv3 neuron=relu, and rnorm1 after pool1,
# rnorm2 after pool2: type=rnorm, a *within-map* 3x3 response normalisation (layer-params-18pct.cfg:
# scale 0.00005, pow .75; layer.py divides scale by size**2), not the paper's cross-map LRN.
CONVNET_18PCT = [
    ("conv1", "conv", dict(filters=32, filterSize=5, padding=2, stride=1)),
    ("pool1", "max", dict(sizeX=3, stride=2, start=0)),
    ("conv2", "conv", dict(filters=32, filterSize=5, padding=2, stride=1)),
    ("pool2", "avg", dict(sizeX=3, stride=2, start=0)),
    ("conv3", "conv", dict(filters=64, filterSize=5, padding=2, stride=1)),
    ("pool3", "avg", dict(sizeX=3, stride=2, start=0)),
    ("fc10", "fc", dict(outputs=10)),
]
CONVNET_KINDS = {"conv": nn.Conv2d, "max": nn.MaxPool2d, "avg": nn.AvgPool2d, "fc": nn.Linear}


def test_four_layer_net_is_layers_18pct():
    net = four_layer_net()
    layers = [m for m in net if type(m) in CONVNET_KINDS.values()]
    assert [type(m) for m in layers] == [CONVNET_KINDS[kind] for _, kind, _ in CONVNET_18PCT]
    for module, (name, kind, p) in zip(layers, CONVNET_18PCT, strict=True):
        if kind == "conv":
            got = (module.out_channels, module.kernel_size, module.padding, module.stride)
            assert got == (p["filters"], (p["filterSize"],) * 2, (p["padding"],) * 2, (1, 1)), name
        elif kind == "fc":
            assert module.out_features == p["outputs"]
        else:
            assert (module.kernel_size, module.stride, module.padding) in {(3, 2, 0), ((3, 3), (2, 2), (0, 0))}, name
    assert not any(isinstance(m, LocalResponseNorm) for m in net)  # lrn="none"
    after = list(four_layer_net(lrn="after_pool"))  # the package's LRN where 18pct has rnorm1/rnorm2
    pools = [i for i, m in enumerate(after) if type(m) in (nn.MaxPool2d, nn.AvgPool2d)]
    assert [isinstance(after[i + 1], LocalResponseNorm) for i in pools] == [True, True, False]


def convnet_avg_pool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """CONVNET conv_util.cuh kLocalPool with AvgPooler: ceil output count (layer.py), each window cut
    at the image edge and its sum divided by the cut window's pixel count (regionSize)."""
    n = convnet2_pool_side(x.shape[-1], size, stride)
    out = np.empty(x.shape[:2] + (n, n))
    for i in range(n):
        for j in range(n):
            out[..., i, j] = x[..., i * stride : i * stride + size, j * stride : j * stride + size].mean(axis=(-2, -1))
    return out


def test_four_layer_net_pools_like_cuda_convnet():
    """32 -> 16 -> 8 -> 4 pixels by cuda-convnet's ceil rule, and average pools divide by the cut window."""
    net = four_layer_net().double().eval()
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)
    sides = []
    with torch.no_grad():
        for m in net:
            if type(m) is nn.AvgPool2d:
                np.testing.assert_allclose(m(x).numpy(), convnet_avg_pool(x.numpy(), 3, 2), rtol=1e-12)
            side = x.shape[-1]
            x = m(x)
            if type(m) in (nn.MaxPool2d, nn.AvgPool2d):
                assert x.shape[-1] == convnet2_pool_side(side, 3, 2)
                sides.append(x.shape[-1])
    assert sides == [16, 8, 4]
