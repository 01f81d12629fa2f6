"""What a run costs before it starts (alexnet.training.cost): work, time per GPU class, memory per batch."""

import pytest

from alexnet import build_model
from alexnet.nn.arithmetic import layer_table, totals
from alexnet.training.cost import (
    PEAK_TFLOPS,
    UTILISATION,
    activation_bytes,
    largest_batch,
    memory_line,
    time_line,
    training_flops,
)


@pytest.fixture(scope="module")
def paper():
    return build_model("paper", num_classes=10)


def test_training_costs_three_forward_passes_per_image(paper):
    forward = totals(layer_table(paper, 227))["flops"]
    assert training_flops(paper, 100, 2) == 3 * forward * 100 * 2
    assert 0.7e9 < forward / 2 < 0.75e9  # the layer table's multiply-adds (chapter 2: about 0.72 billion)


def test_the_time_line_names_the_work_and_every_gpu_class(paper):
    line = time_line(paper, 9469, 90)
    assert line.startswith("this run: 9,469 images x 90 epochs x 4.3") and all(gpu in line for gpu in PEAK_TFLOPS)
    t4_seconds = training_flops(paper, 9469, 90) / (PEAK_TFLOPS["T4"] * 1e12 * UTILISATION)
    assert f"T4 ~{t4_seconds / 60:.0f} min" in line
    measured = time_line(paper, 9469, 90, measured={"T4": 1000.0})
    assert f"T4 {9469 * 90 / 1000 / 60:.0f} min (measured)" in measured and "L4 ~" in measured


def test_a_15_gb_t4_holds_the_recipes_batch_and_says_what_to_lower_to(paper):
    t4 = 15 * 10**9
    per_image = activation_bytes(paper, 2)
    assert per_image == totals(layer_table(paper, 227))["activations"] * 2
    fits = largest_batch(paper, t4)
    assert fits >= 128 and fits & (fits - 1) == 0  # a power of two
    assert memory_line(paper, 128, t4).startswith("memory: batch 128 needs about")
    small = 2 * 10**9  # what another process leaves free
    line = memory_line(paper, 1024, small)
    assert "lower it to --batch-size" in line and int(line.rsplit("--batch-size ", 1)[1].split()[0]) < 1024
    assert largest_batch(paper, 10**6) == 0 and "not even one image" in memory_line(paper, 8, 10**6)


def test_each_epoch_line_says_how_long_the_rest_takes():
    from alexnet.training.progress import duration, epoch_line

    record = {
        "epoch": 3,
        "train_loss": 1.0,
        "val_top1_error": 0.5,
        "val_top5_error": 0.1,
        "lr": 0.01,
        "images_per_second": 900,
    }
    assert epoch_line(record, 10, left=7 * 75.0).endswith("900 img/s  about 9 min left")
    assert epoch_line({**record, "epoch": 10}, 10, left=0.0).endswith("900 img/s")  # the last epoch: nothing left
    assert [duration(s) for s in (42, 600, 3 * 3600)] == ["42 s", "10 min", "3.0 h"]
