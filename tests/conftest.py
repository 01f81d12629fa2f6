"""Shared fixtures: one build of the book per test session, the tiny training run's configuration; the tests do not
depend on the user's shell."""

import dataclasses
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
JUPYTER_BOOK = str(pathlib.Path(sys.executable).with_name("jupyter-book"))

# tqdm takes any of its options from TQDM_* variables (TQDM_DISABLE=1 hides every bar), and some tests
# read the bars; a user's setting is theirs, not the tests'.
for name in [n for n in os.environ if n.startswith("TQDM_")]:
    del os.environ[name]

# Under pytest-xdist (-n auto in pyproject.toml) the workers share the CPU: each worker, and the notebook
# kernels it starts, gets its share of the threads instead of all of them (2 cores, 2 workers: 1 thread each).
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1 and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // _workers))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> pathlib.Path:
    """Build the book with warnings as errors into a temporary folder; return its html folder."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [JUPYTER_BOOK, "build", str(ROOT), "-W", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, "jupyter-book build -W failed:\n" + result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


# The tiny run several test modules train: the paper's network at width 0.125 on 67-px crops of 72-px synthetic images,
# 4 classes, batch 32, on the CPU, quiet. He initialisation with standardised inputs (torchvision's convention), as the
# book's reduced runs use (alexnet.training.recipes), so that a few steps already lower the loss.
TINY_MODEL = {"width": 0.125, "image_size": 67, "init": "kaiming", "input_convention": "torchvision"}
TINY_DATA = {"num_images": 64, "image_size": 72, "num_classes": 4}
TINY_VAL = {"num_images": 32}
_OPTIONS = ("model_options", "dataset_options", "val_options")


@pytest.fixture(scope="session")
def tiny_config():
    """A factory of the tiny :class:`~alexnet.training.config.TrainConfig`: ``tiny_config(epochs=3, out=...)``.

    Any field can be overridden; an override of ``model_options``, ``dataset_options`` or ``val_options`` is merged
    into the tiny run's (``dataset_options={"num_images": 192}`` keeps the image size and the classes).
    """
    from alexnet.training.config import TrainConfig  # here, not at the top: torch comes after the thread count above

    base = TrainConfig(
        model_options=TINY_MODEL,
        dataset_options=TINY_DATA,
        val_options=TINY_VAL,
        epochs=1,
        batch_size=32,
        ten_crop=False,
        progress=False,
        device="cpu",
    )

    def make(**overrides) -> TrainConfig:
        fields = {name: {**getattr(base, name), **overrides.pop(name, {})} for name in _OPTIONS}  # fresh dicts
        return dataclasses.replace(base, **fields, **overrides)

    return make
