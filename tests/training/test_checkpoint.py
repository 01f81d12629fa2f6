"""alexnet.training.checkpoint: a run folder stays whole (metrics follow the checkpoint, one run at a time, full disks,
signals, resumes), and a damaged checkpoint or one of another run is refused with one line."""

import dataclasses
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from alexnet.cli import commands
from alexnet.cli import main as cli
from alexnet.cli import train_options as options
from alexnet.training import state
from alexnet.training.checkpoint import load_checkpoint, model_from_checkpoint, read_metrics
from alexnet.training.config import TrainConfig
from alexnet.training.errors import TrainingError
from alexnet.training.loop import train
from alexnet.training.run_folder import CHECKPOINT_NAME, METRICS_NAME, RunFolder

from ..messages import CLEAR, assert_one_line

CLI_TINY = ["--device", "cpu", "--no-progress", "--images", "64", "--classes", "4", "--width", "0.125"]
CLI_TINY += ["--image-size", "67", "--batch-size", "32"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tiny_config):
    """Two epochs of 96 images, ten-crop error at the end."""
    return tiny_config(dataset_options={"num_images": 96}, epochs=2, ten_crop=True)


@pytest.fixture(scope="module")
def finished(tiny, tmp_path_factory):
    """A two-epoch run, trained once for the module; tests copy it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    train(dataclasses.replace(tiny, out=str(out)))
    return out


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def test_metrics_one_epoch_behind_the_checkpoint_are_restored_on_resume(tiny, finished, tmp_path):
    """A crash between the checkpoint and the metrics write: the last epoch's record, ten-crop too, comes back."""
    out = _copy(finished, tmp_path / "run")
    lines = (out / METRICS_NAME).read_text().splitlines()
    (out / METRICS_NAME).write_text(lines[0] + "\n")  # as the crash left it
    result = train(dataclasses.replace(tiny, out=str(out), resume=True))  # nothing left to train
    records = read_metrics(out)
    assert [r["epoch"] for r in records] == [1, 2] and "val_ten_crop_top1_error" in records[-1]
    assert records == load_checkpoint(out)["history"] == result.history


def test_a_second_run_into_a_held_folder_refuses_and_names_the_first(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    with RunFolder(out):
        with pytest.raises(TrainingError, match=rf"in use by another run \(pid {os.getpid()}: "):
            train(dataclasses.replace(tiny, out=str(out)))
        assert cli.main(["train", "--out", str(out), *CLI_TINY, "--epochs", "1"]) == 1
        err = capsys.readouterr().err.strip()
        assert f"in use by another run (pid {os.getpid()}" in err and "\n" not in err
    assert not (out / CHECKPOINT_NAME).exists()
    with RunFolder(out):  # released when the first run ends
        pass


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4480 vs 4372"),
    ],
    ids=["ENOSPC", "torch-zip-writer"],
)
def test_a_full_disk_is_one_line_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys, failure):
    real_save, calls = torch.save, []

    def filling_up(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            return real_save(obj, f, *args, **kwargs)
        with open("/dev/full", "wb") if isinstance(failure, OSError) else open(os.devnull, "wb") as sink:
            if isinstance(failure, OSError) and os.path.exists("/dev/full"):
                real_save(obj, sink)  # the kernel's own ENOSPC
            raise failure

    monkeypatch.setattr(torch, "save", filling_up)
    out = tmp_path / "run"
    assert cli.main(["train", "--out", str(out), *CLI_TINY, "--epochs", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "is full" in err and "epoch 2 could not be saved" in err
    assert "the last good checkpoint (epoch 1) is kept" in err
    assert load_checkpoint(out)["epoch"] == 1 and [r["epoch"] for r in read_metrics(out)] == [1]
    assert not list(out.glob(".*.tmp"))


def test_an_out_that_cannot_be_written_is_refused_before_any_training(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(state, "load_splits", lambda config: pytest.fail("data loaded before --out was checked"))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out in (a_file, a_file / "below"):  # refused while the command line is read
        with pytest.raises(SystemExit) as stop:
            cli.main(["train", "--out", str(out), *CLI_TINY])
        assert stop.value.code == 2 and "is a file or lies under one" in capsys.readouterr().err
    with pytest.raises(TrainingError, match="is a file, not a folder"):  # the same from Python
        train(dataclasses.replace(tiny, out=str(a_file)))
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert cli.main(["train", "--out", str(locked / "run"), *CLI_TINY]) == 1
        assert "cannot write to --out" in capsys.readouterr().err


def test_resuming_with_fewer_epochs_than_the_checkpoint_says_so(tiny, finished, tmp_path):
    out = _copy(finished, tmp_path / "run")
    with pytest.raises(TrainingError, match="after epoch 2, past epochs=1: nothing to train"):
        train(dataclasses.replace(tiny, out=str(out), resume=True, epochs=1))


def test_a_resume_with_another_cpu_thread_count_is_reported(tiny, finished, tmp_path, capsys):
    out = _copy(finished, tmp_path / "run")
    state = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    assert state["cpu_threads"] == torch.get_num_threads()
    state["cpu_threads"] = torch.get_num_threads() + 3
    torch.save(state, out / CHECKPOINT_NAME)
    train(dataclasses.replace(tiny, out=str(out), resume=True))
    assert f"trained with {torch.get_num_threads() + 3} CPU thread(s)" in capsys.readouterr().err


def test_sigterm_and_ctrl_c_in_process_end_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(commands.COMMANDS, "train", lambda args: os.kill(os.getpid(), signal.SIGTERM) or time.sleep(5))
    assert cli.main(["train", *CLI_TINY]) == 143
    err = capsys.readouterr().err.strip()
    assert err.startswith("alexnet train: terminated (SIGTERM)") and "\n" not in err
    assert signal.getsignal(signal.SIGTERM) is not cli._on_sigterm  # the handler is put back

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setitem(commands.COMMANDS, "train", cli._train)
    monkeypatch.setattr(options, "quick_config", interrupted)  # Ctrl-C while the run is being set up
    assert cli.main(["train", *CLI_TINY]) == 130
    assert capsys.readouterr().err.strip().startswith("alexnet train: interrupted")


def _default_ctrl_c() -> None:
    # A job started in the background by a non-interactive shell ignores SIGINT, and a child inherits that (Python
    # then installs no KeyboardInterrupt handler): Ctrl-C in the child must not depend on how the tests were started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "alexnet", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_ctrl_c,
    )


@pytest.mark.slow
def test_sigterm_during_training_and_ctrl_c_during_start_up_in_a_real_process(tmp_path):
    out = tmp_path / "run"
    run = _spawn(["train", "--out", str(out), *CLI_TINY, "--epochs", "500"], tmp_path)
    deadline = time.monotonic() + 120
    while not (out / CHECKPOINT_NAME).exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143, err.decode()
    assert err.decode().strip().splitlines() == [
        "alexnet train: terminated (SIGTERM); the last checkpoint written is kept: a run with --out goes on with --resume"
    ]
    assert load_checkpoint(out)["epoch"] >= 1
    assert [r["epoch"] for r in read_metrics(out)] == list(range(1, load_checkpoint(out)["epoch"] + 1))

    # Ctrl-C while the interpreter imports torch. A signal that lands in the interpreter's own start-up or
    # shutdown machinery (before main() runs, or in a finaliser) is outside the package's hands, so the test
    # allows three tries; whatever happens, nothing may print a traceback.
    codes = []
    for attempt in range(3):
        start = _spawn(["train", "--out", str(tmp_path / f"other{attempt}"), *CLI_TINY], tmp_path)
        # 1 s: the interpreter is up and importing torch; later tries wait longer, since under load a signal at
        # 1 s can land in a library's import, which may swallow it (seen: exit 0 on all three 1-s tries)
        time.sleep(2.0**attempt)
        start.send_signal(signal.SIGINT)
        _, err = start.communicate(timeout=60)
        assert "Traceback" not in err.decode(), err.decode()
        codes.append(start.returncode)
        if start.returncode == 130:
            assert len(err.decode().strip().splitlines()) == 1 and "interrupted" in err.decode()
            break
    assert codes[-1] == 130, f"exit statuses {codes}, expected 130 (interrupted) on one of three tries"


def test_metrics_file_damage_is_one_line(tmp_path):
    (tmp_path / METRICS_NAME).write_text(json.dumps({"epoch": 1}) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"line 2, is not JSON.*--resume"):
        read_metrics(tmp_path)


def test_a_signal_during_save_waits_until_both_files_are_written():
    from alexnet.training.state import _signals_deferred

    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append("signal"))
    try:
        with _signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            seen.append("both files written")
        time.sleep(0.05)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == ["both files written", "signal"]


@pytest.mark.parametrize("planted", ["link to a file", "dangling link", "folder", "fifo"])
def test_a_lock_that_is_not_a_regular_file_is_refused_and_nothing_it_names_is_touched(tmp_path, planted):
    out, target = tmp_path / "run", tmp_path / "precious.txt"
    out.mkdir()
    target.write_text("keep me")
    lock = out / ".lock"
    if planted == "link to a file":
        lock.symlink_to(target)
    elif planted == "dangling link":
        lock.symlink_to(tmp_path / "nothing-here")
    elif planted == "folder":
        lock.mkdir()
    else:
        os.mkfifo(lock)
    with pytest.raises(TrainingError) as refused:
        with RunFolder(out):
            pass
    assert ".lock" in str(refused.value) and "\n" not in str(refused.value)
    assert target.read_text() == "keep me" and not (tmp_path / "nothing-here").exists()


# ----------------------------------------------------------------------------- checkpoints that are damaged


def _edited(run, tmp_path, edit):
    state = load_checkpoint(run)
    edit(state)
    out = tmp_path / "edited"
    out.mkdir()
    torch.save(state, out / CHECKPOINT_NAME)
    return out / CHECKPOINT_NAME


def _wrong_weights(state):
    state["model_config"] = {**state["model_config"], "width": 0.25}


CHECKPOINTS = {
    "no config": (lambda s: s.pop("config"), r"lacks 'config'"),
    "no model": (lambda s: s.pop("model"), r"lacks 'model'"),
    "no rng": (lambda s: s.pop("rng"), r"lacks 'rng'"),
    "weights of another config": (_wrong_weights, r"weights do not match its model_config"),
    "newer format": (lambda s: s.update(format=99), r"written by a newer alexnet.*upgrade"),
    "epoch as text": (lambda s: s.update(epoch="1"), r"'epoch' must be an integer"),
}


@pytest.mark.parametrize("case", CHECKPOINTS)
def test_bad_checkpoints_evaluate(case, finished, tmp_path, capsys):
    edit, pattern = CHECKPOINTS[case]
    path = _edited(finished, tmp_path, edit)
    try:
        status = cli.main(["evaluate", str(path), "--device", "cpu"])
    except Exception as error:
        pytest.fail(f"a traceback instead of a message: {type(error).__name__}: {error}")
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert_one_line(err, pattern)


def test_a_damaged_rng_state_on_resume_is_one_line(finished, tmp_path):
    out = _copy(finished, tmp_path / "resume")
    state = load_checkpoint(out)
    state["rng"] = {"python": "garbage", "torch": torch.zeros(3)}
    torch.save(state, out / CHECKPOINT_NAME)
    config = TrainConfig(**{**state["config"], "out": str(out), "resume": True, "epochs": state["epoch"] + 1})
    with pytest.raises(CLEAR) as info:
        train(config)
    assert_one_line(info.value, r"random-number states \('rng'\) are damaged")


def test_a_truncated_checkpoint_is_one_line(finished, tmp_path):
    data = (finished / CHECKPOINT_NAME).read_bytes()
    (tmp_path / CHECKPOINT_NAME).write_bytes(data[: len(data) // 2])
    with pytest.raises(CLEAR) as info:
        load_checkpoint(tmp_path)
    assert_one_line(info.value, r"not a readable checkpoint")


def test_model_from_checkpoint_names_a_mismatch(finished):
    state = load_checkpoint(finished)
    _wrong_weights(state)
    with pytest.raises(CLEAR) as info, warnings.catch_warnings():
        model_from_checkpoint(state)
    assert_one_line(info.value, r"weights do not match")
