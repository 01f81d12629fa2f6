"""The book's structure: config, table of contents, chapter conventions, and a build with -W."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def config_value(key: str) -> str:
    text = (ROOT / "_config.yml").read_text()
    section, field = key.split(".")
    block = re.search(rf"^{section}:\n((?:[ \t]+.*\n)+)", text, re.M).group(1)
    return re.search(rf"^\s+{field}:\s*\"?([^\"\n]+)\"?", block, re.M).group(1).strip()


def toc_files() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_chapter_is_in_the_toc_and_every_entry_exists():
    listed = toc_files()
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry
    for chapter in CHAPTERS:
        assert str(chapter.relative_to(ROOT).with_suffix("")) in listed


def test_config_is_jupyter_book_1_without_execution():
    text = (ROOT / "_config.yml").read_text()
    assert re.search(r'execute_notebooks:\s*"?off"?', text)
    assert "book/references.bib" in text
    assert config_value("launch_buttons.colab_url").startswith("https://colab.research.google.com")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_badge_colab_cell_and_mode(chapter):
    repo = config_value("repository.url")
    owner_repo = repo.removeprefix("https://github.com/")
    first, colab, mode, hardware = cells(chapter)[:4]
    badge = f"https://colab.research.google.com/github/{owner_repo}/blob/main/book/{chapter.name}"
    assert badge in "".join(first["source"]), "the Open in Colab badge must point at this notebook"
    assert "[![Open In Colab](images/colab-badge.svg)]" in "".join(first["source"]), (
        "the badge image is the one shipped in book/images (a remote one is broken offline)"
    )
    assert (ROOT / "book" / "images" / "colab-badge.svg").stat().st_size > 0
    colab_src = "".join(colab["source"])
    assert colab_src.startswith("# NBVAL_SKIP") and "google.colab" in colab_src
    assert "remove-cell" in colab.get("metadata", {}).get("tags", []), "the HTML book hides the Colab cell"
    assert f'REPO = "{repo}"' in colab_src, "the install cell must use the repository url of _config.yml"
    assert 'f"alexnet[book] @ git+{REPO}"' in colab_src, "Colab lacks torchinfo and fvcore: install the book extra"
    assert "cuda.is_available" in colab_src
    assert "mode_name()" in "".join(mode["source"])
    assert "".join(hardware["source"]).startswith("# NBVAL_IGNORE_OUTPUT")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_exercises_with_a_hidden_solution(chapter):
    markdown = "".join("".join(c["source"]) for c in cells(chapter) if c["cell_type"] == "markdown")
    assert "## Exercises" in markdown
    assert ":class: dropdown" in markdown


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_its_own_hidden_solution(chapter):
    markdown = "\n".join("".join(c["source"]) for c in cells(chapter) if c["cell_type"] == "markdown")
    exercises = markdown[markdown.index("## Exercises") :].split("```")[0]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", exercises, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers, "exercises are numbered 1, 2, ..."
    solved = re.findall(r"```\{admonition\} Solution to exercise (\d+)\n:class: dropdown\n", markdown)
    assert sorted(int(n) for n in solved) == numbers, f"one dropdown solution per exercise, got {solved}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_cites_the_paper_and_defines_no_code(chapter):
    sources = cells(chapter)
    markdown = "".join("".join(c["source"]) for c in sources if c["cell_type"] == "markdown")
    assert re.search(r"\{cite:[pt]\}`[^`]*krizhevsky2012imagenet", markdown)
    assert re.search(r"Section \d|Figure \d|Table \d", markdown)
    for cell in sources:
        if cell["cell_type"] == "code":
            assert not re.search(r"^(def|class) \w+", "".join(cell["source"]), re.M), (
                "chapters import code from alexnet"
            )


def test_book_builds_with_warnings_as_errors(built_book):
    for entry in toc_files():
        assert (built_book / f"{entry}.html").exists(), entry
    for chapter in CHAPTERS:
        page = (built_book / "book" / f"{chapter.stem}.html").read_text()
        assert "colab.research.google.com/github/" in page
        badge = re.search(r'<img alt="Open In Colab" src="([^"]+)"', page)
        assert badge and not badge.group(1).startswith("http"), "the badge image must ship with the book"
        assert (built_book / "book" / badge.group(1)).resolve().is_file(), badge.group(1)
        assert "Mode: " in page  # the committed outputs are shown


def test_citations_in_the_text_use_the_bibliographys_labels(built_book):
    """One citation style: the text shows the same label, e.g. [KSH12], as the bibliography lists."""
    bibliography = (built_book / "book" / "bibliography.html").read_text()
    labels = {
        re.sub(r"<[^>]+>", "", label)  # the label alone, or as a link back to its one citation
        for label in re.findall(r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<span', bibliography)
    }
    assert labels, "the bibliography page lists no labelled entries"
    cited = 0
    for page in sorted((built_book / "book").glob("*.html")):
        for span in re.findall(r'<span class="bibtex-citation".*?</span>', page.read_text(), flags=re.S):
            shown = re.findall(r'<a class="reference internal"[^>]*>([^<]+)</a>', span)
            assert shown and set(shown) <= labels, f"{page.name}: {span[:300]}"
            cited += 1
    assert cited > 20


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def visible_prose(markdown: str) -> str:
    """The text of a markdown cell outside collapsed blocks (a fenced directive whose name or options say
    ``dropdown``): what a reader sees without a click."""
    shown, fences, lines, i = [], [], markdown.split("\n"), 0
    while i < len(lines):
        opening = re.match(r"^(`{3,}|:{3,})\{([^}]*)\}", lines[i].strip())
        if opening:
            collapsed = "dropdown" in opening.group(2)
            i += 1
            while i < len(lines) and lines[i].strip().startswith(":") and not lines[i].strip().startswith(":::"):
                collapsed = collapsed or "dropdown" in lines[i]
                i += 1
            fences.append((opening.group(1), collapsed or any(c for _, c in fences)))
            continue
        if fences and lines[i].strip() == fences[-1][0]:
            fences.pop()
        elif not (fences and fences[-1][1]):
            shown.append(lines[i])
        i += 1
    return "\n".join(shown)


def test_visible_prose_skips_collapsed_blocks():
    text = "one two\n```{admonition} Hidden\n:class: dropdown\n\nthree four\n```\nfive\n```{note}\nsix\n```"
    assert _WORD.findall(visible_prose(text)) == ["one", "two", "five", "six"]


@pytest.mark.parametrize("chapter", ["03_relu", "04_lrn", "05_overlapping_pooling", "06_augmentation", "07_dropout"])
def test_a_mechanism_chapter_shows_at_most_1500_words_of_prose(chapter):
    """The idea and its evidence first; the method one click away, in collapsed blocks."""
    markdown = [
        visible_prose("".join(c["source"]))
        for c in cells(ROOT / "book" / f"{chapter}.ipynb")
        if c["cell_type"] == "markdown"
    ]
    words = sum(len(_WORD.findall(text)) for text in markdown)
    assert words <= 1500, f"{chapter}: {words} words of visible prose; move method and history into a dropdown"


# Markdown cells tagged "method" hold the prose about how the evidence is made and how far to trust it: the
# experiment's data, arms and metric, its seeds and learning rates, the record, the statistics, caveats of scale
# and rounding, the live run and how to re-check on new seeds. Everything else a reader sees is the claim, the
# mechanism (its idea, maths, code and measurements), the evidence (tables, figures, verdicts), what it means, and
# the exercises. A cell that mixes the two is split in two.
_METHOD_WORDS = re.compile(r"seed-offset|processor's rounding|power calculation|probe seeds|tuning seed|records/")


def _visible_words(cell) -> int:
    return len(_WORD.findall(visible_prose("".join(cell["source"]))))


@pytest.mark.parametrize("chapter", ["03_relu", "04_lrn", "05_overlapping_pooling", "06_augmentation", "07_dropout"])
def test_a_mechanism_chapter_spends_under_a_quarter_of_its_visible_prose_on_method(chapter):
    markdown = [c for c in cells(ROOT / "book" / f"{chapter}.ipynb") if c["cell_type"] == "markdown"]
    method = [c for c in markdown if "method" in c.get("metadata", {}).get("tags", [])]
    for c in markdown:
        if c not in method and not "".join(c["source"]).startswith("## Exercises"):
            shown = visible_prose("".join(c["source"]))
            assert not _METHOD_WORDS.search(shown), f"{chapter}: untagged prose about method: {shown[:200]!r}"
    share = sum(map(_visible_words, method)) / sum(map(_visible_words, markdown))
    assert method and share < 0.25, f"{chapter}: {share:.0%} of the visible prose is method; move it into a dropdown"
