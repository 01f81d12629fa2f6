"""``alexnet.training.timing.time_call``: the one timer (torch.utils.benchmark underneath)."""

import time

import pytest

from alexnet.training.timing import time_call


def test_time_call_times_one_call_after_the_warm_up():
    calls = []

    def sleep(seconds: float = 0.02) -> None:
        calls.append(seconds)
        time.sleep(seconds)

    assert 0.02 <= time_call(sleep, repeats=3, warmup=4) < 0.05  # seconds per call, not for all three
    assert len(calls) == 7  # four untimed calls (two of them torch's timer's own), then three timed ones
    durations = iter([1.0, 1.0, 0.01, 0.03, 0.02])  # slow first calls are not timed
    assert 0.02 <= time_call(lambda: sleep(next(durations)), repeats=3) < 0.03  # (0.01 + 0.03 + 0.02) / 3
    with pytest.raises(ValueError, match="repeats"):
        time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup >= 2"):
        time_call(lambda: None, warmup=1)
