"""alexnet.claims.secondary: the secondary claims, recomputed here from the records' JSON by hand."""

import json
import math
import statistics

import pytest

from alexnet.chapters.plots import table
from alexnet.claims import evidence
from alexnet.claims.designs import CLAIMS
from alexnet.claims.secondary import CONVERGE_AT, secondary_claims


@pytest.fixture(scope="module")
def rows():
    return secondary_claims({name: evidence.load(name) for name in CLAIMS})


def _curves(name):
    return json.loads(evidence.record_path(name).read_text())["curves"]


def _mean_last_two(values):
    return (values[-2] + values[-1]) / 2


def test_pooling_gap_is_the_paired_difference_of_last_two_epoch_gaps(rows):
    curves = _curves("pooling")
    over, plain = list(CLAIMS["pooling"].arms)
    gap = {arm: [_mean_last_two(c["val_error"]) - _mean_last_two(c["train_eval_error"]) for c in curves[arm]]
           for arm in (over, plain)}  # fmt: skip
    differences = [p - o for o, p in zip(gap[over], gap[plain], strict=True)]
    assert rows[0].effect.effect == pytest.approx(statistics.mean(differences))
    assert rows[0].section == "3.4" and not rows[0].ratio


def test_dropout_convergence_is_a_geometric_mean_of_epoch_ratios(rows):
    curves, budget = _curves("dropout"), CLAIMS["dropout"].quick.budget
    chance = 1 - 1 / budget.num_classes

    def epochs(errors):  # linear interpolation from chance before the first epoch
        points = [(0, chance)] + list(enumerate(errors, 1))
        for (e0, v0), (e1, v1) in zip(points, points[1:], strict=False):
            if v1 <= CONVERGE_AT:
                return e0 + (v0 - CONVERGE_AT) / (v0 - v1) * (e1 - e0)
        return budget.epochs + 1.0

    drop, plain = list(CLAIMS["dropout"].arms)
    logs = [
        math.log(epochs(d["train_error"]) / epochs(p["train_error"]))
        for d, p in zip(curves[drop], curves[plain], strict=True)
    ]
    assert 1 + rows[1].effect.effect == pytest.approx(math.exp(statistics.mean(logs)))
    assert rows[1].ratio and rows[1].row()[3].startswith("ratio ")


def test_pca_colour_compares_validation_error_with_and_without_the_noise(rows):
    curves = _curves("augmentation")
    with_pca = [_mean_last_two(c["val_error"]) for c in curves["crops + flips + PCA"]]
    without = [_mean_last_two(c["val_error"]) for c in curves["crops + flips"]]
    assert rows[2].effect.effect == pytest.approx(
        statistics.mean(w - p for w, p in zip(without, with_pca, strict=True))
    )


def test_a_table_for_readers_is_markdown_with_its_pipes_escaped():
    shown = table(["a", "b"], [["x|y", 1]]).data
    assert shown.splitlines() == ["| a | b |", "| --- | --- |", "| x\\|y | 1 |"]
