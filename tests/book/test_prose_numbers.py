"""Numbers in a chapter's prose come from its cells: a measured number is printed or glued, never typed.

Each re-execution of a chapter may change what its cells print (a live run, a new record), while a
number typed into the text would stay as it was. So every decimal number and every percentage in a
markdown cell must appear in the text of one of the chapter's outputs (printed, or glued with
myst-nb's ``glue``), or be listed below as a deliberate exception: the paper's own figures and other
published constants, each with its source. Code, maths, links and section numbers are not prose.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

# Published numbers a chapter quotes, by chapter: what they are and where they come from.
PUBLISHED = {
    "*": {
        "25%": "Figure 1: 25% training error",
        "15.3%": "Table 2: the winning top-5 test error",
        "26.2%": "Table 2: the runner-up's top-5 test error",
        "37.5%": "Table 1: top-1 test error",
        "17.0%": "Table 1: top-5 test error",
        "40.7%": "Table 2: one CNN's top-1 validation error",
        "18.2%": "Table 2: one CNN's top-5 validation error",
        "13%": "Section 3.3: CIFAR-10 test error without LRN",
        "11%": "Section 3.3: with LRN",
        "0.4%": "Section 3.4: overlapping pooling, top-1",
        "0.3%": "Section 3.4: top-5",
        "1.4%": "Section 3.3: LRN, top-1",
        "1.2%": "Section 3.3: LRN, top-5",
        "1%": "Section 4.1: PCA colour, 'over 1%'",
        "0.1": "Section 4.1: PCA noise standard deviation",
        "0.01": "Section 5: initial weights' standard deviation, learning rate",
        "0.9": "Section 5: momentum",
        "0.0005": "Section 5: weight decay",
        "0.5": "Section 4.2: dropout probability",
        "0.75": "Section 3.3: beta",
        "0.0001": "Section 3.3: alpha",
        "95%": "the confidence level of every interval in the book",
        "1.2": "Section 1: 1.2 million training images",
        "1.7%": "Section 3.2: two GPUs against one, top-1",
        "0.4": "Section 3.4: overlapping pooling's 0.4 points of top-1 error",
        "50%": "Section 4.2: each hidden neuron's output is set to zero with probability 0.5",
    },
    "08_training": {
        "0.005": "Caffe bvlc_alexnet, train_val.prototxt: fc6 and fc7 start from N(0, 0.005)",
        "1.28": "ILSVRC-2012: 1.28 million training images",
        "57.1%": "Caffe bvlc_alexnet, readme.md: top-1 accuracy",
        "80.2%": "Caffe bvlc_alexnet, readme.md: top-5 accuracy",
        "42.9%": "100% minus Caffe's 57.1%",
        "19.8%": "100% minus Caffe's 80.2%",
    },
    "10_results": {"8.9": "Section 6: the Fall 2009 release's 8.9 million images"},
    "11_troubleshooting": {"0.005": "Caffe bvlc_alexnet, train_val.prototxt: fc6 and fc7 start from N(0, 0.005)"},
}

_NOT_PROSE = [
    r"```.*?```",  # code blocks
    r"\$\$.*?\$\$",  # display maths
    r"\$[^$\n]*\$",  # inline maths
    r"`[^`]*`",  # code spans, glue roles' targets
    r"\]\([^)]*\)",  # link targets
    r"\bSections?\s+\d+(?:\.\d+)*(?:(?:,\s*|\s+and\s+|\s*(?:-|–|to)\s*)\d+(?:\.\d+)*)*",  # section numbers
]
_NUMBER = re.compile(r"(?<![\w.])[+\-−]?\d+(?:,\d{3})*(?:\.\d+)?%|(?<![\w.,])[+\-−]?\d+\.\d+(?![\w.]*\d)")


def prose_numbers(markdown: str) -> list[str]:
    text = markdown
    for pattern in _NOT_PROSE:
        text = re.sub(pattern, " ", text, flags=re.S)
    return [m.replace("−", "-").lstrip("+-") for m in _NUMBER.findall(text)]


def outputs_text(notebook: dict) -> str:
    parts = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts).replace("−", "-")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_in_the_prose_come_from_a_cell_or_a_source(chapter):
    notebook = json.loads(chapter.read_text())
    printed = outputs_text(notebook)
    allowed = {**PUBLISHED["*"], **PUBLISHED.get(chapter.stem, {})}
    typed = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for number in prose_numbers("".join(cell["source"])):
            if number not in allowed and number not in printed:
                typed.append(f"cell {i}: {number}")
    assert not typed, (
        f"{chapter.name}: numbers typed into the prose that no output carries (print or glue them, or list a "
        f"published one in PUBLISHED with its source): {', '.join(typed)}"
    )


def test_the_scanner_finds_typed_numbers_and_skips_code_maths_and_sections():
    text = "Seeds 0-2 gave +5.5 [−7.9, +18.8] and 36% (Sections 3.2 and 3.3; `x = 1.5`; $e = 2.71$)."
    assert prose_numbers(text) == ["5.5", "7.9", "18.8", "36%"]
