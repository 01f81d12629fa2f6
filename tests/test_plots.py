"""The chapters' figures draw what they are given and reject what they cannot draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from alexnet.experiments import History  # noqa: E402
from alexnet.plots import plot_activations, plot_bars, plot_curves, plot_ensemble, plot_pooling_windows  # noqa: E402


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
