"""Shared fixtures: one build of the book per test session; the tests do not depend on the user's shell."""

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
