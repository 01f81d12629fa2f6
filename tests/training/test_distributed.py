"""DistributedDataParallel under torchrun (alexnet.training.distributed): two processes train as one does."""

import json
import os
import socket
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_torchrun_with_two_gloo_processes_matches_one_process(tmp_path):
    """DistributedDataParallel on the CPU: each process takes half of every batch of 32."""
    common = ["train", "--width", "0.125", "--images", "128", "--classes", "4", "--batch-size", "32", "--epochs", "2"]
    common += ["--dropout", "0", "--augment", "none", "--no-progress", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    one = subprocess.run(
        [sys.executable, "-m", "alexnet", *common, "--out", str(tmp_path / "one")], env=env, timeout=300
    )
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}"]
    logged = [arg for arg in common if arg != "--no-progress"]  # the log of a torchrun job: one header, one "done"
    two = subprocess.run(
        [*launch, "-m", "alexnet", *logged, "--out", str(tmp_path / "two")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-2000:]
    a, b = (
        [json.loads(line) for line in (tmp_path / d / "metrics.jsonl").read_text().splitlines()] for d in ("one", "two")
    )
    assert [r["epoch"] for r in b] == [1, 2]
    assert two.stdout.count("this run:") == 1 and two.stdout.count("done in") == 1, two.stdout
    assert two.stdout.count("epoch   1/2") == 1 and "\r" not in two.stderr
    for ra, rb in zip(a, b, strict=True):
        assert rb["train_loss"] == pytest.approx(ra["train_loss"], rel=1e-4)
        assert rb["val_top1_error"] == pytest.approx(ra["val_top1_error"], abs=1 / 32)
