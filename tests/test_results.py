import re

import torchvision

from alexnet.results import PAPER, PAPER_ABLATIONS, PAPER_FALL_2009, format_reported, torchvision_reported


def test_torchvision_numbers_come_from_its_metadata():
    reported = torchvision_reported()
    acc = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]
    assert reported.top1 == round(100 - acc["acc@1"], 3)
    assert reported.top5 == round(100 - acc["acc@5"], 3)
    assert "centre crop 224" in reported.data and "torchvision" in reported.source


def test_every_paper_number_names_where_it_is_printed():
    for row in [*PAPER, *PAPER_ABLATIONS]:
        assert re.search(r"paper, (Table \d|Section \d)", row.source), row


def test_paper_tables_are_internally_consistent():
    by_name = {(r.model, r.data): r for r in PAPER}
    # Table 1 / footnote 5: ten patches beat the centre patch; Table 2: ensembles beat one net
    assert (
        by_name[("CNN (ten patches)", "ILSVRC-2010 test")].top5
        < by_name[("CNN (centre patch only)", "ILSVRC-2010 test")].top5
    )
    assert by_name[("7 CNNs* (the winning entry)", "ILSVRC-2012 test")].top5 == 15.3
    assert by_name[("SIFT + FVs (2012 runner-up)", "ILSVRC-2012 test")].top5 == 26.2


def test_fall_2009_rows_are_section_6_and_print():
    ours, best = PAPER_FALL_2009
    assert (ours.top1, ours.top5, best.top1, best.top5) == (67.4, 40.9, 78.1, 60.9)
    assert all("Section 6" in r.source for r in PAPER_FALL_2009)
    table = format_reported(PAPER_FALL_2009)
    assert "67.4%" in table and "60.9%" in table and len(table.splitlines()) == 3
