"""A claim chapter's checked outputs are the same under other CPU kernels.

The suite itself runs with whatever this machine has (AVX-512 or AVX2, its threads). This test
runs one claim chapter again through nbval with torch's kernels lowered to the default (no AVX),
oneDNN to SSE4.1 and MKL in its compatible mode: its live run then trains to other numbers, and
every output nbval compares must still be the same, since those come from the claim's record or
from checks that print one line. The chapter runs in one process (-n 0) at the thread count of the
worker that starts it. (Other thread counts, OMP_NUM_THREADS=1 and 3, are checked by
running the whole suite under them; that takes too long for every run.)
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "book" / "06_augmentation.ipynb"
OTHER_KERNELS = {
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "MKL_CBWR": "COMPATIBLE",
    "ALEXNET_QUICK": "1",
}


@pytest.mark.slow
def test_a_claim_chapter_passes_nbval_with_other_kernels():
    env = {**os.environ, **OTHER_KERNELS}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", str(CHAPTER)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"nbval of {CHAPTER.name} under {OTHER_KERNELS} failed:\n{result.stdout[-4000:]}"
