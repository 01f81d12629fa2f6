"""Every chapter runs top to bottom in full mode, rehearsed on a CPU, as a learner on Colab would run it.

``ALEXNET_REHEARSAL=1`` keeps full mode's code (the recipes, image sizes, datasets, checkpoints and
figures) and shrinks only the amounts (:data:`alexnet.chapters.mode.REHEARSAL`). The kernel looks like Colab
(tests/book/rehearsal_kernel.py): the install cell and the Drive cells run, and CIFAR-10 and Imagenette
come as stand-ins in their real formats (tests/book/standins.py) from a local HTTP server, through the
package's download, checksum, extraction and cache code. A cell that fails fails the test, with
the chapter's own traceback.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from . import standins

TESTS = Path(__file__).resolve().parent  # this folder: rehearsal_kernel.py and fake_colab/
BOOK = Path(__file__).resolve().parents[2] / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


@dataclasses.dataclass
class Colab:
    root: Path
    setup: dict  # rehearsal_kernel.setup's arguments, but the Drive folder
    requests: list[str]


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """The stand-in archives behind a local HTTP server, and a shared working folder (the data is downloaded once)."""
    from torchvision.datasets import Imagenette

    root = tmp_path_factory.mktemp("colab")
    served = root / "served"
    served.mkdir()
    _, cifar_md5, cifar_counts = standins.cifar10_archive(served)
    _, imagenette_md5, imagenette_counts = standins.imagenette_archive(
        served, list(Imagenette._WNID_TO_CLASS), {"train": 2, "val": 1}
    )
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            requests.append(f"{self.command} {self.path}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (root / "content").mkdir()
    setup = {
        "fake_colab": str(TESTS / "fake_colab"),
        "base_url": f"http://127.0.0.1:{server.server_port}",
        "cifar": {"md5": cifar_md5, "counts": cifar_counts},
        "imagenette": {"md5": imagenette_md5, "counts": imagenette_counts},
        "hub": str(root / "hub"),
    }
    yield Colab(root, setup, requests)
    server.shutdown()


def rehearse(chapter: Path, colab: Colab, drive: Path, monkeypatch, cells: int | None = None, edit=None) -> float:
    """Execute ``chapter`` (its first ``cells`` cells) in a rehearsal kernel; returns the seconds it took."""
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    nb = nbformat.read(chapter, as_version=4)
    if cells is not None:
        nb.cells = nb.cells[:cells]
    for cell in nb.cells:
        cell.source = edit(cell.source) if edit else cell.source
    setup = json.dumps({**colab.setup, "drive": str(drive)})
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        f"import json, sys\nsys.path.insert(0, {str(TESTS)!r})\nimport rehearsal_kernel\n"
        f"rehearsal_kernel.setup(**json.loads({setup!r}))"
    ))  # fmt: skip
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(colab.root / "content")}}
    )
    try:
        client.execute()
    finally:  # the executed chapter, with each cell's timing, for a look after a failure
        (colab.root / "executed").mkdir(exist_ok=True)
        nbformat.write(nb, colab.root / "executed" / chapter.name)
    return time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_the_chapter_runs_in_full_mode_rehearsed(chapter, colab, monkeypatch):
    seconds = rehearse(chapter, colab, colab.root / "drive", monkeypatch)
    print(f"{chapter.name}: {seconds:.1f} s")


@pytest.mark.slow
def test_the_chapters_downloaded_both_stand_ins_once(colab, monkeypatch):
    """Through the real download path: each archive fetched once, then the cache serves every later chapter."""
    if not colab.requests:  # run alone: rehearse the two chapters that download
        for name in ("03_relu.ipynb", "08_training.ipynb"):
            rehearse(BOOK / name, colab, colab.root / "drive", monkeypatch)
    # torchvision's download_url asks twice: a request that follows redirects (a GET, with a header "Method: HEAD"
    # that servers ignore), then the download; a second download would add two more
    fetched = Counter(colab.requests)
    assert fetched == {"GET /cifar-10-python.tar.gz": 2, "GET /imagenette2-320.tgz": 2}, colab.requests
    assert (colab.root / "content" / "data" / "cifar-10-batches-py" / "test_batch").is_file()
    assert (colab.root / "content" / "data" / "imagenette2-320" / "val").is_dir()


CHAPTER_8 = BOOK / "08_training.ipynb"


def _metrics(drive: Path) -> list[dict]:
    lines = (drive / "MyDrive" / "alexnet-runs" / "08_training" / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(line).items() if "seconds" not in k and k != "images_per_second"} for line in lines
    ]


@pytest.mark.slow
def test_chapter_8_resumes_from_drive_after_the_session_died(colab, monkeypatch, tmp_path):
    """A session that dies after the first training cell (epoch 3 of 4 on Drive): running the chapter again in a new
    kernel resumes from Drive, and the metrics equal those of the run that was never interrupted."""
    whole = colab.root / "drive"  # where the rehearsal of every chapter ran chapter 8 uninterrupted
    if not (whole / "MyDrive" / "alexnet-runs" / "08_training" / "metrics.jsonl").is_file():  # this test alone
        rehearse(CHAPTER_8, colab, whole, monkeypatch)
    nb = nbformat.read(CHAPTER_8, as_version=4)
    first_training = next(i for i, c in enumerate(nb.cells) if "stop_after=3" in c.source)
    died = tmp_path / "died"
    rehearse(CHAPTER_8, colab, died, monkeypatch, cells=first_training + 1)  # the kernel is gone after this
    assert [r["epoch"] for r in _metrics(died)] == [1, 2, 3]
    # a new session runs the chapter again up to the end of the training (the rest is rehearsed above)
    rehearse(CHAPTER_8, colab, died, monkeypatch, cells=first_training + 2)
    assert _metrics(died) == _metrics(whole)


@pytest.mark.slow
def test_a_broken_full_mode_branch_fails_the_rehearsal(colab, monkeypatch, tmp_path):
    """Quick mode never runs chapter 8's full-mode description; a misspelt field there fails the rehearsal."""
    nb = nbformat.read(CHAPTER_8, as_version=4)
    cell = next(i for i, c in enumerate(nb.cells) if "full: Imagenette" in c.source)
    assert "{config.epochs} epochs" in nb.cells[cell].source
    with pytest.raises(CellExecutionError, match="has no attribute 'epoch'"):
        rehearse(CHAPTER_8, colab, tmp_path, monkeypatch, cells=cell + 1,
                 edit=lambda source: source.replace("{config.epochs} epochs\"\n    )\nprint", "{config.epoch} epochs\"\n    )\nprint"))  # fmt: skip


@pytest.mark.slow
def test_an_imagenet_style_folder_trains_with_the_papers_recipe_rehearsed(colab, monkeypatch, tmp_path):
    """A learner's own ImageNet copy (``root/train/<wnid>/``, ``root/val/<wnid>/``, what ``"imagefolder"`` reads):
    Section 5's recipe, the paper's network at 227 px, rehearsed; here the stand-in Imagenette's folders."""
    import tarfile

    from alexnet.training.config import TrainConfig
    from alexnet.training.loop import train

    with tarfile.open(colab.root / "served" / "imagenette2-320.tgz") as tar:
        tar.extractall(tmp_path, filter="data")
    monkeypatch.setenv("ALEXNET_QUICK", "0")
    monkeypatch.setenv("ALEXNET_REHEARSAL", "1")
    result = train(
        TrainConfig(dataset="imagefolder", data_root=tmp_path / "imagenette2-320", out=tmp_path / "run", progress=False)
    )
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4] and len(result.classes) == 10
    assert result.model.config.image_size == 227 and "val_ten_crop_top1_error" in result.final
