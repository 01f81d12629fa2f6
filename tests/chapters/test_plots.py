"""The chapters' figures draw what they are given and reject what they cannot draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from alexnet.chapters.mechanism_plots import plot_activations, plot_ensemble, plot_pooling_windows  # noqa: E402
from alexnet.chapters.plots import plot_bars, plot_curves  # noqa: E402
from alexnet.claims.fit import History  # noqa: E402


def _history(name, errors):
    return History(name=name, epoch=list(range(1, len(errors) + 1)), train_error=errors)


def test_plot_curves_draws_one_line_per_run_in_percent():
    fig = plot_curves({"ReLU": _history("ReLU", [0.5, 0.2]), "tanh": _history("tanh", [0.6, 0.4])}, target=0.25)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in ("ReLU", "tanh")]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]  # Figure 1: solid ReLU, dashed tanh
    assert list(lines[0].get_ydata()) == [50.0, 20.0]
    assert any(line.get_label() == "25%" for line in ax.get_lines())
    plt.close(fig)
    with pytest.raises(ValueError, match="no values for 'val_error'"):
        plot_curves({"x": _history("x", [0.5])}, key="val_error")
    with pytest.raises(ValueError, match="at least one"):
        plot_curves({})


def test_plot_activations_has_functions_and_gradients():
    fig = plot_activations()
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines() if not line.get_label().startswith("_")] == [
        "sigmoid",
        "tanh",
        "relu",
    ]
    relu_grad = [line for line in right.get_lines() if line.get_label() == "relu"][0].get_ydata()
    assert relu_grad.max() == 1.0 and relu_grad.min() == 0.0
    plt.close(fig)
    with pytest.raises(ValueError, match="names must be among"):
        plot_activations(["swish"])


def test_plot_pooling_windows_counts_windows_and_overlap():
    fig = plot_pooling_windows(9, 3, 2)
    ax = fig.axes[0]
    assert "4 windows" in ax.get_title()
    cells = ax.patches[:9]
    shades = [float(c.get_facecolor()[0]) for c in cells]
    assert shades[2] < shades[1]  # unit 2 is covered by two windows, unit 1 by one
    plt.close(fig)
    fig = plot_pooling_windows(9, 2, 2)
    assert "4 windows" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="size >= kernel"):
        plot_pooling_windows(2, 3, 2)


def test_plot_ensemble_and_bars():
    rows = [
        {"samples": 1, "arithmetic_distance": 0.1, "geometric_distance": 0.1},
        {"samples": 4, "arithmetic_distance": 0.05, "geometric_distance": 0.04},
        {"samples": 0, "scaled_error": 0.3},
    ]
    fig = plot_ensemble(rows)
    assert len(fig.axes[0].get_lines()) == 2 and list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 4]
    plt.close(fig)
    with pytest.raises(ValueError, match="ensemble_agreement"):
        plot_ensemble([{"samples": 0, "scaled_error": 0.3}])
    fig = plot_bars({"no LRN": 0.13, "LRN": 0.11})
    assert [round(p.get_height(), 6) for p in fig.axes[0].patches] == [13.0, 11.0]
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one value"):
        plot_bars({})


def test_plot_top5_draws_the_five_most_probable_classes_and_the_true_one_in_red():
    import torch

    from alexnet.chapters.training_plots import plot_top5

    images = torch.zeros(3, 3, 8, 8, dtype=torch.uint8)
    probabilities = torch.tensor([[0.5, 0.2, 0.12, 0.08, 0.06, 0.04], [0.0, 0.01, 0.1, 0.2, 0.29, 0.4]] + [[1 / 6] * 6])
    classes = ["a", "b", "c", "d", "e", "f"]
    fig = plot_top5(images, probabilities, [1, 0, 2], classes, columns=2)
    bars = fig.axes[2]  # the first image's bars (the axes run row by row: two pictures, then two bar charts)
    assert [t.get_text() for t in bars.get_yticklabels()] == ["a", "b", "c", "d", "e"]
    red = [p for p in bars.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("C3")]
    assert len(red) == 1 and red[0].get_width() == pytest.approx(0.2)  # the true class "b", second most probable
    second = fig.axes[3]
    assert not any(p.get_facecolor()[:3] == matplotlib.colors.to_rgb("C3") for p in second.patches)  # "a" not in top 5
    plt.close(fig)
    with pytest.raises(ValueError, match="expected images"):
        plot_top5(images, probabilities, [0, 1], classes)


def test_the_figure_1_view_starts_at_chance_and_ticks_each_seeds_time():
    from alexnet.chapters.plots import plot_time_to_target

    runs = {
        "ReLU": [_history("a", [0.5, 0.2]), _history("b", [0.6, 0.3, 0.24])],
        "tanh": [_history("c", [0.7, 0.5, 0.2])],
    }
    times = {"ReLU": [1.8, 2.9], "tanh": [2.8]}
    fig = plot_time_to_target(runs, times, target=0.25, start=0.875)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    relu = lines["ReLU: mean of 2 seeds"]
    assert list(relu.get_xdata()) == [0, 1, 2] and list(relu.get_ydata()) == pytest.approx([87.5, 55.0, 25.0])
    assert lines["tanh: mean of 1 seeds"].get_linestyle() == "--"  # Figure 1: solid ReLU, dashed tanh
    ticks = lines["ReLU: each seed's epochs to 25%"]
    assert list(ticks.get_xdata()) == [1.8, 2.9] and set(ticks.get_ydata()) == {25.0}
    plt.close(fig)


def test_figure_3_and_4_helpers():
    """Figure 3's kernel tiles and Figure 4's nearest neighbours in fc7 space, drawn from a small network."""
    from alexnet.chapters.training_plots import kernel_tiles, plot_kernels, plot_neighbours, plot_training
    from alexnet.data.inputs import ModelInput
    from alexnet.nn.model import build_model
    from alexnet.training.evaluate import fc7_features, nearest_neighbours

    model = build_model("paper", num_classes=4, width=0.125, image_size=67)
    tiles = kernel_tiles(model.features[0].weight)
    assert tiles.shape == (12, 11, 11, 3) and tiles.min() >= 0 and tiles.max() <= 1
    assert len(plot_kernels(model.features[0].weight, columns=6).axes) == 12
    images = torch.randint(0, 256, (5, 3, 72, 72), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    features = fc7_features(model, images, ModelInput.fit(model, images))
    assert features.shape == (5, model.config.hidden) and (features >= 0).all()
    idx, dist = nearest_neighbours(features[:2], features, k=3)
    assert idx[:, 0].tolist() == [0, 1] and torch.allclose(dist[:, 0], torch.zeros(2), atol=1e-3)
    assert len(plot_neighbours(images[:2], images[idx]).axes) == 8
    history = [
        {"epoch": e, "train_loss": 1 / e, "val_top1_error": 0.5 / e, "val_top5_error": 0.1, "lr": 0.01} for e in (1, 2)
    ]
    assert len(plot_training(history).axes) == 3
