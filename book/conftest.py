"""pytest's configuration for the chapter notebooks: nbval runs them in quick mode.

The kernels that nbval starts inherit this environment. An explicit ALEXNET_QUICK=0 is kept,
for a maintainer who checks full mode on a GPU on purpose. No CPU kernels are pinned: every
output nbval compares prints the same on any CPU (trained numbers come from the claims' records
or are ignored and followed by a check).
"""

import os

os.environ.setdefault("ALEXNET_QUICK", "1")
for name in [n for n in os.environ if n.startswith("TQDM_")]:  # e.g. TQDM_DISABLE=1: the chapters' bars are theirs
    del os.environ[name]

# Under pytest-xdist (-n auto in pyproject.toml) the workers share the CPU: each worker, and the notebook
# kernels it starts, gets its share of the threads instead of all of them (2 cores, 2 workers: 1 thread each).
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1 and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // _workers))
