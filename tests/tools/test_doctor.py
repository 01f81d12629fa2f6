"""``python -m alexnet doctor``: its pieces quickly, the whole report at a tiny scale, and the CPU mode (slow)."""

import dataclasses

import pytest
import torch

from alexnet import data
from alexnet.cli.main import main
from alexnet.tools import doctor
from alexnet.tools import doctor_checks as checks

# smaller than the CPU mode: every section runs, in seconds
TINY = dataclasses.replace(
    doctor.SCALES["reduced"],
    name="tiny",
    width=0.125,
    stored=72,
    batches=(8,),
    bench_steps=1,
    bench_warmup=0,
    smoke_batch=8,
    smoke_epochs=10,
    step_batch=4,
    resume_batch=8,
    fp16_batch=4,
    time_limit=900.0,  # the CPU is shared: the two-minute goal is checked by the CPU mode's own line
)


def test_colour_classes_are_1000_uint8_classes_and_leave_no_trace_in_the_loaders():
    ds = checks.colour_classes("train", num_images=2000, image_size=16)
    assert ds.images.dtype == torch.uint8 and ds.images.shape == (2000, 3, 16, 16)
    assert len(ds.classes) == 1000 and torch.equal(ds.labels[:3], torch.tensor([0, 1, 2]))
    means = ds.images[:1000].float().mean(dim=(2, 3))
    assert torch.cdist(means, means).add(torch.eye(1000) * 1e9).min() > 10  # every class has its own colour
    with checks.registered(checks.DATASET, checks.colour_classes):
        assert len(data.load_dataset(checks.DATASET, "val", num_images=8, image_size=16)) == 8
    assert checks.DATASET not in data.LOADERS


def test_bf16_and_fp16_steps_against_fp32_within_the_stated_tolerances():
    for amp in ("bf16", "fp16"):
        r = checks.step_against_fp32(amp, torch.device("cpu"), 0.125, 67, 4)
        assert r["finite"] and r["loss_error"] <= checks.STEP_TOLERANCE[amp]["loss"]
        assert r["grad_error"] <= checks.STEP_TOLERANCE[amp]["grad"]
        assert (r["scaler"] is not None) == (amp == "fp16") and r["lrn_in_fp32"] == (2 if amp == "fp16" else 0)


def test_report_lines_and_markdown():
    report = doctor.Report(TINY, torch.device("cpu"), echo=None)
    report.check("s", "good", True, "1 | 2")
    report.check("s", "bad", False, "3")
    with checks._section(report, "s", "raises"):
        raise RuntimeError("CUDA error: no kernel image\nsecond line")
    assert [line.status for line in report.lines] == ["PASS", "FAIL", "FAIL"]
    assert report.lines[-1].value == "RuntimeError: CUDA error: no kernel image"
    md = report.markdown("title")
    assert md.startswith("### title") and "| s | good | PASS | 1 \\| 2 |" in md and "1 PASS, 2 FAIL" in md


@pytest.mark.slow
def test_the_whole_report_at_a_tiny_scale(capsys, tmp_path):
    """Every section of the report, smaller than the CPU mode: under a minute on two quiet cores."""
    out = tmp_path / "doctor.md"
    status = doctor.main("cpu", TINY, out=str(out))
    printed = capsys.readouterr().out
    for check in ("same numbers", "device crops", "bf16 + channels-last step", "fp16 + channels-last step",
                  "paper 67 px, batch 8: trainer", "torchvision 67 px", "loss finite",
                  "mean loss of the last 50 steps", "forced fp16 run", "resume"):  # fmt: skip
        assert check in printed, check
    assert "compiled rows" in printed and "SKIP" in printed
    fails = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert status == (1 if fails else 0)
    assert fails == [], fails  # on a CPU every check holds
    assert "| smoke run (trainer) | loss finite | PASS |" in out.read_text()


def test_any_fail_makes_the_exit_status_1(monkeypatch, capsys):
    def broken(report):
        report.check("augmentation (4.1)", "device crops + flips = host crops + flips", False, "differ")

    monkeypatch.setattr(checks, "augmentation", broken)
    for name in ("machine", "lrn", "precision"):
        monkeypatch.setattr(checks, name, lambda report: None)
    for name in ("smoke", "fp16", "resume"):
        monkeypatch.setattr(checks, name, lambda report, tmp: None)
    monkeypatch.setattr(checks, "throughput", lambda report, compile: None)
    assert doctor.main("cpu", TINY) == 1
    assert "1 FAIL: device crops + flips" in capsys.readouterr().out


def test_a_cpu_run_uses_one_thread_and_gives_the_setting_back(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    with doctor._cpu_threads(torch.device("cpu")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    monkeypatch.setenv("OMP_NUM_THREADS", str(before))  # the person's choice wins
    with doctor._cpu_threads(torch.device("cpu")):
        assert torch.get_num_threads() == before


def test_cli_doctor_options_and_bad_out(capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:  # refused while the command line is read, before two minutes of checks
        main(["doctor", "--device", "cpu", "--out", str(tmp_path / "missing" / "r.md")])
    assert stop.value.code == 2 and "expected a file to write, in a folder that exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["doctor", "--scale", "huge"])


@pytest.mark.slow
def test_cpu_mode_runs_every_check_and_passes(capsys, tmp_path):
    """What `python -m alexnet doctor` runs on this CPU; the goal is at most two minutes on two quiet cores."""
    status = main(["doctor", "--device", "cpu", "--out", str(tmp_path / "r.md")])
    printed = capsys.readouterr().out
    fails = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert fails == [] and status == 0, fails  # the time limit too: 27-28 s measured under a load average of 6
    assert "reduced (CPU)" in printed
