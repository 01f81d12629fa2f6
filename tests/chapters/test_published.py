"""The published numbers (alexnet.chapters.published) against the paper's tables and prose and torchvision's card."""

import importlib.metadata
import re

import pytest
import torchvision

from alexnet.chapters.published import (
    PAPER_ABLATIONS,
    PAPER_FALL_2009,
    PAPER_RESULTS,
    format_reported,
    torchvision_reported,
)

# torchvision's model card for alexnet (pytorch.org/vision/stable/models/generated/torchvision.models.alexnet.html),
# AlexNet_Weights.IMAGENET1K_V1: Acc@1 56.522, Acc@5 79.066 on ImageNet-1K, resize 256, central crop 224.
TORCHVISION_CARD = {"acc@1": 56.522, "acc@5": 79.066, "resize": 256, "crop": 224}


def test_torchvision_numbers_are_its_model_cards_as_error_rates():
    """The error rates are 100 minus the card's accuracies (top-1 from acc@1, top-5 from acc@5), for the evaluation
    the card describes, and the source names the installed torchvision and the accuracies it read."""
    reported = torchvision_reported()
    assert (reported.top1, reported.top5) == pytest.approx((43.478, 20.934))  # 100 - 56.522, 100 - 79.066
    assert reported.data == "ImageNet-1K val (resize 256, centre crop 224)"
    assert f"torchvision {importlib.metadata.version('torchvision')} " in reported.source
    assert "acc@1 56.522" in reported.source and "acc@5 79.066" in reported.source


def test_the_installed_torchvision_still_publishes_the_model_cards_numbers():
    """A torchvision release that re-evaluated its weights would change the chapter's row: this says so first."""
    weights = torchvision.models.AlexNet_Weights.IMAGENET1K_V1
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    preprocess = weights.transforms()
    card = TORCHVISION_CARD
    assert (metrics["acc@1"], metrics["acc@5"]) == (card["acc@1"], card["acc@5"])
    assert (preprocess.resize_size, preprocess.crop_size) == ([card["resize"]], [card["crop"]])


def test_every_paper_number_names_where_it_is_printed():
    for row in [*PAPER_RESULTS, *PAPER_ABLATIONS]:
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
    rows = {(r.model, r.data): r for r in PAPER_RESULTS}
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


# Tables 1 and 2 of Krizhevsky, Sutskever & Hinton (2012), "ImageNet Classification with Deep Convolutional Neural
# Networks", NIPS 25, typed here as the paper prints them (None: the table's dash), with the paper's reference numbers.
TABLE_1 = {  # "Comparison of results on ILSVRC-2010 test set": top-1, top-5
    "Sparse coding [2]": (47.1, 28.2),
    "SIFT + FVs [24]": (45.7, 25.7),
    "CNN": (37.5, 17.0),
}
TABLE_2 = {  # "Comparison of error rates on ILSVRC-2012 validation and test sets": top-1 (val), top-5 (val), top-5 (test)
    "SIFT + FVs [7]": (None, None, 26.2),
    "1 CNN": (40.7, 18.2, None),
    "5 CNNs": (38.1, 16.4, 16.4),
    "1 CNN*": (39.0, 16.6, None),
    "7 CNNs*": (36.7, 15.4, 15.3),
}
# the package's name for each table row (its rows name the method, not the reference)
NAMES = {
    "Sparse coding [2]": "Sparse coding (ILSVRC-2010 winner)",
    "SIFT + FVs [24]": "SIFT + FVs",
    "CNN": "CNN (ten patches)",
    ("SIFT + FVs [7]", "test"): "SIFT + FVs (2012 runner-up)",
    ("1 CNN", "val"): "1 CNN",
    ("5 CNNs", "val"): "5 CNNs",
    ("5 CNNs", "test"): "5 CNNs",
    ("1 CNN*", "val"): "1 CNN* (pre-trained on Fall 2011)",
    ("7 CNNs*", "val"): "7 CNNs*",
    ("7 CNNs*", "test"): "7 CNNs* (the winning entry)",
}


def test_every_table_row_is_the_papers_table():
    """PAPER_RESULTS's Table 1 and Table 2 rows are the tables' cells, each once: Table 1 is ILSVRC-2010 test; Table 2 gives
    validation top-1 and top-5 and, where the entry was submitted, test top-5 (its test top-1 was not published)."""
    expected = {(NAMES[m], "ILSVRC-2010 test", t1, t5, "paper, Table 1") for m, (t1, t5) in TABLE_1.items()}
    for m, (val1, val5, test5) in TABLE_2.items():
        if val5 is not None:
            expected.add((NAMES[(m, "val")], "ILSVRC-2012 val", val1, val5, "paper, Table 2"))
        if test5 is not None:
            expected.add((NAMES[(m, "test")], "ILSVRC-2012 test", None, test5, "paper, Table 2"))
    rows = [(r.model, r.data, r.top1, r.top5, r.source) for r in PAPER_RESULTS if "Table" in r.source]
    assert len(rows) == len(set(rows)) and set(rows) == expected


# Section 6, its last paragraph, quoted: the one result on the Fall 2009 release of ImageNet and the best before it.
FALL_2009 = (
    "Our top-1 and top-5 error rates on this dataset are 67.4% and 40.9%, attained by the net described above but "
    "with an additional, sixth convolutional layer over the last pooling layer. The best published results on this "
    "dataset are 78.1% and 60.9% [19]."
)


def test_fall_2009_rows_are_section_6s_sentences_and_print():
    """The two rows carry the quoted sentences' numbers in order (ours, then the best published), and print as such."""
    ours, best = PAPER_FALL_2009
    quoted = [float(x) for x in re.findall(r"(\d+\.\d)%", FALL_2009)]
    assert [ours.top1, ours.top5, best.top1, best.top5] == quoted
    assert "sixth conv" in ours.model and all(r.data == "ImageNet Fall 2009" for r in PAPER_FALL_2009)
    assert all(r.source.startswith("paper, Section 6") for r in PAPER_FALL_2009)
    _, first, second = format_reported(PAPER_FALL_2009).splitlines()
    assert "67.4%" in first and "40.9%" in first and "78.1%" in second and "60.9%" in second
