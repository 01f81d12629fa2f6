"""Open the built book in headless Chromium (Debian's chromium package) and check what a reader sees.

Each chapter must render: its maths typeset by MathJax (served from the site itself, so this
works offline), its figures present as images that exist, and no "undefined citation" marks;
and at a 1280-pixel-wide window no block (code, output, table, formula) may need scrolling
sideways. CI installs chromium (.ci/run); elsewhere the test is skipped when chromium is missing.
"""

import html
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

CHAPTERS = sorted((pathlib.Path(__file__).resolve().parents[2] / "book").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must have chromium installed (Debian package 'chromium'); see .ci/run")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
]


def chromium(tmp_path, *args) -> str:
    profile = tmp_path / "profile"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# Run in the page once it has loaded (and MathJax has typeset): every element of the article
# that scrolls sideways, i.e. whose content is wider than its box while overflow-x lets it scroll,
# and the page itself; the report goes into the DOM that --dump-dom prints.
MEASURE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const wide = [];
  for (const el of (document.querySelector("main") || document.body).querySelectorAll("*")) {
    if (!["auto", "scroll"].includes(getComputedStyle(el).overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 100);
      wide.push(`${el.tagName.toLowerCase()} ${el.scrollWidth} px in ${el.clientWidth} px: ${text}`);
    }
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) wide.push(`the page: ${page.scrollWidth} px in ${page.clientWidth} px`);
  const report = document.createElement("pre");
  report.id = "sideways-report";
  report.textContent = JSON.stringify(wide);
  document.body.appendChild(report);
}, 1000));
</script>"""

PAGES = [*(chapter.stem for chapter in CHAPTERS), "intro", "bibliography"]


_DOMS: dict[pathlib.Path, str] = {}


def measured_dom(tmp_path, page: pathlib.Path) -> str:
    """The page as Chromium renders it at 1280 px, with the sideways report of MEASURE added to it; each page
    is opened once for all the tests that read it."""
    if page not in _DOMS:
        probe = page.with_name(f"_sideways_{page.stem}.html")  # beside the page, so that its relative links work
        probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
        _DOMS[page] = chromium(
            tmp_path, "--window-size=1280,900", "--virtual-time-budget=20000", "--dump-dom", probe.as_uri()
        )
    return _DOMS[page]


@pytest.mark.parametrize("name", PAGES)
def test_no_block_scrolls_sideways_at_1280_pixels(built_book, tmp_path, name):
    dom = measured_dom(tmp_path, built_book / "book" / f"{name}.html")
    report = re.search(r'<pre id="sideways-report">(.*?)</pre>', dom, re.S)
    assert report, "the measuring script did not run"
    wide = json.loads(html.unescape(report.group(1)))
    assert not wide, f"{len(wide)} block(s) need horizontal scrolling at 1280 px:\n" + "\n".join(wide)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_renders_with_figures_and_maths(built_book, tmp_path, chapter):
    page = built_book / "book" / f"{chapter.stem}.html"
    dom = measured_dom(tmp_path, page)
    assert "<title>" in dom and "AlexNet, reproduced" in dom
    source = page.read_text()
    if "\\(" in source or "\\[" in source or 'class="math' in source:
        assert "<mjx-container" in dom, "maths on this page was not typeset by MathJax"
        assert "<mjx-merror" not in dom, "MathJax reported an error in a formula"
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    figures = [src for src in images if "jupyter_execute" in src or "_images" in src]
    if '"image/png"' in chapter.read_text():
        assert figures, "the notebook has plots but the page shows none"
    for src in figures:
        assert (page.parent / src).resolve().stat().st_size > 1000, src
    assert "??" not in re.sub(r"<script.*?</script>", "", dom, flags=re.S), "an unresolved reference (??) is shown"


def test_intro_page_renders(built_book, tmp_path):
    dom = measured_dom(tmp_path, built_book / "book" / "intro.html")
    assert "Quick mode and full mode" in dom
