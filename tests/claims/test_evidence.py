"""Recorded evidence: every claim has a record that matches its design, and a live run is checked against it."""

import dataclasses
import json
import math
import random

import pytest

from alexnet.claims import evidence
from alexnet.claims.claim import TUNING_SEED, Design, Power
from alexnet.claims.designs import CLAIMS
from alexnet.claims.fit import Budget, History
from alexnet.claims.runner import ClaimResult
from alexnet.claims.statistics import paired_effect, prediction_interval, ratio_effect
from alexnet.cli.main import main

NAMES = list(CLAIMS)


@pytest.fixture
def tiny(monkeypatch):
    """The ReLU claim shrunk to seconds, so that a record can be made and read back in a test."""
    quick = Design(
        dict(image_size=32, num_classes=4, train_images=64, val_images=8),
        Budget(train_images=64, image_size=32, num_classes=4, epochs=2, batch_size=32, width=0.25),
        lrs=(0.001, 0.01),
        seeds=3,
        power=Power((500, 501), spread=0.0, seconds_per_seed=1.0, target=1.0, target_source="a test", minimum=3),
    )
    monkeypatch.setitem(CLAIMS, "relu", dataclasses.replace(CLAIMS["relu"], quick=quick))
    return CLAIMS["relu"]


@pytest.mark.parametrize("name", NAMES)
def test_every_claim_has_a_record_of_its_current_design(name):
    path = evidence.record_path(name)
    command = f"python -m alexnet experiment {name} --record"
    assert path.is_file(), f"no record of {name!r}: `{command}` makes it"
    saved = json.loads(path.read_text())
    assert saved["fingerprint"] == evidence.fingerprint(name), (
        f"the design of {name!r} changed after its record was made: `{command}` records it anew "
        "(and its chapter says what changed and why)"
    )
    result = evidence.load(name)
    design = CLAIMS[name].quick
    assert result.seeds == list(range(design.seeds)) and len(result.seeds) >= 10  # no seed dropped
    assert design.power is not None and design.seeds == design.power.seeds  # the power calculation fixed the seeds
    assert all(len(v) == len(result.seeds) for v in result.values.values())
    assert all(len(h) == len(result.seeds) for h in result.histories.values())
    # the verdict is computed from the values, and the provenance says where they were made
    assert saved["verdict"] == result.effect.verdict and saved["ci95"] == pytest.approx(list(result.effect.ci95))
    assert saved["paper_inside"] == result.paper_inside()
    narrowing = result.narrowing()  # from the curves as kept (6 decimals): the same to within their rounding
    if narrowing is None:
        assert saved["narrowing"] is None
    else:
        assert saved["narrowing"]["mostly"] == narrowing["mostly"]
        for key in ("validation_error_lower_by", "training_error_higher_by", "validation_ci95", "training_ci95"):
            assert saved["narrowing"][key] == pytest.approx(narrowing[key], abs=1e-5), key
    for key in ("commit", "date", "cpu", "kernels", "threads", "torch", "seconds"):
        assert saved["provenance"][key] not in (None, ""), key


@pytest.mark.parametrize("name", NAMES)
def test_recorded_live_probe_and_tuning_seeds_are_disjoint(name):
    design = CLAIMS[name].quick
    recorded = set(range(design.seeds))
    live = set(range(evidence.LIVE_SEED_OFFSET, evidence.LIVE_SEED_OFFSET + 10))
    probes = set(design.power.probe_seeds)
    assert not recorded & live and not recorded & probes and not live & probes
    assert TUNING_SEED not in recorded | live | probes


def test_a_changed_design_changes_the_fingerprint(monkeypatch):
    before = evidence.fingerprint("dropout")
    changed = dataclasses.replace(CLAIMS["dropout"].quick, lrs=(0.02,))
    monkeypatch.setitem(CLAIMS, "dropout", dataclasses.replace(CLAIMS["dropout"], quick=changed))
    after = evidence.fingerprint("dropout")
    assert after != before
    monkeypatch.setitem(CLAIMS, "dropout", dataclasses.replace(CLAIMS["dropout"], why="other words"))
    assert evidence.fingerprint("dropout") == after  # prose is not part of it


def test_a_record_is_written_whole_and_read_back_with_its_curves(tiny, tmp_path):
    path = evidence.record("relu", log=None, path=tmp_path / "relu-quick.json")
    assert [p.name for p in tmp_path.iterdir()] == ["relu-quick.json"]  # no temporary file left behind
    again = evidence.load("relu", path=path)
    saved = json.loads(path.read_text())
    assert again.seeds == [0, 1, 2] and again.effect.verdict == saved["verdict"]
    assert again.values == {arm: [float(v) for v in vs] for arm, vs in saved["arms"].items()}
    assert again.histories["ReLU"][0].train_error == saved["curves"]["ReLU"][0]["train_error"]
    assert set(again.sweep["ReLU"]) == {0.001, 0.01} and again.provenance["threads"] >= 1
    assert saved["design"].startswith("claim (3.1, Figure 1)") and saved["power"]["seeds"] == 3


def test_a_damaged_or_missing_record_gets_one_line_naming_the_command(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match="experiment relu --record"):
        evidence.load("relu", path=tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "arms": ')
    with pytest.raises(ValueError, match="not a readable record.*experiment relu --record"):
        evidence.load("relu", path=bad)
    path = evidence.record("relu", log=None, path=tmp_path / "r.json")
    saved = json.loads(path.read_text())
    saved["effect"] += 1.0  # a hand-edited number
    path.write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="does not follow from its values"):
        evidence.load("relu", path=path)


def test_record_refuses_other_seeds_and_a_design_without_power_with_one_line(capsys, monkeypatch):
    assert main(["experiment", "relu", "--record", "--seeds", "3"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "drop --seeds" in err
    unplanned = dataclasses.replace(CLAIMS["relu"].quick, power=None)
    monkeypatch.setitem(CLAIMS, "relu", dataclasses.replace(CLAIMS["relu"], quick=unplanned))
    assert main(["experiment", "relu", "--record"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no power calculation" in err


def _result(name: str, values: dict[str, list[float]], offset: int = 0) -> ClaimResult:
    """A result built by hand (no training): each arm's metric per seed, and curves equal to it."""
    claim = CLAIMS[name]
    mech, base = values[claim.mechanism], values[claim.baseline]
    effect = ratio_effect(mech, base) if claim.ratio else paired_effect(mech, base)
    histories = {arm: [History(train_error=[v, v], train_eval_error=[v, v], val_error=[v, v]) for v in vs]
                 for arm, vs in values.items()}  # fmt: skip
    seeds = list(range(offset, offset + len(mech)))
    return ClaimResult(claim, "quick", seeds, values, effect, {}, 0.0, histories)


def test_the_live_check_passes_honest_reruns_and_fails_a_shifted_arm():
    rng = random.Random(0)
    arms = list(CLAIMS["lrn"].arms)

    def draw(n, offset, shift=0.0):
        return _result("lrn", {arms[0]: [0.30 + shift + rng.gauss(0, 0.03) for _ in range(n)],
                               arms[1]: [0.33 + rng.gauss(0, 0.03) for _ in range(n)]}, offset)  # fmt: skip

    recorded = draw(20, 0)
    rejected = 0
    for trial in range(200):  # honest reruns: at a false-alarm rate of 1/1000, 200 of them should all pass
        try:
            evidence.check_live(recorded, draw(2, 1000 + 2 * trial))
        except AssertionError:
            rejected += 1
    assert rejected <= 1
    line = evidence.check_live(recorded, draw(2, 1000))
    assert line.startswith("live run consistent with the record") and "20 recorded seeds" in line
    with pytest.raises(AssertionError, match="not consistent with the record"):
        evidence.check_live(recorded, draw(2, 1000, shift=0.3))  # an arm 10 standard deviations off
    with pytest.raises(ValueError, match="overlap the record"):
        evidence.check_live(recorded, draw(2, 0))


def test_prediction_interval_covers_new_means_as_promised():
    rng = random.Random(1)
    outside, trials = 0, 2000
    for _ in range(trials):
        before = [rng.gauss(0, 1) for _ in range(10)]
        low, high = prediction_interval(before, k=3, false_alarm=0.05)
        new = sum(rng.gauss(0, 1) for _ in range(3)) / 3
        outside += not low <= new <= high
    assert 0.03 < outside / trials < 0.07
    assert prediction_interval([1.0, 1.0, 1.0], 2) == (1.0, 1.0)


def test_a_record_read_on_any_machine_gives_the_same_verdict():
    """The verdict and interval recomputed from a record's values on this machine are the ones it was written with."""
    for name in NAMES:
        result = evidence.load(name)
        saved = json.loads(evidence.record_path(name).read_text())
        assert result.effect.verdict == saved["verdict"], name
        assert list(result.effect.ci95) == pytest.approx(saved["ci95"], rel=1e-9), name
        assert math.isfinite(result.effect.effect)


@pytest.mark.parametrize("name", NAMES)
def test_each_power_calculation_uses_the_spread_its_probe_runs_measured(name):
    import statistics

    probes = json.loads((evidence.RECORDS / "probes-quick.json").read_text())["probes"][name]
    claim, power = CLAIMS[name], CLAIMS[name].quick.power
    mech, base = probes["arms"][claim.mechanism], probes["arms"][claim.baseline]
    diffs = [math.log(b / m) if claim.ratio else b - m for m, b in zip(mech, base, strict=True)]
    assert probes["seeds"] == list(power.probe_seeds)
    assert power.spread == pytest.approx(statistics.stdev(diffs), rel=5e-4)
