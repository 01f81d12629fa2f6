"""The experiment runner and small networks behind the chapters on ReLU, LRN, pooling and dropout."""

import dataclasses
import math

import pytest
import torch
from torch import nn

from alexnet import data
from alexnet.claims.designs import CLAIMS
from alexnet.claims.fit import Budget, epochs_to_reach, fit, format_table, load_data
from alexnet.claims.statistics import standard_error
from alexnet.data import ImageTensorDataset, synthetic
from alexnet.data.inputs import ModelInput
from alexnet.nn.activations import activation_and_gradient
from alexnet.nn.four_layer import four_layer_net
from alexnet.nn.lrn import LocalResponseNorm, lrn_strength

TINY = Budget(train_images=64, val_images=32, image_size=32, num_classes=4, epochs=2, batch_size=16, lr=0.01)


# ----------------------------------------------------------------------------- the four-layer net


@pytest.mark.parametrize("lrn", ["none", "before_pool", "after_pool"])
@pytest.mark.parametrize("overlapping", [True, False])
def test_four_layer_net_shapes_and_layers(lrn, overlapping):
    net = four_layer_net(lrn=lrn, overlapping_pool=overlapping, num_classes=10)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    weighted = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 4  # "four-layer": three convolutions and one fully-connected layer
    assert [m.out_channels for m in weighted[:3]] == [32, 32, 64]
    pools = [m for m in net if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    assert {m.kernel_size for m in pools} == {3 if overlapping else 2}
    # both pooling sizes give 32 -> 16 -> 8 -> 4 (ceil rounding, like cuda-convnet)
    x = torch.zeros(1, 3, 32, 32)
    sides = []
    for m in net:
        x = m(x)
        if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            sides.append(x.shape[-1])
    assert sides == [16, 8, 4]


def test_four_layer_net_places_lrn_before_or_after_pooling():
    kinds = lambda net: [type(m).__name__ for m in net]  # noqa: E731
    before = kinds(four_layer_net(lrn="before_pool"))
    after = kinds(four_layer_net(lrn="after_pool"))
    assert before[:4] == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"]
    assert after[:4] == ["Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm"]
    assert before.count("LocalResponseNorm") == after.count("LocalResponseNorm") == 2
    assert "LocalResponseNorm" not in kinds(four_layer_net())
    assert kinds(four_layer_net(activation="tanh")).count("Tanh") == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"activation": "sigmoid"}, "activation must be one of"),
        ({"lrn": "after_relu"}, "lrn must be one of"),
        ({"num_classes": 1}, "num_classes"),
        ({"width": 0}, "width"),
        ({"image_size": 4}, "image_size"),
    ],
)
def test_four_layer_net_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        four_layer_net(**kwargs)


# ----------------------------------------------------------------------------- budgets and data


def test_budget_validates_and_describes_itself():
    assert "synthetic" in TINY.describe() and "64 training images" in TINY.describe()
    with pytest.raises(ValueError, match="dataset must be"):
        Budget(dataset="imagenet")
    with pytest.raises(ValueError, match="epochs must be positive"):
        Budget(epochs=0)
    with pytest.raises(ValueError, match="lr must be positive"):
        Budget(lr=0)


def test_load_data_synthetic_follows_the_budget():
    train, val = load_data(TINY)
    assert train.images.shape == (64, 3, 32, 32) and val.images.shape == (32, 3, 32, 32)
    assert len(train.classes) == 4 and not torch.equal(train.images[:32], val.images)


def test_load_data_cifar10_subsets_and_resizes(monkeypatch):
    calls = []

    def fake_cifar10(split, root, download, **options):
        calls.append((split, download))
        g = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=g)
        return ImageTensorDataset(images, torch.arange(20) % 10, [str(c) for c in range(10)])

    monkeypatch.setitem(data.LOADERS, "cifar10", fake_cifar10)
    budget = dataclasses.replace(CLAIMS["pooling"].full.budget, train_images=12, val_images=None)
    train, val = load_data(budget)
    assert calls == [("train", True), ("test", True)]
    assert train.images.shape == (12, 3, 67, 67) and val.images.shape == (20, 3, 67, 67)
    with pytest.raises(ValueError, match="num_classes"):
        load_data(dataclasses.replace(budget, num_classes=8))


# ----------------------------------------------------------------------------- the runner


def test_fit_is_seeded_records_every_epoch_and_learns():
    train, val = load_data(TINY)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(
            fit(four_layer_net(num_classes=4), train, val, dataclasses.replace(TINY, epochs=3), eval_train=True)
        )
    a, b = runs
    assert a.train_loss == b.train_loss and a.val_error == b.val_error  # same seed, same run
    assert a.epoch == [1, 2, 3] and len(a.val_top5_error) == len(a.train_eval_error) == 3
    assert a.steps == 3 * 4
    assert all(0 <= e <= 1 for e in a.train_error + a.val_error)
    assert a.train_loss[-1] < a.train_loss[0]
    assert a.last("val_error") == a.val_error[-1]
    with pytest.raises(ValueError, match="no val_loss"):
        fit(four_layer_net(num_classes=4), train, None, TINY).last("val_loss")


def test_evaluating_less_often_leaves_the_training_and_the_last_two_epochs_unchanged():
    train, val = load_data(TINY)
    budget = dataclasses.replace(TINY, epochs=5)
    runs = {}
    for every in (1, 2):
        torch.manual_seed(0)
        runs[every] = fit(four_layer_net(num_classes=4), train, val, budget, eval_train=True, eval_every=every)
    each, sparse = runs[1], runs[2]
    assert sparse.train_loss == each.train_loss and sparse.epoch == each.epoch  # evaluating draws no random numbers
    assert sparse.eval_epoch == [2, 4, 5] and each.eval_epoch == [1, 2, 3, 4, 5]
    assert sparse.val_error == [each.val_error[i - 1] for i in (2, 4, 5)]
    assert sparse.train_eval_error[-2:] == each.train_eval_error[-2:]
    assert sparse.epochs_of("val_error") == [2, 4, 5] and sparse.epochs_of("train_error") == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="eval_every"):
        fit(four_layer_net(num_classes=4), train, val, budget, eval_every=0)


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_full_mode_configuration_runs_one_step_on_cpu(name):
    """Full mode runs on a GPU; here its budget and networks run one step on random images of the same
    shape, so that the full-mode settings cannot rot."""
    claim = CLAIMS[name]
    full = claim.full.budget
    quick = claim.quick.budget
    if full.train_images is not None:  # None: the whole dataset, larger than any quick run
        assert full.train_images * full.epochs > (quick.train_images or 0) * quick.epochs
    if full.dataset != "cifar10":
        pytest.skip("the photo-patch design is checked in tests/data/test_augment.py")
    assert full.num_classes == 10
    n = full.batch_size
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, full.image_size, full.image_size), dtype=torch.uint8, generator=g)
    train = ImageTensorDataset(images, torch.arange(n) % 10, [str(c) for c in range(10)])
    for options in claim.arms.values():
        hist = fit(claim.build(options, full, train), train, None, full, max_steps=1, device="cpu")
        assert hist.steps == 1 and math.isfinite(hist.train_loss[0])


def test_quick_budgets_are_small():
    for claim in CLAIMS.values():
        data = claim.quick.data  # synthetic images, or patches of the 8 shipped photos
        images = data.get("train_images") or 8 * data["train_patches"]
        assert "dataset" not in data and images * claim.quick.budget.epochs <= 25_000  # image-epochs per run


def test_epochs_to_reach_interpolates():
    assert epochs_to_reach([0.5, 0.3, 0.1], 0.3) == 2.0
    assert epochs_to_reach([0.5, 0.3, 0.1], 0.2) == pytest.approx(2.5)
    assert epochs_to_reach([0.2, 0.1], 0.25) == 1.0
    assert epochs_to_reach([0.2, 0.1], 0.25, start=0.75) == pytest.approx(0.5 / 0.55)
    assert epochs_to_reach([0.5, 0.4], 0.25) is None
    with pytest.raises(ValueError, match="target"):
        epochs_to_reach([0.5], 25)


def test_format_table_aligns_and_checks_rows():
    text = format_table(["name", "value"], [["a", 1.234], ["bb", 10.0]])
    lines = text.splitlines()
    assert lines[0].startswith("name") and set(lines[1]) <= {"-", " "}
    assert lines[2].endswith(" 1.23") and lines[3].endswith("10.00")
    assert len({len(line) for line in lines}) == 1
    with pytest.raises(ValueError, match="as many cells"):
        format_table(["a", "b"], [[1]])


# ----------------------------------------------------------------------------- activations


def test_activation_gradients_match_calculus():
    x = torch.tensor([-2.0, 0.0, 3.0])
    y, g = activation_and_gradient("tanh", x)
    assert torch.allclose(g, 1 - torch.tanh(x) ** 2)
    _, g = activation_and_gradient("sigmoid", x)
    assert torch.allclose(g, torch.sigmoid(x) * (1 - torch.sigmoid(x)))
    y, g = activation_and_gradient("relu", x)
    assert y.tolist() == [0.0, 0.0, 3.0] and g.tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="activation must be one of"):
        activation_and_gradient("swish", x)


def test_lrn_strength_grows_with_the_square_of_the_input():
    torch.manual_seed(0)
    net = four_layer_net(lrn="before_pool")
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.bias)  # without biases the first layer is homogeneous: 10x input, 100x squares
    images = synthetic("val", num_images=8, image_size=32).images
    x = ModelInput.fit(net, images)(images)
    small, large = lrn_strength(net, x), lrn_strength(net, 10 * x)
    assert len(small) == 2 and all(s > 0 for s in small)
    assert large[0] == pytest.approx(100 * small[0], rel=1e-3)
    with pytest.raises(ValueError, match="no LocalResponseNorm"):
        lrn_strength(four_layer_net(), x)
    assert isinstance(net[2], LocalResponseNorm)


def test_standard_error():
    assert standard_error(0.5, 100) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="error rate"):
        standard_error(1.5, 10)
