"""The claims runner: seeds, tuning on a seed that is not reported, the JSON contract, the verdict."""

import dataclasses
import json

import pytest
import torch

from alexnet.claims import runner as claims
from alexnet.claims.claim import TUNING_SEED, Design
from alexnet.claims.designs import CLAIMS
from alexnet.claims.fit import Budget
from alexnet.claims.runner import CLAIMS_HEADER, claims_rows, claims_table, run_claim
from alexnet.cli.main import main


@pytest.fixture
def tiny(monkeypatch):
    """The ReLU claim shrunk to seconds: 64 images of 32 px, 2 epochs, a two-value learning-rate sweep."""
    relu = CLAIMS["relu"]
    quick = Design(
        dict(image_size=32, num_classes=4, train_images=64, val_images=8),
        Budget(train_images=64, image_size=32, num_classes=4, epochs=2, batch_size=32, width=0.25),
        lrs=(0.001, 0.01),
        seeds=2,
    )
    monkeypatch.setitem(CLAIMS, "relu", dataclasses.replace(relu, quick=quick))
    return CLAIMS["relu"]


@pytest.fixture
def trained(monkeypatch):
    """The (seed, learning rate) of every network the runner trains, in order."""
    seen, real = [], claims._train_arm

    def spy(claim, options, data, budget, seed, lr, eval_every=1):
        seen.append((seed, lr))
        return real(claim, options, data, budget, seed, lr, eval_every)

    monkeypatch.setattr(claims, "_train_arm", spy)
    return seen


def test_the_runner_tunes_on_its_own_seed_and_reports_every_seed(tiny, trained):
    seen = trained
    result = run_claim("relu", seed_offset=5, log=None)  # the design's number of seeds, 2
    assert [s for s, _ in seen[:4]] == [TUNING_SEED] * 4  # 2 arms x 2 learning rates, on the tuning seed only
    assert sorted({s for s, _ in seen[4:]}) == [5, 6] and len(seen) == 8
    assert set(result.learning_rates) == {"ReLU", "tanh"} and all(
        lr in (0.001, 0.01) for lr in result.learning_rates.values()
    )
    assert result.seeds == [5, 6] and all(len(v) == 2 for v in result.values.values())
    # the effect is the geometric mean of tanh/ReLU over the seeds, minus 1 (the verdict: the test below)
    ratios = [t / r for r, t in zip(result.values["ReLU"], result.values["tanh"], strict=True)]
    assert result.effect.effect == pytest.approx((ratios[0] * ratios[1]) ** 0.5 - 1)
    assert "ratio" in claims_table([result]) and result.effect.verdict in claims_table([result])


@pytest.mark.parametrize(
    "relu, tanh, interval, verdict, paper_inside",
    [
        ([1, 1, 1], [3, 4, 5], (2.0721, 7.3964), "shown", True),  # wholly above a ratio of 1, and 6 inside
        ([3, 4, 5], [1, 1, 1], (0.13520, 0.48260), "opposite", False),  # wholly below 1: tanh the faster
        ([1, 1, 1], [2, 4, 8], (0.71482, 22.383), "not shown", True),  # every seed's ratio is 2 or more, yet it holds 1
    ],
    ids=["shown", "opposite", "not-shown"],
)
def test_a_ratio_claims_verdict_is_where_its_interval_lies_against_a_ratio_of_1(
    tiny, monkeypatch, relu, tanh, interval, verdict, paper_inside
):
    """Figure 1's claim with given epochs to 25% on seeds 0-2: the interval of tanh / ReLU, worked by hand as
    exp(mean +- t s / sqrt(3)) of the per-seed log ratios with t = 4.303 (2 degrees of freedom), gives the verdict:
    "shown" above a ratio of 1, "opposite" below it, "not shown" when it holds 1."""
    epochs = {"relu": relu, "tanh": tanh}

    def given(claim, options, data, budget, seed, lr, eval_every=1):
        return claims.History(train_error=[float(epochs[options["activation"]][seed])])

    monkeypatch.setattr(claims, "_train_arm", given)
    measured = dataclasses.replace(tiny, measure=lambda history, budget: history.train_error[0])  # the given epochs
    monkeypatch.setitem(CLAIMS, "relu", measured)
    result = run_claim("relu", seeds=3, log=None, learning_rates={"ReLU": 0.01, "tanh": 0.01})
    low, high = result.effect.ci95
    assert (1 + low, 1 + high) == pytest.approx(interval, rel=1e-4)
    assert result.effect.verdict == verdict and result.to_json()["verdict"] == verdict
    assert claims_rows([result])[0][CLAIMS_HEADER.index("verdict")] == verdict
    assert result.paper_inside() is paper_inside  # Figure 1's ratio of about 6


def test_a_sweep_run_that_can_no_longer_win_stops_and_the_choice_is_the_same(tiny, monkeypatch):
    """Epochs to 25%: once one rate has reached it within 2 epochs, the next ones get 2 epochs, not the sweep's 4."""
    curves = {0.001: [0.5, 0.2, 0.1, 0.1], 0.003: [0.6, 0.4, 0.3, 0.2], 0.01: [0.3, 0.2, 0.1, 0.1]}
    given = []

    def fake(claim, options, data, budget, seed, lr, eval_every=1):  # a training error curve per rate
        given.append((seed, lr, budget.epochs))
        curve = curves[lr] if seed == TUNING_SEED else [0.5, 0.2, 0.1, 0.1]
        n = next((i + 1 for i, e in enumerate(curve) if e <= 0.25), len(curve))  # stop_below, as fit does
        return claims.History(train_error=curve[: min(n, budget.epochs)], train_loss=[1.0] * min(n, budget.epochs))

    design = dataclasses.replace(tiny.quick, lrs=tuple(curves), budget=dataclasses.replace(tiny.quick.budget, epochs=4))
    monkeypatch.setitem(CLAIMS, "relu", dataclasses.replace(tiny, quick=design))
    monkeypatch.setattr(claims, "_train_arm", fake)
    result = run_claim("relu", log=None)
    assert [e for s, _, e in given if s == TUNING_SEED] == [4, 2, 2] * 2  # 0.001 reached 25% after 1.83 epochs
    assert result.sweep_epochs["ReLU"] == {0.001: 4, 0.003: 2, 0.01: 2}
    assert result.sweep["ReLU"][0.003] == 3.0  # not reached in its 2 epochs: counted as 2 + 1
    assert result.learning_rates == {"ReLU": 0.01, "tanh": 0.01}  # the fastest, as a full sweep would choose
    assert claims._sweep_budget(
        dataclasses.replace(tiny, stop_below=None), design.budget, {0.001: 1.5}, {0.001: 4}
    ) == (design.budget)  # a metric that is not a time to a target: every run gets the whole sweep budget


def test_experiment_json_is_one_object_on_stdout_with_the_contracts_keys(tiny, capsys):
    assert main(["experiment", "relu", "--seeds", "2", "--seed-offset", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1
    obj = json.loads(out)
    assert set(obj) == {
        "experiment",
        "claim",
        "mode",
        "seeds",
        "metric",
        "arms",
        "effect",
        "ci95",
        "verdict",
        "paper_inside",
        "narrowing",
        "learning_rates",
        "seconds",
        "record",
    }
    assert obj["experiment"] == "relu" and obj["mode"] == "quick" and obj["seeds"] == [3, 4]
    assert set(obj["arms"]) == {"ReLU", "tanh"} and obj["verdict"] in ("shown", "not shown", "opposite")
    assert obj["ci95"][0] <= obj["effect"] <= obj["ci95"][1] and obj["seconds"] > 0
    # Figure 1's ratio of 6 is inside the interval or not, and a ratio claim has no gap to decompose
    assert obj["paper_inside"] == (1 + obj["ci95"][0] <= 6 <= 1 + obj["ci95"][1]) and obj["narrowing"] is None
    assert "tuning seed" in err and "seed 3" in err  # progress goes to stderr


@pytest.mark.parametrize(
    "argv, message, status",
    [
        (["experiment", "relu", "--seeds", "1"], "argument --seeds: expected a whole number of at least 2", 2),
        (["experiment", "relu", "--seed-offset", str(TUNING_SEED - 1)], "exclude the tuning seed", 1),
        (["experiment", "relu", "--seed-offset", "-1"], "argument --seed-offset: expected a whole number from 0", 2),
    ],
)
def test_bad_seed_options_get_one_line(argv, message, status, capsys):
    try:
        code = main(argv)
    except SystemExit as stop:  # refused while the command line is read
        code = stop.code
    err = capsys.readouterr().err.strip()
    assert code == status and len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("name", list(CLAIMS))
def test_every_claims_arms_build_and_take_a_batch_of_its_data(name):
    claim = CLAIMS[name]
    design = claim.quick
    train, val = claim.data(design.data, 0)
    assert len(train) >= design.budget.batch_size and val.images.dtype == torch.uint8
    for options in claim.arms.values():
        torch.manual_seed(0)
        model = claim.build(options, design.budget, train)
        history = claims.fit(model, train, val, dataclasses.replace(design.budget, epochs=1), max_steps=1)
        assert history.steps == 1 and torch.isfinite(torch.tensor(history.train_loss[0]))
    assert claim.mechanism != claim.baseline and claim.section and claim.metric


def test_a_design_states_its_seeds_and_the_power_calculation_that_fixed_them():
    aug = CLAIMS["augmentation"]
    assert f"seeds: 0-{aug.quick.seeds - 1} ({aug.quick.seeds} seeds;" in aug.describe()
    assert "how many seeds (fixed before the record was made)" in aug.describe()
    assert "seeds: 100-101 (2 seeds;" in CLAIMS["relu"].describe(seeds=2, seed_offset=100)


def test_given_learning_rates_skip_the_sweep_and_must_name_every_arm(tiny, trained):
    seen = trained
    result = run_claim("relu", seed_offset=5, log=None, learning_rates={"ReLU": 0.01, "tanh": 0.001})
    assert TUNING_SEED not in {s for s, _ in seen} and result.learning_rates == {"ReLU": 0.01, "tanh": 0.001}
    assert result.sweep == {}
    with pytest.raises(ValueError, match="must name every arm"):
        run_claim("relu", log=None, learning_rates={"ReLU": 0.01})


def test_a_gap_claim_says_whether_validation_error_fell_or_training_error_rose():
    from alexnet.claims.fit import History
    from alexnet.claims.statistics import paired_effect

    claim = CLAIMS["dropout"]
    mech, base = claim.mechanism, claim.baseline
    hist = {  # the mechanism: validation error 2 points lower, training error 10 points higher
        mech: [History(val_error=[0.5, 0.40, 0.40], train_eval_error=[0.2, 0.10 + d, 0.10 + d]) for d in (0, 0.01)],
        base: [History(val_error=[0.5, 0.42, 0.42], train_eval_error=[0.1, 0.00 + d, 0.00 + d]) for d in (0, 0.02)],
    }
    values = {arm: [h.val_error[-1] - h.train_eval_error[-1] for h in hs] for arm, hs in hist.items()}
    effect = paired_effect(values[mech], values[base])
    result = claims.ClaimResult(claim, "quick", [0, 1], values, effect, {}, 0.0, hist)
    n = result.narrowing()
    assert n["validation_error_lower_by"] == pytest.approx(0.02)
    assert n["training_error_higher_by"] == pytest.approx(0.095)
    assert n["validation_error_lower_by"] + n["training_error_higher_by"] == pytest.approx(effect.effect)
    assert n["mostly"] == "training error up" and result.paper_inside() is None  # the paper gives no number
