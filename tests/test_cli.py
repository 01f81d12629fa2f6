"""``python -m alexnet``: train, evaluate, summary and bench, and errors without tracebacks."""

import json
import subprocess
import sys

import pytest
import torch

from alexnet.__main__ import QUICK, build_parser, main, quick_config

SMALL = ["--width", "0.125", "--images", "192", "--classes", "4", "--batch-size", "32", "--no-progress"]


def test_no_option_run_is_the_reduced_synthetic_run():
    config = quick_config()
    assert config.model == "paper" and config.dataset == "synthetic"
    assert config.model_options == {"width": QUICK["width"], "image_size": QUICK["image_size"], "init": "kaiming"}
    assert config.dataset_options["num_classes"] >= 4
    assert config.dataset_options["image_size"] > config.model_options["image_size"]  # random crops, as in 4.1


def test_shortened_default_run_learns(tmp_path, capsys):
    """The no-option run's settings, shortened (fewer images, three epochs): it must really learn."""
    out = tmp_path / "run"
    assert main(["train", "--images", "4096", "--epochs", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "this run: synthetic, 4,096 images of 8 classes" in printed and "paper: ImageNet" in printed
    assert "He et al. 2015" in printed  # the deviation from Section 5 is said
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[1]["train_loss"] < metrics[0]["train_loss"]
    assert metrics[-1]["val_top1_error"] < 0.5


def test_train_then_evaluate_a_checkpoint(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", *SMALL, "--epochs", "1", "--out", out]) == 0
    assert (tmp_path / "run" / "curves.png").stat().st_size > 0
    assert main(["evaluate", out]) == 0
    printed = capsys.readouterr().out
    assert "one crop" in printed and "ten crops" in printed and "top-5 error" in printed
    assert main(["train", *SMALL, "--epochs", "1", "--out", out]) == 1  # a second run would overwrite the first
    assert "already holds the checkpoint of a run" in capsys.readouterr().err


def test_summary_prints_the_layer_table(capsys):
    assert main(["summary"]) == 0
    printed = capsys.readouterr().out
    assert "conv1" in printed and "fc8" in printed and "60,965,224" in printed


def test_bench_compares_the_plain_loop_and_the_trainer(capsys):
    argv = ["bench", "--width", "0.125", "--image-size", "67", "--classes", "10", "--batch-size", "8"]
    assert main([*argv, "--steps", "1", "--warmup", "0", "--json"]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(printed.strip().splitlines()[-1])
    assert [r["path"] for r in rows] == ["fp32", "trainer"]
    for r in rows:  # images/s and ms/step describe the same timed steps of a batch of 8
        assert r["batch_size"] == 8 and r["steps"] == 1
        assert r["images_per_second"] * r["ms_per_step"] == pytest.approx(8 * 1000)
    assert "speed-up = " in printed and "LRN at (8, 12, 15, 15)" in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "alexnet2"], "unknown model 'alexnet2'"),
        (["train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
        (["evaluate", "no/such/folder"], "no checkpoint at"),
        pytest.param(
            ["train", "--device", "cuda"],
            "asks for a GPU",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU"),
        ),
    ],
)
def test_errors_are_one_line_without_traceback(argv, message, capsys):
    assert main([*argv, *(["--no-progress"] if argv[0] == "train" else [])]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_resume_with_other_options_is_refused(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", *SMALL, "--epochs", "1", "--out", out]) == 0
    assert main(["train", *SMALL, "--epochs", "2", "--lr", "0.02", "--out", out, "--resume"]) == 1
    assert "belongs to another run (lr: checkpoint 0.01, now 0.02)" in capsys.readouterr().err


def test_module_runs_as_a_program():
    done = subprocess.run(
        [sys.executable, "-m", "alexnet", "summary", "--model", "torchvision"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "61,100,840" in done.stdout
    assert build_parser().parse_args(["train"]).model == "paper"
