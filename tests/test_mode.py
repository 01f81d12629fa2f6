"""Quick, full and rehearsed mode (alexnet.chapters.mode), and what a rehearsal shrinks."""

import dataclasses

import pytest

from alexnet.chapters.mode import REHEARSAL, is_quick, is_rehearsal, mode_name, rehearsed
from alexnet.claims.runner import CLAIMS
from alexnet.training import recipes
from alexnet.training.loop import _rehearsed


def test_quick_follows_the_variable(monkeypatch):
    monkeypatch.delenv("ALEXNET_REHEARSAL", raising=False)
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    assert is_quick() and mode_name() == "quick" and not is_rehearsal()
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    assert not is_quick() and mode_name() == "full"
    monkeypatch.setenv("ALEXNET_QUICK", "yes")
    with pytest.raises(ValueError, match="ALEXNET_QUICK must be 0"):
        is_quick()


def test_a_rehearsal_is_full_mode_and_says_so(monkeypatch):
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    assert is_rehearsal() and not is_quick()
    assert mode_name().startswith("full, rehearsed")
    assert rehearsed(90, "epochs") == REHEARSAL["epochs"] and rehearsed(1, "epochs") == 1
    monkeypatch.setenv("ALEXNET_REHEARSAL", "0")
    assert rehearsed(90, "epochs") == 90


@pytest.mark.parametrize(
    "value, quick, message", [("2", "0", "ALEXNET_REHEARSAL must be 1"), ("1", "1", "set ALEXNET_QUICK=0")]
)
def test_a_bad_rehearsal_setting_gets_one_line(monkeypatch, value, quick, message):
    monkeypatch.setenv("ALEXNET_REHEARSAL", value)
    monkeypatch.setenv("ALEXNET_QUICK", quick)
    with pytest.raises(ValueError, match=message):
        is_quick()


def test_a_rehearsal_shrinks_the_amounts_and_keeps_everything_else(monkeypatch):
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    full = recipes.CHAPTER_10_FULL
    small = _rehearsed(full, talk=False)
    assert (small.epochs, small.batch_size) == (REHEARSAL["epochs"], REHEARSAL["batch_size"])
    same = {f.name for f in dataclasses.fields(full)} - {"epochs", "batch_size", "dataset_options", "val_options"}
    assert all(getattr(small, name) == getattr(full, name) for name in same)
    synthetic = _rehearsed(recipes.CLI_QUICK, talk=False)
    assert synthetic.dataset_options["num_images"] == REHEARSAL["images"]
    assert synthetic.dataset_options["image_size"] == recipes.CLI_QUICK.dataset_options["image_size"]
    for claim in CLAIMS.values():
        design, real = claim.design(True), claim.full
        assert design.budget.epochs == min(real.budget.epochs, REHEARSAL["claim_epochs"])
        assert design.budget.image_size == real.budget.image_size and design.budget.width == real.budget.width
        assert design.lrs == real.lrs[: REHEARSAL["sweep"]]
        assert claim.design(False) is claim.quick  # quick mode is not touched
    monkeypatch.setenv("ALEXNET_REHEARSAL", "0")
    assert _rehearsed(full, talk=False) is full and all(c.design(True) is c.full for c in CLAIMS.values())
