import re

import torchvision

from alexnet.chapters.published import PAPER, PAPER_ABLATIONS, PAPER_FALL_2009, format_reported, torchvision_reported


def test_torchvision_numbers_come_from_its_metadata():
    reported = torchvision_reported()
    acc = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]
    assert reported.top1 == round(100 - acc["acc@1"], 3)
    assert reported.top5 == round(100 - acc["acc@5"], 3)
    assert "centre crop 224" in reported.data and "torchvision" in reported.source


def test_every_paper_number_names_where_it_is_printed():
    for row in [*PAPER, *PAPER_ABLATIONS]:
        assert re.search(r"paper, (Table \d|Section \d)", row.source), row


# Section 6's prose, quoted from the paper: a second source for the numbers its tables give.
SECTION_6 = {
    (
        "CNN (ten patches)",
        "ILSVRC-2010 test",
    ): "Our network achieves top-1 and top-5 test set error rates of 37.5% and 17.0%",
    ("Sparse coding (ILSVRC-2010 winner)", "ILSVRC-2010 test"): "The best performance achieved during the "
    "ILSVRC-2010 competition was 47.1% and 28.2%",
    ("SIFT + FVs", "ILSVRC-2010 test"): "since then the best published results are 45.7% and 25.7%",
    ("1 CNN", "ILSVRC-2012 val"): "The CNN described in this paper achieves a top-5 error rate of 18.2%",
    ("5 CNNs", "ILSVRC-2012 val"): "Averaging the predictions of five similar CNNs gives an error rate of 16.4%",
    ("1 CNN* (pre-trained on Fall 2011)", "ILSVRC-2012 val"): "and then fine-tuning it on ILSVRC-2012 gives an "
    "error rate of 16.6%",
    ("7 CNNs*", "ILSVRC-2012 val"): "with the aforementioned five CNNs gives an error rate of 15.4%",
    (
        "SIFT + FVs (2012 runner-up)",
        "ILSVRC-2012 test",
    ): "The second-best contest entry achieved an error rate of 26.2%",
}


def test_paper_tables_agree_with_the_papers_prose():
    """Each quoted sentence's numbers are the row's: top-1 and top-5 where it gives two, top-5 where one."""
    rows = {(r.model, r.data): r for r in PAPER}
    assert set(SECTION_6) <= set(rows)
    for key, sentence in SECTION_6.items():
        numbers = [float(x) for x in re.findall(r"(\d+\.\d)%", sentence)]
        expected = [rows[key].top1, rows[key].top5] if len(numbers) == 2 else [rows[key].top5]
        assert numbers == expected, (key, sentence)
    # Table 1 / footnote 5: ten patches beat the centre patch; Table 2: the ensembles beat one net
    ten, centre = rows[("CNN (ten patches)", "ILSVRC-2010 test")], rows[("CNN (centre patch only)", "ILSVRC-2010 test")]
    assert ten.top1 < centre.top1 and ten.top5 < centre.top5
    assert (
        rows[("7 CNNs*", "ILSVRC-2012 val")].top5
        < rows[("5 CNNs", "ILSVRC-2012 val")].top5
        < rows[("1 CNN", "ILSVRC-2012 val")].top5
    )


def test_fall_2009_rows_are_section_6_and_print():
    ours, best = PAPER_FALL_2009
    assert (ours.top1, ours.top5, best.top1, best.top5) == (67.4, 40.9, 78.1, 60.9)
    assert all("Section 6" in r.source for r in PAPER_FALL_2009)
    table = format_reported(PAPER_FALL_2009)
    assert "67.4%" in table and "60.9%" in table and len(table.splitlines()) == 3
